"""Normalises an utterance: text in, lower-case tokens with spoken numbers as digits out.

Every output token remembers the character span of the input it came from, so slot
offsets reported to hubs always point into what the user actually said or typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FILLERS = frozenset({"um", "umm", "uh", "uhh", "uhm", "er", "erm", "err", "hmm", "hm", "ah", "eh"})
_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_TOKEN_RE = re.compile(r"\d+(?:\.\d+)?%?|[a-z]+(?:'[a-z]+)*|%|°", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    text: str
    start_char: int  # span in the original input, end exclusive
    end_char: int


@dataclass(frozen=True)
class Normalized:
    """Normalised text plus, per output character, the input character it came from."""

    text: str
    tokens: tuple[Token, ...]

    def span_to_input(self, start: int, end: int) -> tuple[int, int]:
        """Map a character span of `text` back onto the original input."""
        pos = 0
        first: int | None = None
        last = 0
        for tok in self.tokens:
            tok_end = pos + len(tok.text)
            if tok_end > start and pos < end:
                if first is None:
                    first = tok.start_char
                last = tok.end_char
            pos = tok_end + 1
        return (first if first is not None else 0, last)


def _is_number_word(word: str) -> bool:
    return word in _UNITS or word in _TENS or word in ("hundred", "a")


def _read_number(words: list[str], i: int) -> tuple[int | None, int]:
    """Parse a spoken number starting at words[i]; returns (value, words consumed)."""
    value = 0
    j = i
    seen = False
    hundred_next = j + 1 < len(words) and words[j + 1] == "hundred"
    if j < len(words) and words[j] in ("a", "one") and hundred_next:
        value, j, seen = 100, j + 2, True
        if j < len(words) and words[j] == "and":
            j += 1
    elif j < len(words) and words[j] in _UNITS and hundred_next:
        value, j, seen = _UNITS[words[j]] * 100, j + 2, True
        if j < len(words) and words[j] == "and":
            j += 1
    if j < len(words) and words[j] in _TENS:
        value += _TENS[words[j]]
        j += 1
        seen = True
        if j < len(words) and words[j] in _UNITS and 0 < _UNITS[words[j]] < 10:
            value += _UNITS[words[j]]
            j += 1
    elif j < len(words) and words[j] in _UNITS and words[j] != "oh":
        value += _UNITS[words[j]]
        j += 1
        seen = True
    if not seen:
        return None, 0
    if j > i and words[j - 1] == "and":  # "a hundred and" with nothing after
        j -= 1
    return value, j - i


_NUMBER_CUES_AFTER = frozenset({"percent", "per", "degree", "degrees", "point", "%", "°", "pct"})
_NUMBER_CUES_BEFORE = frozenset({"to", "at", "by"})


def _numeric_context(words: list[str], i: int) -> bool:
    after = words[i + 1] if i + 1 < len(words) else ""
    before = words[i - 1] if i > 0 else ""
    return after in _NUMBER_CUES_AFTER or before in _NUMBER_CUES_BEFORE


def normalize(text: str) -> Normalized:
    """Lower-case, drop punctuation and fillers, collapse stutters, spell numbers as digits."""
    raw = [Token(m.group(0).lower(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]
    raw = [t for t in raw if t.text not in FILLERS]
    words = [t.text for t in raw]
    out: list[Token] = []
    i = 0
    while i < len(raw):
        value, used = _read_number(words, i) if _is_number_word(words[i]) else (None, 0)
        if used == 1 and words[i] == "one" and not _numeric_context(words, i):
            value = None  # "skip this one", "the next one": a pronoun, not a number
        if value is not None and used:
            text_num = str(value)
            # "twenty one point five" -> 21.5
            nxt = i + used
            if nxt + 1 < len(raw) and words[nxt] == "point" and words[nxt + 1] in _UNITS:
                text_num += "." + str(_UNITS[words[i + used + 1]])
                used += 2
            elif words[nxt:nxt + 3] == ["and", "a", "half"]:  # "twenty two and a half"
                text_num += ".5"
                used += 3
            out.append(Token(text_num, raw[i].start_char, raw[i + used - 1].end_char))
            i += used
            continue
        tok = raw[i]
        if tok.text.endswith("%") and len(tok.text) > 1:  # "50%" -> "50 percent"
            out.append(Token(tok.text[:-1], tok.start_char, tok.end_char - 1))
            out.append(Token("percent", tok.end_char - 1, tok.end_char))
        elif tok.text == "%":
            out.append(Token("percent", tok.start_char, tok.end_char))
        elif tok.text == "°":
            out.append(Token("degrees", tok.start_char, tok.end_char))
        else:
            out.append(tok)
        i += 1
    # Stutters: "the the kitchen", "turn turn off" -> one copy.
    deduped: list[Token] = []
    for tok in out:
        if deduped and deduped[-1].text == tok.text and not tok.text[0].isdigit():
            continue
        deduped.append(tok)
    return Normalized(text=" ".join(t.text for t in deduped), tokens=tuple(deduped))
