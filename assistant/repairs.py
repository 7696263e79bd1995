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
from assistant.resolve import DEVICE_WORDS
from assistant.structs import Parse, moved

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
        intents = [moved(p, self.to_input, lambda pos: self.to_input(pos, end=True))
                   for p in parse.intents]
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


def skill_words(config: Config) -> set[str]:
    """Every word the skill files use (templates, lists, replies): words a command may
    contain, never read as a misheard name."""
    out: set[str] = set()
    for path in sorted(config.resolve(config.skills_dir).glob("*.y*ml")):
        out.update(w.lower() for w in re.findall(r"[a-z']+", path.read_text(encoding="utf-8"),
                                                 re.IGNORECASE))
    return out


def _sound(word: str) -> str:
    """A rough spelling of how a word sounds, so "dinning" meets "dining" and "lite" "light"."""
    w = word.lower()
    for a, b in (("ph", "f"), ("ck", "k"), ("kn", "n"), ("ight", "ite"), ("ie", "y"),
                 ("oo", "u"), ("ou", "u"), ("ce", "se"), ("ci", "si"), ("c", "k"), ("z", "s")):
        w = w.replace(a, b)
    w = re.sub(r"(.)\1+", r"\1", w)
    return w[:-1] if len(w) > 3 and w.endswith("e") else w


def _one_edit(a: str, b: str) -> bool:
    """a and b differ by at most one letter added, dropped or changed."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


class Repairer:
    def __init__(self, names: Iterable[str], known: Iterable[str] = ()) -> None:
        self.names = {tuple(n.split()) for n in names if n}
        self.longest = max((len(n) for n in self.names), default=1)
        self.name_words = {w for n in self.names for w in n}
        self.known = set(known) | self.name_words | _NUMBER_WORDS | set(_SOUNDS_LIKE)
        self.by_sound: dict[str, set[str]] = {}
        for w in self.name_words:
            self.by_sound.setdefault(_sound(w), set()).add(w)
        self.pairs = {(n[i], n[i + 1]) for n in self.names for i in range(len(n) - 1)}
        # the first words of longer names: "the back, i mean the front door"
        self.starts = {n[:i] for n in self.names for i in range(1, len(n))}

    def repair(self, text: str) -> Repaired:
        words = [(m.group(0).lower(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
        edits = (self._sounds_like(text, words) + self._taken_back(words)
                 + self._misheard_names(words))
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
            if tuple(toks[at - n:at]) in self.names | self.starts:
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

    # -- names heard or typed wrong ---------------------------------------------------------
    def _misheard_names(self, words: list[tuple[str, int, int]]) -> list[Edit]:
        """"the dinning room", "the bed room", "the livingroom", "the coffee make her", "the
        christmas tr": spelled as the home's own name, when exactly one name fits. Words
        the skills use are never touched."""
        edits: list[Edit] = []
        toks = [w for w, _, _ in words]
        i = 0
        while i < len(toks):
            found = self._name_at(toks, i)
            if found is None:
                i += 1
                continue
            used, fixed = found
            edits.append(Edit(words[i][1], words[i + used - 1][2], fixed))
            i += used
        return edits

    def _name_at(self, toks: list[str], i: int) -> tuple[int, str] | None:
        w = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is not None:
            joined = w + nxt
            if joined in self.name_words and w not in self.name_words | {"the"}:
                return 2, joined  # "bed room", "thermo stat", "tele vision"
            if nxt == "her" and w not in self.name_words:  # "make her" -> "maker"
                heard = w + ("r" if w.endswith("e") else "er")
                match = self._like(heard, toks[i - 1] if i > 0 else None,
                                   toks[i + 2] if i + 2 < len(toks) else None)
                if match is not None:
                    return 2, match
        prev = toks[i - 1] if i > 0 else None
        cut_short = [b for a, b in self.pairs if a == prev and b.startswith(w) and b != w]
        if len(w) >= 2 and nxt is None and len(cut_short) == 1:
            return 1, cut_short[0]  # "christmas tr", "front do": cut off at the end
        if w in self.known or len(w) < 4 or not w.isalpha():
            return None
        for cut in range(3, len(w) - 2):  # "livingroom", "floorlamp", "coffeemaker"
            if (w[:cut], w[cut:]) in self.pairs:
                return 1, f"{w[:cut]} {w[cut:]}"
        match = self._like(w, prev, nxt)
        if match is not None:
            return 1, match
        if len(cut_short) == 1:
            return 1, cut_short[0]
        if len(w) >= 5:
            started = [n for n in self.name_words if n.startswith(w) and len(n) > len(w)]
            if len(started) == 1:  # "televis"
                return 1, started[0]
        return None

    def _like(self, heard: str, prev: str | None, nxt: str | None) -> str | None:
        """The one name word that sounds like `heard`; or that is one letter from it, when
        it then makes a name with a neighbour ("sealing fan") or comes before a kind of
        device ("lunge lights"), so that "both doors" stays both and "call" stays call."""
        same = self.by_sound.get(_sound(heard), set())
        if len(same) == 1:
            return next(iter(same))
        if len(heard) < 4:
            return None
        near = {n for n in self.name_words if len(n) >= 4 and (
            _one_edit(heard, n) or _one_edit(_sound(heard), _sound(n)))}
        if len(near) != 1:
            return None
        match = next(iter(near))
        fits = ((prev, match) in self.pairs or (match, nxt) in self.pairs
                or (nxt is not None and nxt in DEVICE_WORDS))
        return match if fits else None
