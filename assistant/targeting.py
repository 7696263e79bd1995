"""Takes one command of a parse and the words said; returns the devices it acts on.

The mapper's choice of devices: names, rooms, floors and kinds resolved against the home,
the micro-LLM's readings checked against what the utterance says outright (grounding), and
what one command of several inherits from the ones before it. Rejected (with a reason the
user hears) when no device, or no single reading, fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from assistant.config import Area, Entity
from assistant.grounding import (
    ALL_WORDS,
    EXCEPT_WORDS,
    KIND_WORDS,
    Regrounded,
    enum_said,
    kind_instead,
    kind_unsaid,
    named_instead,
    picked_by_word,
    polarity_unsaid,
    reground,
    room_and_kind,
    room_said,
    unasked,
    unknown_thing,
    unsaid_preset,
)
from assistant.resolve import DEVICE_WORDS, PICKING_SLOTS, PLURALS, NameMatch, Resolver, key
from assistant.skills import IntentKind, IntentSpec, SlotType
from assistant.slotcheck import Rejected, canonical_word, check_slots, fits, singular
from assistant.structs import ParsedIntent, SlotScalar, SlotValue

# Words that point back at what the last command acted on: "turn them off", "make it 21".
PRONOUNS = frozenset({"it", "them", "those", "these", "that", "they"})
# Device words that are also the verbs of commands: "switch them off", "lock it".
_KIND_NOUNS = frozenset(DEVICE_WORDS) - {"switch", "lock"}


class Ungrounded(Rejected):
    """A model-only command the words said do not back (nothing said "off", nothing asked)."""


class Repeat(Exception):
    """A model-only command that only says again what an earlier one did."""


def _free_words(ctx: Context, domain: SlotScalar | None) -> set[str]:
    """The utterance's words less those of the names said outright of devices of another
    kind: "lights" of "the tree lights" (a switch) names that device, not lights."""
    text = f" {ctx.text} "
    for e in ctx.mentioned:
        if e.domain == domain:
            continue
        for n in sorted((e.name, *e.aliases), key=len, reverse=True):
            text = text.replace(f" {n.lower()} ", " ")
    return set(text.split())


def kind_guessed(parsed: ParsedIntent) -> bool:
    """No device named, and the kind of device not said either: the model's guess."""
    kinds = [parsed.slots[k] for k in ("domain", "device_class") if k in parsed.slots]
    return "name" not in parsed.slots and bool(kinds) and all(
        v.start_char is None for v in kinds)


def ends(parsed: ParsedIntent) -> list[int]:
    return [v.end_char for v in parsed.slots.values() if v.end_char is not None]


def _says_all_here(parsed: ParsedIntent, ctx: Context) -> bool:
    """"lock the back door and turn off all the lights": this command's own words say
    "all", so the room of the one before is not carried over to it."""
    stops = ends(parsed)
    if not stops or not ctx.utterance:
        return False
    said = ctx.utterance[ctx.read_to:max(stops)].lower()
    return bool(set(re.findall(r"[a-z]+", said)) & ALL_WORDS)


@dataclass
class Context:
    """What the commands of one utterance share while they are mapped one by one."""

    model_only: bool = False  # the parse came from the micro-LLM, not a template
    says_all: bool = False  # the user said "all", "every", "whole house"...
    single: bool = False  # one command in the parse: a room said outright is its room
    words: set[str] = field(default_factory=set)  # the utterance's words, normalised
    text: str = ""  # and in order
    last_area: str | None = None  # area id carried to later commands without a place
    site_area: str | None = None  # area id of the microphone that heard the utterance
    previous: list[Entity] = field(default_factory=list)  # acted on by the utterance before
    utterance: str = ""  # as said: slot offsets point into it
    read_to: int = 0  # where the words of the commands before this one end in it
    spoken: list[str] = field(default_factory=list)
    mentioned: list[Entity] = field(default_factory=list)  # named outright in the utterance
    areas: list[Area] = field(default_factory=list)  # rooms named outright in the utterance
    used: set[str] = field(default_factory=set)  # entity ids an earlier command acted on
    acted: list[tuple[str, set[str]]] = field(default_factory=list)  # (intent, ids) so far
    tried: set[str] = field(default_factory=set)


