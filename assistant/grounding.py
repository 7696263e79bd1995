"""Takes a model-only parse and the words of its utterance; returns whether they back it.

Templates match words, so their parses are grounded by construction. The micro-LLM may
guess a preset, a kind of device or a name nobody said, or copy half a name; the mapper
checks each of its parses against what the utterance says outright, with these helpers.
They are pure: the mapper decides what a failed check means.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass

from assistant.config import Area, Entity
from assistant.resolve import DEVICE_WORDS, PICKING_SLOTS, Resolver, key
from assistant.skills import ANSWER_LEADS, IntentKind, IntentSpec, SlotType
from assistant.structs import ParsedIntent, SlotScalar, SlotValue
from assistant.textnorm import normalize

MAX_NAME_WORDS = 4  # longest device or room name looked for in an utterance
# First words of a question ("is it cold in the bedroom"), not of a request ("can you ...").
QUESTION_WORDS = frozenset({"is", "are", "was", "were", "has", "did", "does", "isn't",
                            "aren't", "didn't", "doesn't", "where", "where's", "what",
                            "what's", "how", "how's", "why", "when", "who"})
# Failures a model-only command may recover from by a name said outright in the utterance.
REGROUND_REASONS = ("unknown area", "unknown floor", "unknown device", "which one",
                    "which device", "ambiguous device")
ALL_WORDS = frozenset({"all", "every", "everything", "everywhere", "whole", "entire", "house",
                       "both"})
# A model-only "turn off" of a lock unlocks it: one of these must have been said ("switch
# off every light and lock both doors" must never unlock them).
UNLOCK_WORDS = frozenset({"unlock", "unlocked", "unlocking", "un", "unbolt", "open"})
# Preset values a template implies ("close" -> position 0): a model-only parse must have
# one of these words in the utterance (or the number itself) to use the preset.
PRESET_WORDS: dict[tuple[str, SlotScalar | None], set[str]] = {
    ("position", 0): {"close", "closed", "shut", "lower", "down", "draw", "pull", "roll",
                      "off", "stop", "enough"},  # the last three: water valves
    ("position", 100): {"open", "opened", "raise", "up", "lift", "roll", "on", "start",
                        "going"},
    ("position", 50): {"half", "halfway"},
}
# Phrases that say a preset although their words belong to another ("draw back").
PRESET_PHRASES: dict[tuple[str, SlotScalar | None], tuple[str, ...]] = {
    ("position", 100): ("draw back", "pull back", "draw open", "pull open", "roll up",
                        "pull up"),
    ("position", 0): ("roll down", "pull down", "pull shut", "draw shut"),
}
# Words that name (or clearly imply) a kind of device: a model-only command that names no
# device and no place must still contain one for the kind it acts on.
KIND_WORDS = {
    "light": {"light", "lights", "lamp", "lamps", "lighting", "bulb", "bulbs", "bright",
              "dark", "brighter", "dimmer", "dim"},
    "switch": {"plug", "plugs", "socket", "sockets", "outlet", "outlets", "switches"},
    "fan": {"fan", "fans"},
    "cover": {"blind", "blinds", "shade", "shades", "curtain", "curtains", "drapes", "garage",
              "window", "windows", "shutter", "shutters", "skylight"},
    "lock": {"lock", "locks", "door", "doors", "deadbolt", "locked", "unlocked"},
    "climate": {"heating", "heat", "heater", "thermostat", "thermostats", "radiator",
                "radiators", "temperature", "warm", "warmer", "cold", "colder", "hot", "cool",
                "cooler", "chilly", "freezing", "degrees"},
    "media_player": {"tv", "television", "telly", "music", "song", "songs", "track", "speaker",
                     "speakers", "radio", "volume", "sound", "movie", "film", "show", "stereo",
                     "louder", "quieter", "softer", "loud", "quiet", "playing", "podcast"},
    "vacuum": {"vacuum", "vacuuming", "hoover", "hoovering", "robot", "roomba", "cleaning",
               "clean", "dock", "floors"},
    "valve": {"water", "sprinkler", "sprinklers", "valve", "irrigation", "watering"},
    "sensor": {"temperature", "hot", "cold", "warm", "degrees"},
    "binary_sensor": {"window", "door", "open", "closed"},
}


@dataclass(frozen=True)
class Regrounded:
    """A model-only command tied to what the utterance names outright."""

    parsed: ParsedIntent
    by_room: bool  # tied to the one room named, not to one device


def mentions(resolver: Resolver, utterance: str) -> tuple[list[Entity], list[Area]]:
    """Devices and rooms whose whole name or alias occurs in the utterance; a name
    inside a longer one that also occurs ("light" in "porch light") does not count."""
    words = normalize(utterance).text.split()
    spans: list[tuple[int, int, list[Entity]]] = []
    areas: dict[str, Area] = {}
    for n in range(MAX_NAME_WORDS, 0, -1):
        for i in range(len(words) - n + 1):
            k = key(" ".join(words[i:i + n]))
            if any(a <= i and i + n <= b for a, b, _ in spans):
                continue
            said = words[i + n - 1]
            named = [e for e in resolver.by_name.get(k, ())
                     if any(a.lower().split()[-1] == said for a in (e.name, *e.aliases))]
            if named:  # "kids room lights" is the room's lights, not "Kids Room Light"
                spans.append((i, i + n, named))
            area = resolver.areas.get(k)
            if area is not None:
                areas[area.id] = area
    found = {e.id: e for _, _, ents in spans for e in ents}
    return list(found.values()), list(areas.values())


def bare_question(utterance: str) -> bool:
    """One clause that opens like a question: "is the nursery warm enough"."""
    words = normalize(utterance).text.split()
    return (bool(words) and words[0] in QUESTION_WORDS and "," not in utterance
            and not {"and", "then", "so", "please"} & set(words))


def unsaid_preset(parsed: ParsedIntent, slots: Mapping[str, SlotScalar],
                  words: Set[str], text: str = "") -> bool:
    """A preset value ("close" -> position 0) that no word of the utterance implies, or
    that a phrase of it contradicts ("draw back the curtains" opens them)."""
    def said(phrases: Iterable[str]) -> bool:
        return any(f" {phrase} " in f" {text} " for phrase in phrases)

    for name, sv in parsed.slots.items():
        value = slots.get(name)
        cue = PRESET_WORDS.get((name, value))
        if cue is None or sv.start_char is not None:
            continue
        mine = said(PRESET_PHRASES.get((name, value), ()))
        others = said(p for (slot, v), ps in PRESET_PHRASES.items()
                      if slot == name and v != value for p in ps)
        if others and not mine:
            return True
        if not words & cue and str(value) not in words and not mine:
            return True
    return False


def kind_unsaid(words: Set[str], found: Iterable[Entity]) -> bool:
    """No word of the utterance names the kind of any of the devices found."""
    return not any(words & KIND_WORDS.get(e.domain, set()) for e in found)


def room_and_kind(resolver: Resolver, spoken: str) -> tuple[Area | None, str] | None:
    """A known room then a plural device word ("dining room lights"): the room and the kind;
    a bare device word that names no device ("blind"): no room, and the kind."""
    words = [w for w in normalize(spoken).text.split() if w not in ("the", "my", "our", "a")]
    if not words or words[-1] not in DEVICE_WORDS:
        return None
    if len(words) == 1:
        return (None, DEVICE_WORDS[words[0]]) if resolver.name(words[0]) is None else None
    if not words[-1].endswith("s"):
        return None
    room = resolver.area(" ".join(words[:-1]))
    return (room, DEVICE_WORDS[words[-1]]) if room is not None else None


def named_instead(spec: IntentSpec, parsed: ParsedIntent, slots: Mapping[str, SlotScalar],
                  words: Set[str], mentioned: Iterable[Entity],
                  used: Set[str]) -> ParsedIntent | None:
    """"switch the tv on in the living room" read as the room's lights: no word of the
    utterance says lights, but it names one device of another kind outright. The command
    on that device instead, or None."""
    said = parsed.slots.get("domain")
    domain = slots.get("domain")
    if (said is None or said.start_char is not None or not isinstance(domain, str)
            or words & KIND_WORDS.get(domain, set())):
        return None
    allowed = set(spec.domains)
    others = {e.id: e for e in mentioned if e.domain != domain and e.id not in used
              and (not allowed or e.domain in allowed)}
    if len(others) != 1:
        return None
    entity = next(iter(others.values()))
    keep = {k: v for k, v in parsed.slots.items()
            if k not in PICKING_SLOTS}
    return ParsedIntent(parsed.intent, {**keep, "name": SlotValue(entity.name)})


def reground(spec: IntentSpec, parsed: ParsedIntent, failure: str,
             mentioned: list[Entity], areas: list[Area], used: Set[str],
             room_tried: bool) -> Regrounded | None:
    """A model-only command whose place or device did not resolve, tied instead to the
    one device (or else the one room) the utterance names outright; None when there
    is no such single reading. The model often copies half a name ("porch" of "porch
    light") or only the kind of device ("the thermostat"); the words are still there."""
    if not failure.startswith(REGROUND_REASONS):
        return None
    allowed = set(spec.domains)
    fits = [e for e in mentioned if (not allowed or e.domain in allowed) and e.id not in used]
    base = {k: v for k, v in parsed.slots.items() if k not in ("name", "area", "floor")}
    room_first = failure.startswith("unknown area") and len(areas) == 1
    if len({e.id for e in fits}) == 1 and "name" in spec.slots and not room_first:
        entity = fits[0]
        return Regrounded(ParsedIntent(parsed.intent, {**base, "name": SlotValue(entity.name)}),
                          by_room=False)
    if len(areas) == 1 and "area" in spec.slots and not room_tried:
        keep = {k: v for k, v in parsed.slots.items() if k not in ("area", "floor")}
        return Regrounded(ParsedIntent(parsed.intent, {**keep, "area": SlotValue(areas[0].name)}),
                          by_room=True)
    return None


# An action of these intents, read by the model alone, must have one of these words in its
# utterance: their opposites are said in the same places ("i need the big light" is not an
# order to turn it off), and the model sometimes picks the wrong one of a pair.
POLARITY_WORDS: dict[str, frozenset[str]] = {
    "HassTurnOff": frozenset({"off", "of", "out", "shut", "kill", "disable", "deactivate",
                              "cut", "stop", "douse", "extinguish", "bright", "anymore",
                              "longer", "enough", "done", "unlock", "unlocking", "unlocked",
                              "un", "no", "nobody", "don't", "doesn't", "dont", "doesnt",
                              "needn't"}),  # "of", "un": as a recogniser hears "off", "unlock"
    "HassVacuumReturnToBase": frozenset({"dock", "base", "home", "back", "return", "charger",
                                         "charging", "charge", "stop", "off", "park", "done",
                                         "enough", "finish", "finished"}),
}
# Words that turn a room named in a command into the one place it does not apply to.
EXCEPT_WORDS = frozenset({"except", "but", "apart", "besides", "other", "not", "outside"})
_EXCEPT = re.compile(r"\b(?:except|but not|apart from|other than|besides|excluding|"
                     r"not including)\b", re.IGNORECASE)


def excepted(parsed: ParsedIntent, utterance: str) -> bool:
    """The device or place the command would act on was said after "except", "but not",
    "apart from": "switch off everything except the porch light" must not switch it off."""
    m = _EXCEPT.search(utterance)
    return m is not None and any(
        v.start_char is not None and v.start_char >= m.end()
        for k in ("name", "area", "floor") if (v := parsed.slots.get(k)) is not None)


def polarity_unsaid(intent: str, words: Set[str], text: str = "") -> bool:
    """An intent of a pair of opposites with no word of its own side in the utterance."""
    cues = POLARITY_WORDS.get(intent)
    if cues is None:
        return False
    said = text.split()
    # "no turn on the garage light": the "no" answers a question, it is not "off"
    if len(said) > 1 and said[0] in ANSWER_LEADS and said[0] not in said[1:]:
        words = words - {said[0]}
    return not words & cues


def kind_instead(spec: IntentSpec, parsed: ParsedIntent, slots: Mapping[str, SlotScalar],
                 said_words: Set[str], areas: Iterable[Area]) -> ParsedIntent | str | None:
    """"switch the speaker in the kitchen on" read as the kitchen's lights: the kind of
    device the model chose was never said, another one was. That kind instead if the
    intent can act on it (a ParsedIntent), "not understood" if not, None if the kind
    holds or nothing contradicts it. Words of a room's name ("garage") name no kind."""
    said = parsed.slots.get("domain")
    domain = slots.get("domain")
    if said is None or said.start_char is not None or not isinstance(domain, str):
        return None
    in_names = {w for a in areas for n in (a.name, *a.aliases) for w in key(n).split()}
    words = {w.removesuffix("'s") for w in said_words} - in_names
    if words & KIND_WORDS.get(domain, set()):
        return None
    named = {d for d, cues in KIND_WORDS.items() if words & cues} - {"sensor", "binary_sensor"}
    if not named:
        return None
    allowed = set(spec.domains)
    fits = {d for d in named if not allowed or d in allowed}
    if len(fits) != 1 or len(named) != 1:
        return "not understood"
    return ParsedIntent(parsed.intent, {**parsed.slots, "domain": SlotValue(fits.pop())})


def room_said(spec: IntentSpec, parsed: ParsedIntent, areas: list[Area],
              words: Set[str]) -> Area | None:
    """The one room the utterance names outright, when the model's single command kept no
    place and names no device: "bedroom temperature please" asks about the bedroom."""
    if (len(areas) != 1 or "area" not in spec.slots or words & EXCEPT_WORDS
            or {"area", "floor", "name"} & set(parsed.slots)):
        return None
    return areas[0]


def elsewhere(targets: Iterable[Entity], room: Area) -> bool:
    """Devices all kept in rooms other than the one the utterance names ("the bedroom
    tv" when the only tv is in the living room)."""
    placed = [e for e in targets if e.area is not None]
    return bool(placed) and all(e.area != room.id for e in placed)


# Words that make an utterance a request about the home, with QUESTION_WORDS and the words
# of kinds of devices (KIND_WORDS, DEVICE_WORDS: "it's too dark in here" asks for light):
# command verbs and the words that say what a command does. A model-only reading that fails
# on its devices in an utterance with none of them was not a request: "you're pretty clever
# for a box" asks nothing of a device called "box", "do you have any friends" nothing at all.
REQUEST_WORDS = frozenset({
    "turn", "switch", "set", "open", "close", "shut", "lock", "unlock", "dim", "brighten",
    "start", "stop", "pause", "resume", "play", "activate", "raise", "lower", "kill",
    "toggle", "flip", "vacuum", "clean", "dock", "put", "power", "make", "run", "change",
    "mute", "unmute", "skip", "increase", "decrease", "boost", "crank", "bump", "adjust",
    "on", "off", "up", "down", "please", "can", "could", "would", "will", "check", "status",
    "state", "tell", "show"})


_ADDRESSING = REQUEST_WORDS | QUESTION_WORDS | set(DEVICE_WORDS) | {
    w for kind in KIND_WORDS.values() for w in kind}


def addressed(words: Set[str]) -> bool:
    """The utterance asks something or asks for something (see REQUEST_WORDS)."""
    return bool(words & _ADDRESSING)


# A question about a device's state opens or is phrased like one; a model-only state query
# without any of these words (or, for temperatures, a word about warmth) was not asked.
ASKING_WORDS = QUESTION_WORDS | {"status", "state", "check", "tell", "whether", "if", "know",
                                 "still", "left", "any", "anything", "all"}


TIME_WORDS = frozenset({"time", "clock", "o'clock", "oclock", "late", "hour"})
# "time" in these says nothing about the clock: "are you listening all the time", "it's
# about time", "time for bed" do not ask what time it is.
_TIME_IDIOMS = re.compile(
    r"\b(?:all the|about|on|in|every|last|next|this|that|some|any|first|long|a|at the|"
    r"spare|free|bed|good|hard|great|whole) time\b|\btime (?:to|for)\b|\bbedtime\b")
DATE_WORDS = frozenset({"date", "day", "month", "year", "weekday", "today's"})
_WHAT = frozenset({"what", "what's", "whats", "which"})
# A model-only "never mind" must have one of these: "wait a second" or "mind the gap" is
# not the user taking a command back.
CANCEL_WORDS = frozenset({"never", "nevermind", "forget", "cancel", "stop", "abort", "nothing",
                          "ignore", "scratch", "oops", "sorry", "wrong", "mistake", "wasn't",
                          "not", "don't", "dont", "no", "leave"})


# A model-only "yes" must say yes: it may unlock a door or open the garage that waits for
# one ("is it on" was read as a yes and unlocked the front door).
YES_WORDS = frozenset({"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "correct",
                       "affirmative", "confirm", "confirmed", "absolutely", "course", "right",
                       "ahead"})


# Words that may come with a yes ("yeah go on then", "sure thing", "of course you can");
# any other word makes it something else: "okay google" is no answer to us.
_ASSENT = YES_WORDS | {"please", "go", "on", "then", "do", "it", "that", "that's", "thing",
                       "i", "i'm", "am", "fine", "alright", "all", "away", "now", "let's",
                       "lets", "you", "can", "bet", "of", "definitely", "for", "sir", "mate"}


def affirmed(text: str) -> bool:
    """The (normalised) utterance says yes and nothing else: "is that okay" asks, "okay
    google" speaks to another assistant."""
    words = text.split()
    return (bool(set(words) & YES_WORDS) and set(words) <= _ASSENT
            and words[0] not in QUESTION_WORDS)


def unasked(spec: IntentSpec, words: Set[str], text: str = "") -> bool:
    """A state query ("is the porch light on") read from words that ask nothing; the time
    asked with no word of time ("is this thing on", "it's about time"), the date with no
    word of dates that is asked about ("have a nice day", "how are you doing today")."""
    if spec.kind is IntentKind.TIME:
        if text:
            words = set(_TIME_IDIOMS.sub(" ", text).split())
        return not words & TIME_WORDS
    if spec.kind is IntentKind.DATE:
        asked = bool(words & DATE_WORDS and words & (ASKING_WORDS | {"remind"}))
        return not asked and not ("today" in words and words & _WHAT)
    if spec.kind is not IntentKind.STATE:
        return False
    if "temperature" in spec.name.lower():
        # a temperature is asked about in words of warmth: "what's on in the kitchen" asks
        # nothing about degrees
        return not words & (KIND_WORDS["climate"] | KIND_WORDS["sensor"])
    return not words & ASKING_WORDS


def enum_said(spec: IntentSpec, parsed: ParsedIntent, text: str,
              mentioned: Iterable[Entity]) -> ParsedIntent:
    """A lone command's value said outright that the model left out ("floor lamp red at
    thirty percent" read without the red): put back when exactly one value of the slot's
    list is in the utterance and it is not part of a device's name."""
    if spec.kind is not IntentKind.DEVICE:
        return parsed
    padded = f" {text} "
    names = " ".join(key(n) for e in mentioned for n in (e.name, *e.aliases))
    added = dict(parsed.slots)
    for name, slot in spec.slots.items():
        if slot.type is not SlotType.ENUM or name in parsed.slots or not slot.values:
            continue
        found = [v for v in slot.values if f" {v.lower()} " in padded
                 and f" {v.lower()} " not in f" {names} "]
        found = [v for v in found if not any(v != w and v.lower() in w.lower() for w in found)]
        if len(found) == 1:
            added[name] = SlotValue(found[0])
    return parsed if len(added) == len(parsed.slots) else ParsedIntent(parsed.intent, added)


_ARTICLES = frozenset({"the", "my", "a", "an", "our"})


def unknown_thing(words: list[str], resolver: Resolver) -> str | None:
    """The first word after an article, when it names nothing in this home and no kind of
    device ("turn on the humidifier in the nursery"): what the user asked for is not here."""
    known = set(ALL_WORDS) | set(DEVICE_WORDS) | {w for ws in KIND_WORDS.values() for w in ws}
    for n in resolver.by_name:
        known.update(n.split())
    for a in resolver.areas:
        known.update(a.split())
    for i, w in enumerate(words[:-1]):
        if w in _ARTICLES:
            nxt = words[i + 1]
            if nxt not in known and not nxt[0].isdigit() and nxt not in _ARTICLES:
                return nxt
    return None


def shared_number(specs: Mapping[str, IntentSpec], parsed: Iterable[ParsedIntent],
                  numbers_said: int = 0) -> bool:
    """Two different commands of one model parse reading their number from the same words
    ("lights to ten percent and the heating to twenty": the lights got the twenty); or two
    commands reading one number while another number said is read by none ("kitchen radio
    to thirty percent and tv volume to fifteen": both got the thirty)."""
    owner: dict[tuple[int, int], str] = {}
    shared = False
    for p in parsed:
        spec = specs.get(p.intent)
        for name, sv in p.slots.items():
            slot = spec.slots.get(name) if spec is not None else None
            if slot is None or slot.type is not SlotType.NUMBER or sv.start_char is None:
                continue
            span = (sv.start_char, sv.end_char or sv.start_char)
            shared = shared or span in owner
            if owner.setdefault(span, p.intent) != p.intent:
                return True
    return shared and numbers_said > len(owner)


def picked_by_word(words: Set[str], found: Iterable[Entity], resolver: Resolver,
                   common: Set[str]) -> Entity | None:
    """"how cold is it outside" read house-wide: of the devices found, the one whose name
    has a word the utterance says and no other found device's name has. Words of the
    skills (`common`), of rooms and of kinds of device pick nothing; None unless exactly
    one device is picked. `common` is in `key` form."""
    said = {key(w) for w in words} - common - resolver.place_words - set(DEVICE_WORDS)
    said.discard("")
    picked = {e.id: e for e in found
              if said & {w for n in (e.name, *e.aliases) for w in key(n).split()}}
    return next(iter(picked.values())) if len(picked) == 1 else None
