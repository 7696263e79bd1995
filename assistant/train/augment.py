"""Takes an Example and returns a noisier one: fillers, politeness, stutters, reordering,
recognition-like errors, and several commands joined into one utterance.

Every edit keeps the copied spans pointing at the same words, so targets stay exact.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from assistant.lmgrammar import ActionTarget, SlotTarget
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
    "are": ("our",), "there": ("their",), "here": ("hear",),
}
CONNECTORS = (("and",), ("and",), ("and",), ("then",), ("and", "then"), ("also",),
              ("and", "also"), ("after", "that"), ("plus",), ("as", "well", "as"), ("oh", "and"),
              (), ("and", "please"), ("and", "can", "you"), ("and", "then", "please"))


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


def _spans(ex: Example) -> list[tuple[int, int]]:
    return [s.span for a in ex.actions for s in a.slots if s.span is not None]


def _free(ex: Example, i: int) -> bool:
    """True when word i belongs to no copied span."""
    return all(not (a <= i < b) for a, b in _spans(ex))


def _shift(ex: Example, f: Callable[[int], int]) -> tuple[ActionTarget, ...]:
    return tuple(ActionTarget(a.intent, tuple(
        replace(s, span=(f(s.span[0]), f(s.span[1] - 1) + 1)) if s.span else s
        for s in a.slots)) for a in ex.actions)


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
        ex = _front_location(ex)
    if rng.random() < p.confuse:
        ex = _confuse(rng, ex)
    if rng.random() < p.drop and len(ex.words) > 2:
        free = [i for i in range(len(ex.words)) if _free(ex, i)]
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
    if rng.random() < p.suffix:
        ex = insert(ex, len(ex.words), rng.choice(SUFFIXES).split())
    return ex


def _confuse(rng: random.Random, ex: Example) -> Example:
    spots = [i for i, w in enumerate(ex.words) if w in CONFUSIONS and _free(ex, i)]
    if not spots:
        return ex
    at = rng.choice(spots)
    return substitute(ex, at, rng.choice(CONFUSIONS[ex.words[at]]).split())


def _front_location(ex: Example) -> Example:
    """"turn off the lights in the kitchen" -> "in the kitchen turn off the lights"."""
    for a, b in _spans(ex):
        if b != len(ex.words):
            continue
        start = a - 1 if a >= 1 and ex.words[a - 1] == "the" else a
        if start >= 1 and ex.words[start - 1] in ("in", "on", "at", "upstairs", "for"):
            start -= 1
            phrase = ex.words[start:]
            n = len(phrase)
            return Example((*phrase, *ex.words[:start]),
                           _shift(ex, lambda i: i - start if i >= start else i + n))
    return ex


def join(rng: random.Random, parts: Sequence[Example]) -> Example:
    """Several commands in one utterance, joined by "and", "then", commas (dropped)..."""
    out = parts[0]
    for nxt in parts[1:]:
        connector = list(rng.choice(CONNECTORS))
        base = len(out.words) + len(connector)
        shifted = _shift(nxt, lambda i, base=base: i + base)  # type: ignore[misc]
        out = Example((*out.words, *connector, *nxt.words), (*out.actions, *shifted))
    return out


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
    new_words = (*ex.words[:b], *glue, *other, *ex.words[b:])
    grow = len(glue) + len(other)
    moved = _shift(ex, lambda i: i + grow if i >= b else i)[0]
    second_span = (b + len(glue), b + len(glue) + len(other))
    second = ActionTarget(act.intent, tuple(
        SlotTarget(s.slot, span=second_span) if s.slot == slot.slot else s for s in moved.slots))
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
