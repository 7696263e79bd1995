"""The rule-checked action mapper: a Parse in, checked actions with MQTT messages out.

Whatever produced the parse (templates or the micro-LLM), only this module decides what
is published: names must resolve to exposed entities the intent can act on, numbers must
lie in range, deny rules block, risky actions wait for a spoken "yes".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from assistant.config import Area, Config, Entity
from assistant.grounding import (
    ALL_WORDS,
    CANCEL_WORDS,
    EXCEPT_WORDS,
    KIND_WORDS,
    UNLOCK_WORDS,
    Regrounded,
    bare_question,
    elsewhere,
    enum_said,
    kind_instead,
    kind_unsaid,
    mentions,
    named_instead,
    picked_by_word,
    polarity_unsaid,
    reground,
    room_and_kind,
    room_said,
    shared_number,
    unasked,
    unknown_thing,
    unsaid_preset,
)
from assistant.payload import PayloadError, render_payload, render_topic
from assistant.repairs import skill_words
from assistant.replies import rejection_speech, setting
from assistant.resolve import DEVICE_WORDS, PICKING_SLOTS, PLURALS, NameMatch, Resolver, key
from assistant.safety import judge
from assistant.skills import IntentKind, IntentSpec, SkillSet, SlotType
from assistant.slotcheck import (
    Rejected,
    States,
    canonical_word,
    check_limits,
    check_slots,
    fits,
    fmt,
    pick_rule,
    relative_slots,
    singular,
)
from assistant.speech import answer_state, answer_temperature, describe_targets, say
from assistant.structs import (
    Action,
    Engine,
    Message,
    Parse,
    ParsedIntent,
    SlotScalar,
    SlotValue,
    Status,
)
from assistant.textnorm import normalize


@dataclass(frozen=True)
class Mapped:
    """The mapper's verdict on one utterance."""

    status: Status
    reason: str | None = None
    actions: tuple[Action, ...] = ()  # to publish now
    pending: tuple[Action, ...] = ()  # waiting for a "yes"
    speech: str = ""
    question: str | None = None
    control: IntentKind | None = None  # nevermind / confirm / cancel: the pipeline acts


class _Ungrounded(Rejected):
    """A model-only command the words said do not back (nothing said "off", nothing asked)."""


class _Repeat(Exception):
    """Internal: a model-only command that only says again what an earlier one did."""


def _place_said_first(parse: Parse) -> Parse:
    """"in the bathroom, turn on the light and the fan": a room said before every command
    is the room of each command that names no place or device of its own."""
    if len(parse.intents) < 2:
        return parse
    starts = [min((v.start_char for v in p.slots.values() if v.start_char is not None),
                  default=None) for p in parse.intents]
    # read as a later command's room, yet said before the first command's words
    lead = [p.slots["area"] for p in parse.intents[1:] if "area" in p.slots
            and (at := p.slots["area"].start_char) is not None
            and starts[0] is not None and at < starts[0]]
    if len(lead) != 1:
        return parse
    return replace(parse, intents=tuple(
        p if p.slots.keys() & {"area", "floor", "name"}
        else ParsedIntent(p.intent, {**p.slots, "area": lead[0]}) for p in parse.intents))


def _free_words(ctx: _Context, domain: SlotScalar | None) -> set[str]:
    """The utterance's words less those of the names said outright of devices of another
    kind: "lights" of "the tree lights" (a switch) names that device, not lights."""
    text = f" {ctx.text} "
    for e in ctx.mentioned:
        if e.domain == domain:
            continue
        for n in sorted((e.name, *e.aliases), key=len, reverse=True):
            text = text.replace(f" {n.lower()} ", " ")
    return set(text.split())


def _kind_guessed(parsed: ParsedIntent) -> bool:
    """No device named, and the kind of device not said either: the model's guess."""
    kinds = [parsed.slots[k] for k in ("domain", "device_class") if k in parsed.slots]
    return "name" not in parsed.slots and bool(kinds) and all(
        v.start_char is None for v in kinds)


def _ends(parsed: ParsedIntent) -> list[int]:
    return [v.end_char for v in parsed.slots.values() if v.end_char is not None]


def _says_all_here(parsed: ParsedIntent, ctx: _Context) -> bool:
    """"lock the back door and turn off all the lights": this command's own words say
    "all", so the room of the one before is not carried over to it."""
    ends = _ends(parsed)
    if not ends or not ctx.utterance:
        return False
    said = ctx.utterance[ctx.read_to:max(ends)].lower()
    return bool(set(re.findall(r"[a-z]+", said)) & ALL_WORDS)