class Targeter:
    """Chooses the devices of one command; `common` holds the skills' own words (`key` form),
    which never pick a device."""

    def __init__(self, resolver: Resolver, common: set[str]) -> None:
        self.resolver = resolver
        self.common = common

    def grounded(self, spec: IntentSpec, parsed: ParsedIntent, slots: dict[str, SlotScalar],
                  ctx: Context) -> tuple[ParsedIntent, dict[str, SlotScalar]]:
        """A model-only command checked against the words said: a preset or a side of a
        pair of opposites nobody said is refused; an unsaid kind of device gives way to
        the one device, or else the one kind, said; a lone command's room said outright
        is its room."""
        if (unsaid_preset(parsed, slots, ctx.words, ctx.text)
                or polarity_unsaid(spec.name, ctx.words, ctx.text)
                or unasked(spec, ctx.words, ctx.text)):
            raise Ungrounded("not understood")
        if spec.kind is IntentKind.DEVICE and "name" not in parsed.slots and not any(
                ctx.words & cues for cues in KIND_WORDS.values()):
            thing = unknown_thing(ctx.text.split(), self.resolver)
            if thing is not None:
                raise Rejected(f"unknown device: {thing}")
        if ctx.single:
            enriched = enum_said(spec, parsed, ctx.text, ctx.mentioned)
            if enriched is not parsed:
                parsed, slots = enriched, check_slots(spec, enriched, DEVICE_WORDS)
        if "name" not in parsed.slots:
            named = named_instead(spec, parsed, slots, _free_words(ctx, slots.get("domain")),
                                  ctx.mentioned, ctx.used)
            if named is None:
                named = self._room_device_by_word(spec, parsed, slots, ctx)
            if named is not None:
                parsed, slots = named, check_slots(spec, named, DEVICE_WORDS)
        instead = kind_instead(spec, parsed, slots, ctx.words, ctx.areas)
        if isinstance(instead, str):
            raise Ungrounded(instead)
        checked = instead or parsed
        room = room_said(spec, checked, ctx.areas, ctx.words) if ctx.single else None
        if room is not None:
            checked = ParsedIntent(checked.intent, {**checked.slots, "area": SlotValue(room.name)})
        if checked is parsed:
            return parsed, slots
        return checked, check_slots(spec, checked, DEVICE_WORDS)

    def _room_device_by_word(self, spec: IntentSpec, parsed: ParsedIntent,
                             slots: dict[str, SlotScalar], ctx: Context) -> ParsedIntent | None:
        """"turn the machine off in the kitchen" read as the kitchen's lights: no word of
        any kind of device was said, but a word of one device's name in that room was
        ("coffee machine"). The command on that device instead, or None."""
        domain = slots.get("domain")
        said = parsed.slots.get("domain")
        area = self.resolver.area(str(slots["area"])) if "area" in slots else None
        if (area is None or said is None or said.start_char is not None
                or not isinstance(domain, str)
                or any(ctx.words & cues for cues in KIND_WORDS.values())):
            return None  # a kind said (this one or another) is kind_instead's to weigh
        allowed = set(spec.domains)
        here = [e for e in self.resolver.exposed if e.area == area.id and e.domain != domain
                and (not allowed or e.domain in allowed)]
        picked = picked_by_word(ctx.words, here, self.resolver, self.common)
        if picked is None:
            return None
        keep = {k: v for k, v in parsed.slots.items() if k not in PICKING_SLOTS}
        return ParsedIntent(parsed.intent, {**keep, "name": SlotValue(picked.name)})

    def reground(self, spec: IntentSpec, parsed: ParsedIntent, ctx: Context,
                  failure: Rejected) -> tuple[ParsedIntent, dict[str, SlotScalar]] | None:
        """The command tied to the one device or room named outright, if that reading
        resolves; None otherwise."""
        found = reground(spec, parsed, str(failure), ctx.mentioned, ctx.areas, ctx.used,
                         room_tried="area" in ctx.tried)
        if (found is None or found.by_room) and str(failure).startswith("unknown device"):
            allowed = set(spec.domains)
            fits = {e.id for e in ctx.mentioned if not allowed or e.domain in allowed}
            if len(fits) == 1 and (spec.name, fits) in ctx.acted:
                # "star lamp off now, she's fast asleep" read as two commands, the second on
                # "fast": the one device named is already done
                raise Repeat
            pool = [e for e in self.resolver.exposed
                    if (not allowed or e.domain in allowed) and e.id not in ctx.used]
            picked = (picked_by_word(ctx.words, pool, self.resolver, self.common)
                      if "name" in spec.slots and not ctx.mentioned else None)
            if picked is not None:
                # "the bathroom is all steamed up, put the extractor on": a word of one
                # device's name ("Extractor Fan") that the model did not copy
                keep = {k: v for k, v in parsed.slots.items() if k not in PICKING_SLOTS}
                found = Regrounded(ParsedIntent(parsed.intent,
                                                {**keep, "name": SlotValue(picked.name)}),
                                   by_room=False)
        if found is None:
            return None
        if found.by_room:
            ctx.tried.add("area")
        try:
            slots = check_slots(spec, found.parsed, DEVICE_WORDS)
            self.targets(spec, found.parsed, dict(slots), replace(ctx))
        except Rejected:
            return None
        return found.parsed, slots

    def targets(self, spec: IntentSpec, parsed: ParsedIntent, slots: dict[str, SlotScalar],
                 ctx: Context) -> list[Entity]:
        r = self.resolver
        allowed = set(spec.domains)
        domain = str(slots["domain"]) if "domain" in slots else None
        device_class = str(slots["device_class"]) if "device_class" in slots else None
        area_id: str | None = None
        floor_id: str | None = None
        if "area" in slots:
            area = r.area(str(slots["area"]))
            if area is None and ctx.model_only:  # the model copied half the room's name
                area = r.area_part(str(slots["area"]))
            if area is None:
                raise Rejected(f"unknown area: {slots['area']}")
            area_id = area.id
            slots["area"] = area.name
        if "floor" in slots:
            floor = r.floor(str(slots["floor"]))
            if floor is None:
                raise Rejected(f"unknown floor: {slots['floor']}")
            floor_id = floor.id
            slots["floor"] = floor.name
        pool = [e for e in r.exposed if not allowed or e.domain in allowed]
        room_words = room_and_kind(r, str(slots["name"])) if (
            ctx.model_only and "name" in slots) else None
        if room_words is not None:
            # "the bedroom lights" copied as a name: the room's lights, as the templates read
            # it; "the blind" copied as a name when nothing is called so: a kind of device
            room, kind = room_words
            slots.pop("name")
            if room is not None:
                area_id = room.id
                slots["area"] = room.name
            if kind == "cover" and "device_class" in spec.slots:
                slots["device_class"] = device_class = canonical_word(
                    str(parsed.slots["name"].value).split()[-1].lower(), SlotType.DEVICE_CLASS,
                    (), DEVICE_WORDS)
            elif "domain" in spec.slots and kind in allowed:
                slots["domain"] = domain = kind
        if str(slots.get("name", "")).lower() in PRONOUNS:
            slots.pop("name")  # "switch them back on": the model copied the pronoun
        if ("name" not in slots and area_id is None and floor_id is None
                and (ctx.previous or ctx.acted) and spec.kind is IntentKind.DEVICE
                and ctx.words & PRONOUNS):
            # "turn on the kitchen lights" ... "turn them off": what the last command acted
            # on, of the kinds this one can act on; a kind said names its own devices ("turn
            # the lights off so that we can sleep" is every light, not the last one's)
            said_kind = any(v.start_char is not None for k in ("domain", "device_class")
                            if (v := parsed.slots.get(k)) is not None)
            # within one utterance, "it" is what the command before acted on ("skip this
            # song on the kitchen radio and turn it up")
            before = ([e for e in r.exposed if e.id in ctx.acted[-1][1]] if ctx.acted
                      else ctx.previous)
            back = [e for e in before if not allowed or e.domain in allowed]
            if domain is not None and ctx.words & KIND_WORDS.get(domain, set()):
                # "lock it": the verb names the kind too; of what came before, the locks
                back = [e for e in back if fits(e, domain, device_class)]
            if back and not said_kind and not ctx.words & _KIND_NOUNS:
                slots.pop("domain", None)
                slots.pop("device_class", None)
                if len(back) == 1:
                    slots["name"] = back[0].name
                return back
        if "name" in slots:
            spoken = str(slots["name"])
            match = r.name(spoken, {domain} if domain in allowed else allowed)
            if match is None:
                raise Rejected(f"unknown device: {spoken}")
            if ctx.model_only and ctx.single and key(spoken) not in r.by_name:
                full = {e.id: e for e in ctx.mentioned if not allowed or e.domain in allowed}
                if len(full) == 1 and not full.keys() & {e.id for e in match.entities}:
                    # "is the space heater running in the office": "office" is half of the
                    # office blind's name, but the space heater is named in full
                    match = NameMatch(tuple(full.values()))
            found = [e for e in match.entities if not allowed or e.domain in allowed]
            if not found:
                raise Rejected(f"{match.entities[0].name} can't do that")
            if area_id is not None and len(found) > 1:
                found = [e for e in found if e.area == area_id] or found
            elif ctx.site_area is not None and match.area is None and len(found) > 1:
                # two devices answer to the name: the one in the room the speaker is in
                found = [e for e in found if e.area == ctx.site_area] or found
            if match.area is None and len({e.id for e in found}) > 1 and area_id is None:
                names = " or ".join(f"the {e.name} in the {r.area_by_id[e.area].name}"
                                    if e.area in r.area_by_id else e.name for e in found)
                raise Rejected(f"ambiguous device: {names}")
            if len(found) == 1 and match.area is None:
                slots["name"] = found[0].name
            else:
                slots.pop("name")
                if match.area is not None:
                    # "the bathroom light": the room's lights, as the templates read it,
                    # even when the room has one
                    slots["area"] = match.area.name
                    area_id = match.area.id
                    if match.domain is not None and "domain" in spec.slots:
                        slots.setdefault("domain", match.domain)
            if found and found[0].area:
                ctx.last_area = found[0].area
            return found
        if area_id is None and floor_id is None and ctx.model_only:
            unused = [e for e in ctx.mentioned if e.id not in ctx.used
                      and (not allowed or e.domain in allowed) and fits(e, domain, device_class)]
            if ctx.acted and len(unused) == 1:
                # "telly off and the tree lights off": the one device named outright that
                # no command has acted on yet, not the first one's room
                slots.pop("domain", None)
                slots["name"] = unused[0].name
                return unused
        if (area_id is None and floor_id is None and ctx.last_area is None
                and ctx.site_area is not None and (domain or device_class)
                and not _says_all_here(parsed, ctx)):
            here = [e for e in pool if e.area == ctx.site_area and fits(e, domain, device_class)]
            if here and not (ctx.model_only and ctx.words and kind_unsaid(ctx.words, here)):
                # the room the speaker is in, as if they had said it ("turn off the lights",
                # "it's too dark in here"); a kind of device the model guessed is not enough
                area_id = ctx.site_area
                slots["area"] = r.area_by_id[area_id].name
        if (area_id is None and floor_id is None and ctx.last_area is not None
                and not _says_all_here(parsed, ctx)):
            carried = [e for e in pool
                       if e.area == ctx.last_area and fits(e, domain, device_class)]
            if ctx.model_only and any(name == spec.name and ids <= {e.id for e in carried}
                                      for name, ids in ctx.acted):
                raise Repeat  # the same command again, only vaguer
            if carried:
                slots["area"] = r.area_by_id[ctx.last_area].name
                return carried
        if area_id is None and floor_id is None and domain is None and device_class is None:
            raise Rejected("which device? Please name a device or a room")
        if domain is None and device_class is None and spec.kind is IntentKind.DEVICE:
            # "Turn off the kitchen" means its lights, never its locks or its heating.
            if "light" in allowed:
                domain = "light"
                slots["domain"] = domain
            elif len(allowed) == 1:
                domain = next(iter(allowed))
            else:
                raise Rejected("which device? Please name the device as well as the place")
        found = [e for e in pool if fits(e, domain, device_class)
                 and (area_id is None or e.area == area_id)
                 and (floor_id is None or r.floor_of(e) == floor_id)]
        said = parsed.slots.get("device_class") or parsed.slots.get("domain")
        named = [e for e in ctx.mentioned if e in found and e.id not in ctx.used]
        if (ctx.model_only and len(found) > 1 and len(named) == 1 and spec.kind is IntentKind.DEVICE
                and not ctx.words & EXCEPT_WORDS):
            found = named  # "night light on in the nursery": the one named, not the room's
            slots["name"] = named[0].name
        elif (said is not None and said.start_char is not None and len(found) > 1
                and singular(said.text)):
            # "the bedroom lamp": of the bedroom's lights, the one called a lamp, if just one.
            word = said.text.lower().split()[-1]
            named = [e for e in found
                     if any(word in key(n).split() for n in (e.name, *e.aliases))]
            if len(named) == 1:
                found = named
        if (area_id is None and floor_id is None and len(found) > 1 and said is not None
                and said.start_char is not None and singular(said.text)):
            # "turn off the lamp" in a house of lamps: which one? ("the lamps" means all)
            options = [f"the {e.name}" for e in found[:4]]
            listed = ", ".join(options[:-1]) + " or " + options[-1]
            raise Rejected(f"ambiguous device: which one, {listed}"
                           + (" (or another)" if len(found) > 4 else ""))
        if not found and area_id is not None:
            # A device kept per floor (a robot vacuum) serves every area on that floor.
            area_floor = r.area_by_id[area_id].floor
            found = [e for e in pool if fits(e, domain, device_class) and e.area is None
                     and e.floor is not None and e.floor == area_floor]
        if (ctx.model_only and ctx.words and area_id is None and floor_id is None and found
                and kind_unsaid(ctx.words, found)):
            raise Rejected("which device? Please name the device or the room")
        if (ctx.model_only and area_id is None and floor_id is None and len(found) > 1
                and (picked := picked_by_word(ctx.words, found, r, self.common)) is not None):
            found = [picked]  # "how cold is it outside": the one device the words name
            slots["name"] = picked.name
        if (ctx.model_only and ctx.words and not ctx.says_all and area_id is None
                and floor_id is None and len(found) > 1 and spec.kind is IntentKind.DEVICE):
            # A paraphrase model's house-wide guess may act on one device, never on many
            # ("switch it off" is not "turn off every switch"); templates may.
            raise Rejected("which one? Please name the device or the room")
        if (not found and ctx.model_only and ctx.single and area_id is not None
                and spec.kind is IntentKind.STATE):
            # "did i leave the heater in the office on": no thermostat there, but the one
            # device of the room with a word said in its name ("Space Heater"); only for a
            # question, which changes nothing
            heard = {key(w) for w in ctx.words} - r.place_words - {""}
            here = [e for e in pool if e.area == area_id
                    and heard & {w for n in (e.name, *e.aliases) for w in key(n).split()}]
            if len(here) == 1:
                found = here
                slots.pop("domain", None)
                slots.pop("device_class", None)
                slots["name"] = here[0].name
        if not found:
            what = PLURALS.get(device_class or domain or "", "devices")
            where = (f" in the {slots['area']}" if area_id else
                     f" on the {slots['floor']}" if floor_id else "")
            raise Rejected(f"no {what}{where}")
        if area_id is not None:
            ctx.last_area = area_id
        return found
