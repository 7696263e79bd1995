"""Takes an utterance neither engine understood and the actions of the one before; returns
the command it continues, when it is a follow-up.

"and the hallway too" after "turn on the kitchen lights" turns on the hallway's lights: the
last command again, for the place or device said. "a bit more" after "dim the lounge
lights" dims them again: a relative change repeated. "do that again" repeats any last
command. The result is a plain parse for the mapper, which checks it as it checks any other
(names, ranges, and the confirmation a risky action needs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from assistant.resolve import PICKING_SLOTS, Resolver
from assistant.structs import Action, Engine, Parse, ParsedIntent, SlotScalar, SlotValue
from assistant.textnorm import normalize

# Our own intents that change a setting by a step: "more" means one step again.
RELATIVE = frozenset({"LightBrighter", "LightDimmer", "ClimateWarmer", "ClimateCooler",
                      "MediaVolumeUp", "MediaVolumeDown"})
_MORE = frozenset({"more", "bit more", "a bit more", "a little more", "little more",
                   "even more", "some more", "a bit more please", "more please", "a touch more",
                   "a little bit more"})
_AGAIN = frozenset({"again", "do that again", "do it again", "once more", "one more time",
                    "same again"})
_FRONT = frozenset({"and", "also", "plus"})
_BACK = (("too",), ("also",), ("as", "well"))
_FILLER = frozenset({"the", "my", "our", "in", "for", "please", "now", "just", "oh", "okay",
                     "ok", "yeah", "then"})
MAX_WORDS = 5  # "and the kids room night light too" at most, joiners aside


def follow_up(text: str, last: Sequence[Action], resolver: Resolver) -> Parse | None:
    """The command `text` continues, or None when it is not a follow-up of `last`."""
    words = normalize(text).text.split()
    phrase = " ".join(words)
    if not words or not last:
        return None
    if phrase in _AGAIN or (phrase in _MORE and all(a.intent in RELATIVE for a in last)):
        return Parse(tuple(_parsed(a.intent, a.slots) for a in last), Engine.RULES, 1.0)
    front = words[0] in _FRONT
    back = next((t for t in _BACK if tuple(words[-len(t):]) == t), None)
    if not front and back is None:
        return None  # "the hallway" alone may be anything; "and ..." or "... too" continues
    core = words[1 if front else 0:len(words) - len(back or ())]
    core = [w for w in core if w not in _FILLER]
    if not core or len(core) > MAX_WORDS:
        return None
    spoken = " ".join(core)
    before = last[-1]
    kept = {k: v for k, v in before.slots.items() if k not in PICKING_SLOTS}
    kinds = {k: v for k, v in before.slots.items() if k in ("domain", "device_class")}
    area = resolver.area(spoken)
    if area is not None:  # "and the hallway too": the same kind of device there
        return _one(before.intent, {**kept, **kinds, "area": area.name})
    match = resolver.name(spoken)
    if match is None:
        return None
    if match.area is not None:  # "and the bedroom lights too"
        more = {"domain": match.domain} if match.domain else kinds
        return _one(before.intent, {**kept, **more, "area": match.area.name})
    if len(match.entities) == 1:  # "and the tv too"
        return _one(before.intent, {**kept, "name": match.entities[0].name})
    return None


def _one(intent: str, slots: Mapping[str, SlotScalar]) -> Parse:
    return Parse((_parsed(intent, slots),), Engine.RULES, 1.0)


def _parsed(intent: str, slots: Mapping[str, SlotScalar]) -> ParsedIntent:
    return ParsedIntent(intent, {k: SlotValue(v, str(v)) for k, v in slots.items()})