@dataclass
class _Context:
    model_only: bool = False  # the parse came from the micro-LLM, not a template
    says_all: bool = False  # the user said "all", "every", "whole house"...
    single: bool = False  # one command in the parse: a room said outright is its room
    words: set[str] = field(default_factory=set)  # the utterance's words, normalised
    text: str = ""  # and in order
    last_area: str | None = None  # area id carried to later commands without a place
    utterance: str = ""  # as said: slot offsets point into it
    read_to: int = 0  # where the words of the commands before this one end in it
    spoken: list[str] = field(default_factory=list)
    mentioned: list[Entity] = field(default_factory=list)  # named outright in the utterance
    areas: list[Area] = field(default_factory=list)  # rooms named outright in the utterance
    used: set[str] = field(default_factory=set)  # entity ids an earlier command acted on
    acted: list[tuple[str, set[str]]] = field(default_factory=list)  # (intent, ids) so far
    tried: set[str] = field(default_factory=set)


class Mapper:
    def __init__(self, skills: SkillSet, config: Config) -> None:
        self.skills = skills
        self.config = config
        self.resolver = Resolver(config)
        # words of commands, never of one device's name (compared in `key` form)
        self.common = {key(w) for w in skill_words(config)}

    def map(self, parse: Parse, states: States | None = None,
            now: dt.datetime | None = None, utterance: str = "") -> Mapped:
        if not parse.intents:
            reason = parse.reason or "not understood"
            return Mapped(Status.REJECTED, reason, speech=rejection_speech(reason))
        states = states or {}
        now = now or dt.datetime.now()
        text = normalize(utterance).text
        words = set(text.split())
        ctx = _Context(model_only=parse.engine is not Engine.RULES,
                       says_all=bool(words & ALL_WORDS), words=words, text=text,
                       utterance=utterance)
        if ctx.model_only and utterance:
            ctx.mentioned, ctx.areas = mentions(self.resolver, utterance)
            # the model sometimes says one command twice ("nightstand lamp a little dimmer")
            seen = [(p.intent, {k: v.value for k, v in p.slots.items()}) for p in parse.intents]
            once = [p for i, p in enumerate(parse.intents) if seen[i] not in seen[:i]]
            parse = replace(parse, intents=tuple(once))
            ctx.single = len(once) == 1
            if shared_number(self.skills.specs, once, utterance):
                return Mapped(Status.REJECTED, "not understood",
                              speech=rejection_speech("not understood"))
        done: list[Action] = []
        pending: list[Action] = []
        question: str | None = None
        kinds = [self.skills.specs[p.intent].kind if p.intent in self.skills.specs else None
                 for p in parse.intents]
        if ctx.model_only and ctx.words and IntentKind.NEVERMIND in kinds \
                and not ctx.words & CANCEL_WORDS:
            # "wait a second" read as taking a command back: no word of it takes anything back
            keep = [(p, k) for p, k in zip(parse.intents, kinds, strict=True)
                    if k is not IntentKind.NEVERMIND]
            if not keep:
                return Mapped(Status.REJECTED, "not understood",
                              speech=rejection_speech("not understood"))
            parse = replace(parse, intents=tuple(p for p, _ in keep))
            kinds = [k for _, k in keep]
        if IntentKind.NEVERMIND in kinds:
            # "turn on the lamp and, uh, never mind": the user took it back.
            return Mapped(Status.OK, control=IntentKind.NEVERMIND, speech="Okay.",
                          actions=(Action("HassNevermind", {}, (), ()),))
        controls = [k for k in kinds if k in (IntentKind.CONFIRM, IntentKind.CANCEL)]
        if controls and len(parse.intents) > 1:
            if len(controls) == len(kinds):
                return Mapped(Status.REJECTED, "not understood",
                              speech="Sorry, was that a yes or a no?")
            parse = Parse(tuple(p for p, k in zip(parse.intents, kinds, strict=True)
                                if k not in (IntentKind.CONFIRM, IntentKind.CANCEL)),
                          parse.engine, parse.confidence)  # "yes" inside a command: no answer
        parse = _place_said_first(parse)
        asks = ctx.model_only and bare_question(utterance)
        dropped = 0
        for parsed in parse.intents:
            spec = self.skills.specs.get(parsed.intent)
            if spec is not None and asks and spec.kind is IntentKind.DEVICE:
                # A question the model read as a command: asking never changes the home.
                return Mapped(Status.REJECTED, "not a command",
                              speech=rejection_speech("not a command"))
            if spec is None:
                return Mapped(Status.REJECTED, f"unknown intent: {parsed.intent}",
                              speech="Sorry, I can't do that.")
            if spec.kind in (IntentKind.CONFIRM, IntentKind.CANCEL):
                return Mapped(Status.OK, control=spec.kind, speech=spec.response,
                              actions=(Action(spec.name, {}, (), ()),))
            try:
                action, risky_reason = self._one(spec, parsed, states, now, ctx)
                ctx.read_to = max([ctx.read_to, *_ends(parsed)])
            except _Repeat:
                continue
            except _Ungrounded as exc:
                if len(parse.intents) == 1:
                    return Mapped(Status.REJECTED, str(exc), speech=rejection_speech(str(exc)))
                dropped += 1  # a remark read as a command ("..., we're watching a film")
                continue
            except Rejected as exc:
                return Mapped(Status.REJECTED, str(exc), speech=rejection_speech(str(exc)))
            if ctx.model_only and any(a.intent == action.intent and a.targets == action.targets
                                      and a.messages == action.messages
                                      for a in (*done, *pending)):
                continue  # the same effect twice ("hold on, pause the telly"): once is meant
            if risky_reason is not None:
                pending.append(action)
                question = question or (
                    f"Do you want me to {risky_reason} "
                    f"{describe_targets(self._entities(action.targets))}? Say yes or no.")
            else:
                done.append(action)
        if dropped and not done and not pending:
            return Mapped(Status.REJECTED, "not understood",
                          speech=rejection_speech("not understood"))
        speech = " ".join([*(s for s in ctx.spoken if s),
                           *(["I didn't catch the rest."] if dropped else [])])
        if pending:
            return Mapped(Status.CONFIRM, "needs confirmation", tuple(done), tuple(pending),
                          speech=(speech + " " + (question or "")).strip(), question=question)
        return Mapped(Status.OK, None, tuple(done), speech=speech)

    def _entities(self, ids: tuple[str, ...]) -> list[Entity]:
        return [e for i in ids if (e := self.config.entity(i)) is not None]

    # --- one command ----------------------------------------------------------------

    def _one(self, spec: IntentSpec, parsed: ParsedIntent, states: States,
             now: dt.datetime, ctx: _Context) -> tuple[Action, str | None]:
        slots = check_slots(spec, parsed, DEVICE_WORDS)
        if ctx.model_only and ctx.words:
            parsed, slots = self._grounded(spec, parsed, slots, ctx)
        if spec.requires and not any(name in slots for name in spec.requires):
            raise Rejected("nothing to set: say " + " or ".join(
                n.replace("_", " ") for n in spec.requires))
        if spec.kind is IntentKind.TIME:
            ctx.spoken.append(say(spec.response, time=now.strftime("%-I:%M %p")))
            return Action(spec.name, slots, (), ()), None
        if spec.kind is IntentKind.DATE:
            ctx.spoken.append(say(spec.response, date=now.strftime("%A, %B %-d, %Y")))
            return Action(spec.name, slots, (), ()), None
        try:
            targets = self._targets(spec, parsed, slots, ctx)
        except Rejected as exc:
            regrounded = self._reground(spec, parsed, ctx, exc) if ctx.model_only else None
            if regrounded is None and ctx.model_only and str(exc).startswith("no ") and (
                    spec.kind is IntentKind.STATE or (not ctx.single and _kind_guessed(parsed))):
                # "the office is warm enough now, switch off the space heater": a remark read
                # as a question about a room with nothing to ask (asking changes nothing);
                # "it's cold in the study, switch the space heater on": a remark read as a
                # command for a kind of device nobody named, and the room has none
                raise _Ungrounded(str(exc)) from None
            if regrounded is None:
                raise
            parsed, slots = regrounded
            targets = self._targets(spec, parsed, slots, ctx)
        if ctx.model_only and ctx.single and len(ctx.areas) == 1 and "area" not in slots \
                and elsewhere(targets, ctx.areas[0]):
            raise Rejected(f"no {describe_targets(targets)} in the {ctx.areas[0].name}")
        if (ctx.model_only and ctx.words and spec.name == "HassTurnOff"
                and any(e.domain == "lock" for e in targets) and not ctx.words & UNLOCK_WORDS):
            raise _Ungrounded("not understood")  # unlocking is never guessed from "off"
        ctx.used.update(e.id for e in targets)
        ctx.acted.append((spec.name, {e.id for e in targets}))
        if spec.kind is IntentKind.STATE:
            if spec.name == "HassClimateGetTemperature":
                ctx.spoken.append(answer_temperature(targets, states))
            else:
                ctx.spoken.append(answer_state(targets, states, slots.get("state")))
            return Action(spec.name, slots, tuple(e.id for e in targets), ()), None
        per_target = {e.id: slots for e in targets}
        if spec.relative is not None:
            per_target = relative_slots(spec, targets, slots, states)
            values = {str(s[spec.relative.slot]) for s in per_target.values()}
            if len(values) == 1:  # one shared new value: report it like an absolute set
                slots = next(iter(per_target.values()))
        for e in targets:
            check_limits(spec, [e], per_target[e.id])
        verdict = judge(self.config, spec, targets, slots)
        if verdict.denied is not None:
            raise Rejected(verdict.denied.reason or f"{spec.name} on "
                           f"{describe_targets(targets)} is not allowed by voice")
        messages: list[Message] = []
        replies: list[str] = []
        for entity in targets:
            rule = pick_rule(spec, entity, slots)
            if rule is None or (not rule.payload and not entity.payloads.get(spec.name)):
                why = (rule.say if rule is not None and rule.say else
                       f"{entity.name} can't do that")
                raise Rejected(say(why, targets=describe_targets([entity])))
            try:
                payload = render_payload(entity.payloads.get(spec.name) or rule.payload,
                                         per_target[entity.id])
            except PayloadError as exc:
                raise Rejected(f"{entity.name}: {exc}") from None
            topic = render_topic(entity, rule.topic)
            messages.append(Message(topic, payload))
            replies.append(rule.say or spec.response)
        template = replies[0] if replies and len(set(replies)) == 1 else spec.response
        if spec.relative is not None and spec.relative.slot not in slots:
            way = "up" if spec.relative.step > 0 else "down"
            template = f"Turned {{targets}} {way} by {fmt(abs(spec.relative.step))}."
        done = say(template, targets=describe_targets(targets), setting=setting(spec, slots),
                   **slots)
        action = Action(spec.name, slots, tuple(e.id for e in targets), tuple(messages),
                        risky=verdict.risky is not None, speech=done)
        if verdict.risky is None:
            ctx.spoken.append(done)
            return action, None
        return action, verdict.risky.reason or "go ahead with"

    def _grounded(self, spec: IntentSpec, parsed: ParsedIntent, slots: dict[str, SlotScalar],
                  ctx: _Context) -> tuple[ParsedIntent, dict[str, SlotScalar]]:
        """A model-only command checked against the words said: a preset or a side of a
        pair of opposites nobody said is refused; an unsaid kind of device gives way to
        the one device, or else the one kind, said; a lone command's room said outright
        is its room."""
        if (unsaid_preset(parsed, slots, ctx.words, ctx.text)
                or polarity_unsaid(spec.name, ctx.words)
                or unasked(spec, ctx.words)):
            raise _Ungrounded("not understood")
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
            if named is not None:
                parsed, slots = named, check_slots(spec, named, DEVICE_WORDS)
        instead = kind_instead(spec, parsed, slots, ctx.words, ctx.areas)
        if isinstance(instead, str):
            raise _Ungrounded(instead)
        checked = instead or parsed
        room = room_said(spec, checked, ctx.areas, ctx.words) if ctx.single else None
        if room is not None:
            checked = ParsedIntent(checked.intent, {**checked.slots, "area": SlotValue(room.name)})
        if checked is parsed:
            return parsed, slots
        return checked, check_slots(spec, checked, DEVICE_WORDS)

    def _reground(self, spec: IntentSpec, parsed: ParsedIntent, ctx: _Context,
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
                raise _Repeat
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
            self._targets(spec, found.parsed, dict(slots), replace(ctx))
        except Rejected:
            return None
        return found.parsed, slots

    def _targets(self, spec: IntentSpec, parsed: ParsedIntent, slots: dict[str, SlotScalar],
                 ctx: _Context) -> list[Entity]:
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
        if (area_id is None and floor_id is None and ctx.last_area is not None
                and not _says_all_here(parsed, ctx)):
            carried = [e for e in pool
                       if e.area == ctx.last_area and fits(e, domain, device_class)]
            if ctx.model_only and any(name == spec.name and ids <= {e.id for e in carried}
                                      for name, ids in ctx.acted):
                raise _Repeat  # the same command again, only vaguer
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
        if not found:
            what = PLURALS.get(device_class or domain or "", "devices")
            where = (f" in the {slots['area']}" if area_id else
                     f" on the {slots['floor']}" if floor_id else "")
            raise Rejected(f"no {what}{where}")
        if area_id is not None:
            ctx.last_area = area_id
        return found
