"""Takes an Example and returns a noisier one: fillers, politeness, stutters, reordering,
recognition-like errors, and several commands joined into one utterance.

Every edit keeps the copied spans pointing at the same words, so targets stay exact.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from assistant.lmgrammar import ActionTarget, SlotTarget
from assistant.lmspec import TENS
from assistant.train.contexts import CONTEXT_SAMPLER
from assistant.train.templates import Example

FILLERS = ("um", "uh", "er", "erm", "uhh", "umm", "hmm", "like", "you know", "i mean",
           "well", "so", "ah", "okay so", "oh")
PREFIXES = ("please", "could you", "can you", "can you please", "would you", "would you please",
            "hey", "hey house", "ok", "okay", "alright", "so", "right", "i want you to",
            "i'd like you to", "go ahead and", "quickly", "hey there", "yo", "house",
            "would you mind", "do me a favour and", "i need you to", "let's", "now",
            "could you please", "just", "hey can you", "please could you", "kindly")
SUFFIXES = ("please", "thanks", "thank you", "for me", "now", "right now", "real quick",
            "if you can", "when you get a chance", "asap", "thanks a lot", "cheers", "ok",
            "please and thank you", "for me please", "immediately", "at once", "quick")
# Recognisers swap words that sound alike or are short and unstressed.
CONFUSIONS = {
    "to": ("two", "too", "the"), "off": ("of", "of the"), "on": ("an", "in"),
    "the": ("a", "that", "this"), "for": ("four", "far"), "lights": ("light", "lice"),
    "light": ("lights", "like"), "in": ("and", "an", "on"), "set": ("said", "sit"),
    "turn": ("turned", "tone"), "volume": ("volumes",), "blinds": ("blind",),
    "please": ("plea",), "my": ("mine", "by"), "is": ("as", "his"), "a": ("the", "uh"),
    "what's": ("what", "was"), "it's": ("its", "is"), "up": ("op", "app"),
    "down": ("done", "dawn"), "make": ("take", "bake"), "open": ("opening",),
    "close": ("clothes", "closed"), "start": ("stark", "started"), "stop": ("stopped",),
    "are": ("our",), "there": ("their",), "here": ("hear",), "pause": ("paws", "pours"),
    "dim": ("them", "dumb"), "unlock": ("un lock",), "blue": ("blew",), "red": ("read",),
    "switch": ("which", "stitch"), "heat": ("heed",), "fan": ("van",), "lock": ("log",),
    "brighter": ("brighten",), "louder": ("lauder",), "next": ("necks",),
}
# The same inside a spoken number, after its tens: "twenty four" heard as "twenty for".
NUMBER_CONFUSIONS = {"one": ("won",), "two": ("to", "too"), "four": ("for",), "eight": ("ate",)}
# Reasons people give around a command; none of them is a command itself.
CONTEXTS = ("i'm going out", "we're off to bed", "the kids are asleep", "it's late",
            "i'm cooking", "nobody's watching", "it's story time", "before i forget",
            "while i'm out", "we have guests", "i'm back home", "i just got in", "i'm working",
            "we're eating", "i'm reading", "i'm heading out", "i'm leaving now", "oh wait",
            "sorry", "one more thing", "quick one", "right then", "alright listen",
            "i'm about to shower", "the baby's sleeping", "we're leaving", "it's getting late",
            "dinner's ready", "i'm on a call", "the guests are here", "we're home",
            "it's the weekend", "i'm done for the day", "i'm off to work", "just a sec")
CONNECTORS = (("and",), ("and",), ("and",), ("then",), ("and", "then"), ("also",),
              ("and", "also"), ("after", "that"), ("plus",), ("as", "well", "as"), ("oh", "and"),
              (), ("and", "please"), ("and", "can", "you"), ("and", "then", "please"))


# Words that carry the meaning: dropping one would make the target wrong, not noisy.
KEEP_WORDS = frozenset({
    "on", "off", "up", "down", "open", "close", "shut", "lock", "unlock", "brighter", "dimmer",
    "darker", "louder", "quieter", "warmer", "cooler", "pause", "play", "resume", "next",
    "previous", "back", "skip", "not", "don't", "half", "halfway", "toggle", "stop", "start",
    "dim", "dark", "bright", "hot", "cold", "more", "less", "home", "dock", "what", "how", "is",
    "are", "did", "has"})
CARRY_SHARE = 0.35  # later commands of a join that lose their room to the one before


@dataclass(frozen=True)
class Aug:
    """Probabilities of each edit on a single command."""

    prefix: float = 0.25
    suffix: float = 0.15
    filler: float = 0.12
    stutter: float = 0.06
    confuse: float = 0.12
    drop: float = 0.08
    front_location: float = 0.08
    context: float = 0.1


def _spans(ex: Example) -> list[tuple[int, int]]:
    return [s.span for a in ex.actions for s in a.slots if s.span is not None]


def _free(ex: Example, i: int) -> bool:
    """True when word i belongs to no copied span."""
    return all(not (a <= i < b) for a, b in _spans(ex))


def _shift(ex: Example, f: Callable[[int], int]) -> tuple[ActionTarget, ...]:
    """Actions with every word index mapped through f (the first command stays at 0)."""
    return tuple(ActionTarget(a.intent, tuple(
        replace(s, span=(f(s.span[0]), f(s.span[1] - 1) + 1)) if s.span else s
        for s in a.slots), f(a.anchor) if n else 0) for n, a in enumerate(ex.actions))


def insert(ex: Example, at: int, new: Sequence[str]) -> Example:
    """Insert words before position `at` (never inside a span)."""
    n = len(new)
    words = (*ex.words[:at], *new, *ex.words[at:])
    return Example(words, _shift(ex, lambda i: i + n if i >= at else i))


def delete(ex: Example, at: int) -> Example:
    words = (*ex.words[:at], *ex.words[at + 1:])
    return Example(words, _shift(ex, lambda i: i - 1 if i > at else i))


def substitute(ex: Example, at: int, new: Sequence[str]) -> Example:
    return insert(delete(ex, at), at, new)


def _boundaries(ex: Example) -> list[int]:
    """Positions where words may be inserted without splitting a span."""
    return [i for i in range(len(ex.words) + 1) if all(not (a < i < b) for a, b in _spans(ex))]


def augment(rng: random.Random, ex: Example, p: Aug) -> Example:
    """Apply each edit with its probability; the actions keep meaning the same thing."""
    if rng.random() < p.front_location:
        ex = front_location(ex)
    if rng.random() < p.confuse:
        ex = _confuse(rng, ex)
    if rng.random() < p.drop and len(ex.words) > 2:
        free = [i for i in range(len(ex.words))
                if _free(ex, i) and ex.words[i] not in KEEP_WORDS]
        if free:
            ex = delete(ex, rng.choice(free))
    if rng.random() < p.stutter and ex.words:
        at = rng.choice(_boundaries(ex)[:-1] or [0])
        if at < len(ex.words) and _free(ex, at):
            ex = insert(ex, at, ex.words[at:at + rng.randint(1, 2)])
    if rng.random() < p.filler:
        ex = insert(ex, rng.choice(_boundaries(ex)), rng.choice(FILLERS).split())
    if rng.random() < p.prefix:
        ex = insert(ex, 0, rng.choice(PREFIXES).split())
    if rng.random() < p.context:
        clause = (rng.choice(CONTEXTS).split() if rng.random() < 0.4
                  else CONTEXT_SAMPLER.sample(rng))
        if rng.random() < 0.6:
            ex = insert(ex, 0, [*clause, *(["so"] if rng.random() < 0.3 else [])])
        else:
            ex = insert(ex, len(ex.words), [*(["because"] if rng.random() < 0.2 else []),
                                            *clause])
    if rng.random() < p.suffix:
        ex = insert(ex, len(ex.words), rng.choice(SUFFIXES).split())
    return ex


def _confuse(rng: random.Random, ex: Example) -> Example:
    spots = [i for i, w in enumerate(ex.words) if w in CONFUSIONS and _free(ex, i)]
    in_numbers = [b - 1 for a, b in _spans(ex) if b - a == 2 and ex.words[a] in TENS
                  and ex.words[b - 1] in NUMBER_CONFUSIONS]
    if in_numbers and rng.random() < 0.5:
        at = rng.choice(in_numbers)  # one word for one word: spans keep their places
        words = list(ex.words)
        words[at] = rng.choice(NUMBER_CONFUSIONS[words[at]])
        return Example(tuple(words), ex.actions)
    if not spots:
        return ex
    at = rng.choice(spots)
    return substitute(ex, at, rng.choice(CONFUSIONS[ex.words[at]]).split())


def front_location(ex: Example) -> Example:
    """"turn off the lights in the kitchen" -> "in the kitchen turn off the lights"."""
    for a, b in _spans(ex):
        if b != len(ex.words):
            continue
        start = a - 1 if a >= 1 and ex.words[a - 1] == "the" else a
        if start >= 1 and ex.words[start - 1] in ("in", "on", "at", "upstairs", "for"):
            start -= 1
            return _rotate(ex, start)
    return ex


def _rotate(ex: Example, start: int) -> Example:
    """Move words[start:] to the front."""
    n = len(ex.words) - start
    return Example((*ex.words[start:], *ex.words[:start]),
                   _shift(ex, lambda i: i - start if i >= start else i + n))


def join(rng: random.Random, parts: Sequence[Example]) -> Example:
    """Several commands in one utterance, joined by "and", "then", commas (dropped)...

    A room said for one command is not repeated in the next one's target: the mapper
    carries it over ("kitchen lights off and the blind down" closes the Kitchen blind).
    """
    out = parts[0]
    for nxt in parts[1:]:
        if rng.random() < CARRY_SHARE and any(
                s.slot == "area" for a in out.actions for s in a.slots):
            nxt = drop_place(nxt)
        connector = list(rng.choice(CONNECTORS))
        base = len(out.words) + len(connector)
        shifted = _shift(nxt, lambda i, base=base: i + base)  # type: ignore[misc]
        shifted = (replace(shifted[0], anchor=base), *shifted[1:])
        out = Example((*out.words, *connector, *nxt.words), (*out.actions, *shifted))
    return out


def drop_place(ex: Example) -> Example:
    """"close the blind in the kitchen" -> "close the blind": the place is carried over
    from the command before it, so the target no longer names one."""
    found = _place_at_end(ex)
    if found is None or found[0].slot != "area" or found[1] == 0:
        return ex
    place, start = found
    act = ex.actions[0]
    slots = tuple(s for s in act.slots if s is not place)
    if not slots:
        return ex
    return Example(ex.words[:start], (ActionTarget(act.intent, slots, act.anchor),))


def split_place(rng: random.Random, ex: Example) -> Example | None:
    """"the kitchen lights" -> "the kitchen and bedroom lights": one action per place."""
    if len(ex.actions) != 1:
        return None
    act = ex.actions[0]
    places = [s for s in act.slots if s.span is not None and s.slot in ("area", "name", "floor")]
    if len(places) != 1:
        return None
    slot = places[0]
    assert slot.span is not None
    a, b = slot.span
    other = _other_place(rng, ex.words[a:b], slot.slot)
    glue = ["and"] + (["the"] if rng.random() < 0.4 else [])
    at_end = _place_at_end(ex)
    if (at_end is not None and at_end[0] is slot and at_end[1] < a
            and ex.words[at_end[1]] in ("in", "on", "at", "for") and rng.random() < 0.3):
        glue = ["and", "the", "one", *ex.words[at_end[1]:a]]  # "... and the one in the"
    new_words = (*ex.words[:b], *glue, *other, *ex.words[b:])
    grow = len(glue) + len(other)
    moved = _shift(ex, lambda i: i + grow if i >= b else i)[0]
    second_span = (b + len(glue), b + len(glue) + len(other))
    second = ActionTarget(act.intent, tuple(
        SlotTarget(s.slot, span=second_span) if s.slot == slot.slot else s for s in moved.slots),
        anchor=second_span[0])
    return Example(new_words, (moved, second))


def _other_place(rng: random.Random, current: Sequence[str], slot: str) -> list[str]:
    from assistant.train import pools

    for _ in range(5):
        if slot == "area":
            cand = pools.room(rng)
        elif slot == "floor":
            cand = pools.floor(rng)
        else:
            cand = pools.device_name(rng)
        words = cand.replace("'s", " 's").split()
        if words != list(current):
            return words
    return ["hallway"]


def _place_at_end(ex: Example) -> tuple[SlotTarget, int] | None:
    """The single action's room/floor span if it ends the utterance, and where its phrase
    (with "in the") starts."""
    if len(ex.actions) != 1:
        return None
    for st in ex.actions[0].slots:
        if st.slot in ("area", "floor") and st.span and st.span[1] == len(ex.words):
            start = st.span[0]
            if start and ex.words[start - 1] == "the":
                start -= 1
            if start and ex.words[start - 1] in ("in", "on", "at", "for"):
                start -= 1
            return st, start
    return None


def contrast(rng: random.Random, ex: Example,
             opposite: dict[str, tuple[str, str]]) -> Example | None:
    """"lights off in the kitchen" -> "... and on in the bedroom": the opposite intent there."""
    found = _place_at_end(ex)
    if found is None or ex.actions[0].intent not in opposite:
        return None
    place, start = found
    other_intent, word = opposite[ex.actions[0].intent]
    assert place.span is not None
    prep = list(ex.words[start:place.span[0]])
    other = _other_place(rng, ex.words[place.span[0]:place.span[1]], place.slot)
    tail = ["and", word, *prep, *other]
    span = (len(ex.words) + len(tail) - len(other), len(ex.words) + len(tail))
    second = ActionTarget(other_intent, tuple(
        SlotTarget(s.slot, span=span) if s is place else s for s in ex.actions[0].slots),
        anchor=len(ex.words) + 1)  # the reversing word: "... and [on] in the hall"
    return Example((*ex.words, *tail), (*ex.actions, second))


def parallel(rng: random.Random, ex: Example,
             number: Callable[[str], str | None]) -> Example | None:
    """"set the bedroom to 19" -> "... and the lounge to 21": same intent, new place and value.

    `number(slot)` says a new value for a number slot (None: not a number slot)."""
    if len(ex.actions) != 1:
        return None
    act = ex.actions[0]
    spans = sorted((s.span, s) for s in act.slots if s.span)
    if len(spans) != 2:
        return None
    (p_span, place), (n_span, num) = spans
    value = number(num.slot)
    if place.slot not in ("area", "floor", "name") or value is None or n_span[1] != len(ex.words):
        return None
    between = list(ex.words[p_span[1]:n_span[0]])
    other = _other_place(rng, ex.words[p_span[0]:p_span[1]], place.slot)
    glue = ["and"] + (["the"] if rng.random() < 0.6 else [])
    start = len(ex.words) + len(glue)
    new_num = value.split()
    tail = [*glue, *other, *between, *new_num]
    n0 = start + len(other) + len(between)
    second = ActionTarget(act.intent, tuple(
        SlotTarget(s.slot, span=(start, start + len(other))) if s is place
        else SlotTarget(s.slot, span=(n0, n0 + len(new_num))) if s is num else s
        for s in act.slots), anchor=start)
    return Example((*ex.words, *tail), (act, second))
