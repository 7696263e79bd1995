"""Takes an utterance and the home's names; returns it with the speaker's own repairs made.

People fix what they say as they say it: "turn on the kitchen, no, the living room lights",
"set it to thirty, sorry, forty percent". Neither templates nor the micro-LLM should act on
the word taken back, so the taken-back words are cut before either sees the text. Typed or
misheard digits after a tens word ("twenty won degrees") are read as the digit they sound
like, but only where a number must end (before a unit, a connector or the end), so "twenty
for an hour" is left alone.

Every edit is remembered: slot offsets in the parse are mapped back onto the words the user
actually said, as the outcome contract requires.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from assistant.config import Config
from assistant.structs import Parse, ParsedIntent

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?", re.IGNORECASE)
# What a speaker says to take back the words just before: "no", "sorry", "i mean", ...
# (one or two words; the second form is matched first).
_MARKERS_2 = {("i", "mean"), ("no", "sorry"), ("no", "wait"), ("or", "rather"), ("no", "no")}
_MARKERS_1 = {"no", "sorry", "actually", "rather", "correction"}
_ARTICLES = {"the", "a", "my", "our"}
_TENS = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
# Words that sound like a digit; only read so right after a tens word, where a number ends.
_SOUNDS_LIKE = {"won": "one", "to": "two", "too": "two", "tree": "three", "for": "four",
                "fore": "four", "ate": "eight", "nein": "nine"}
_NUMBER_ENDS = {"percent", "degrees", "degree", "and", "then", "please", "%", "°"}
# Words of opposite commands: "open the, no, close the curtains" takes back "open".
_OPPOSITES = {"open", "close", "on", "off", "up", "down", "lock", "unlock", "start", "stop",
              "raise", "lower", "brighter", "dimmer", "louder", "quieter", "warmer", "cooler",
              "pause", "play", "resume"}
_NUMBER_WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                 "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
                 "sixteen", "seventeen", "eighteen", "nineteen", "hundred", "half",
                 *_TENS}


@dataclass(frozen=True)
class Edit:
    start: int  # span of the original text, end exclusive
    end: int
    text: str  # what replaces it


@dataclass(frozen=True)
class Repaired:
    text: str
    edits: tuple[Edit, ...]  # in order, not overlapping

    def to_input(self, pos: int, end: bool = False) -> int:
        """A character offset in `text`, mapped back onto the original utterance."""
        shift = 0
        for e in self.edits:
            new_start = e.start + shift
            new_end = new_start + len(e.text)
            if pos < new_start or (end and pos == new_start):
                break
            if pos < new_end or (end and pos == new_end):
                return e.end if end else e.start  # inside a replacement: all of it
            shift += len(e.text) - (e.end - e.start)
        return pos - shift

    def restore(self, parse: Parse) -> Parse:
        """The parse with its slot offsets pointing into the original utterance."""
        if not self.edits:
            return parse
        intents = []
        for p in parse.intents:
            slots = {}
            for name, sv in p.slots.items():
                if sv.start_char is not None and sv.end_char is not None:
                    sv = replace(sv, start_char=self.to_input(sv.start_char),
                                 end_char=self.to_input(sv.end_char, end=True))
                slots[name] = sv
            intents.append(ParsedIntent(p.intent, slots))
        return replace(parse, intents=tuple(intents))


def home_names(config: Config) -> list[str]:
    """Every name and alias of the home's floors, areas and devices, lower-case."""
    said: list[str] = []
    for floor in config.floors:
        said += [floor.name, *floor.aliases]
    for area in config.areas:
        said += [area.name, *area.aliases]
    for entity in config.entities:
        said += [entity.name, *entity.aliases]
    out = {" ".join(_WORD_RE.findall(name.lower())) for name in said}
    return sorted(n for n in out if n)


class Repairer:
    def __init__(self, names: Iterable[str]) -> None:
        self.names = {tuple(n.split()) for n in names if n}
        self.longest = max((len(n) for n in self.names), default=1)

    def repair(self, text: str) -> Repaired:
        words = [(m.group(0).lower(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
        edits = self._sounds_like(text, words) + self._taken_back(words)
        edits.sort(key=lambda e: e.start)
        kept: list[Edit] = []
        for e in edits:
            if not kept or e.start >= kept[-1].end:
                kept.append(e)
        out, pos = [], 0
        for e in kept:
            out += [text[pos:e.start], e.text]
            pos = e.end
        out.append(text[pos:])
        return Repaired("".join(out), tuple(kept))

    def _sounds_like(self, text: str, words: list[tuple[str, int, int]]) -> list[Edit]:
        edits = []
        for i in range(1, len(words)):
            w, start, end = words[i]
            if w not in _SOUNDS_LIKE or words[i - 1][0] not in _TENS:
                continue
            nxt = words[i + 1][0] if i + 1 < len(words) else None
            gap = text[end:words[i + 1][1]] if i + 1 < len(words) else ""
            if nxt is None or nxt in _NUMBER_ENDS or "," in gap:
                edits.append(Edit(start, end, _SOUNDS_LIKE[w]))
        return edits

    def _taken_back(self, words: list[tuple[str, int, int]]) -> list[Edit]:
        """"the kitchen no the living room": cut "kitchen no the " (names or numbers on
        both sides of the marker; anything else is not a repair)."""
        edits = []
        toks = [w for w, _, _ in words]
        i = 1
        while i < len(toks):
            if tuple(toks[i:i + 2]) in _MARKERS_2:
                width = 2
            elif toks[i] in _MARKERS_1:
                width = 1
            else:
                i += 1
                continue
            before = self._phrase_ending(toks, i)
            after_at = i + width
            while after_at < len(toks) and toks[after_at] in _ARTICLES | _MARKERS_1:
                after_at += 1
            after = self._phrase_starting(toks, after_at)
            if before is not None and after is not None and before[1] == after[1] and (
                    toks[before[0]:i] != toks[after_at:after_at + after[0]]):
                # cut from the taken-back phrase up to the replacement, articles included
                edits.append(Edit(words[before[0]][1], words[after_at][1], ""))
                i = after_at
            else:
                i += width
        return edits

    def _phrase_ending(self, toks: list[str], at: int) -> tuple[int, str] | None:
        """(start index, kind) of the name or number that ends right before `at`."""
        j = at
        while j > 0 and toks[j - 1] in _NUMBER_WORDS:
            j -= 1
        if j < at:
            return j, "number"
        if at > 0 and toks[at - 1].isdigit():
            return at - 1, "number"
        k = at
        while k > 0 and toks[k - 1] in _ARTICLES:
            k -= 1
        if k > 0 and toks[k - 1] in _OPPOSITES:
            return k - 1, "opposite"
        for n in range(min(self.longest, at), 0, -1):
            if tuple(toks[at - n:at]) in self.names:
                return at - n, "name"
        return None

    def _phrase_starting(self, toks: list[str], at: int) -> tuple[int, str] | None:
        """(length, kind) of the name or number that starts at `at`."""
        if at >= len(toks):
            return None
        if toks[at] in _NUMBER_WORDS or toks[at].isdigit():
            return 1, "number"
        if toks[at] in _OPPOSITES:
            return 1, "opposite"
        for n in range(min(self.longest, len(toks) - at), 0, -1):
            if tuple(toks[at:at + n]) in self.names:
                return n, "name"
        return None
