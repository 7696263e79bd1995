"""Takes hassil intents (skills plus the home's lists); returns a word graph for the recognizer.

Every sentence template is compiled into one finite-state graph of words: alternatives
and optionals become branches, `<rules>` and `{lists}` are inlined, number ranges become
spoken number words, and the home's names, aliases, areas and floors come from the lists
the pipeline merged in. Templates glue word pieces together ("{name}['s|s]",
"what('s| is)"), which a JSGF grammar cannot express without expanding every sentence, so
the compiler works on pieces first and joins the pieces between spaces into words.

Around the commands: optional skip words ("please", "could you") before and after, and a
loop back through "and" / "then" so several commands can be said in one breath.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable

from hassil import Intents
from hassil.expression import (
    Alternative,
    Expression,
    ListReference,
    Permutation,
    RuleReference,
    Sequence,
    TextChunk,
)
from hassil.intents import IntentData, RangeSlotList, SlotList, TextSlotList

from assistant.wordgraph import WordGraph, factor, optimize

log = logging.getLogger(__name__)

SPACE = " "  # a word boundary in the piece graph
SOFT = "|"  # a boundary unless a suffix follows: around list values, "{name}['s|s]"
GLUE_SUFFIXES = frozenset({"s", "'s", "es", "'"})
CONNECTORS = ("and", "then", "and then", "also")  # between commands said together
SUFFIX_WORDS = ("please", "now", "for me", "thanks", "thank you")
MAX_RULE_DEPTH = 24
AUX_WEIGHT = 0.02  # share of skip words before / after a command, next to a plain command
# Share of "and <another command>" after a command. 0.05 -> 0.01 (voice.py asr, four sets
# and a set of chained commands; docs/benchmarks.md): less other talk heard as a chain of
# commands, chained commands heard as well as before.
CHAIN_WEIGHT = 0.01
SAMPLES = 40_000  # random sentences that estimate the grammar's word probabilities
ENUMERATE_RANGE_UP_TO = 120  # larger ranges become compositional number words
SYMBOL_WORDS = {"%": "percent", "°": "degrees", "&": "and", "+": "plus"}

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
          "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
          "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """0 <= n <= 999999 spelt as people say it: 'one hundred twenty five'."""
    if n < 20:
        return _UNITS[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _UNITS[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + number_words(n % 100)
        return _UNITS[n // 100] + " hundred" + rest
    rest = "" if n % 1000 == 0 else " " + number_words(n % 1000)
    return number_words(n // 1000) + " thousand" + rest


class _Pieces:
    """A graph whose arcs carry word pieces, SPACE (a boundary) or None (a free move)."""

    def __init__(self) -> None:
        self.arcs: list[list[tuple[int, str | None, float]]] = [[]]

    def state(self) -> int:
        self.arcs.append([])
        return len(self.arcs) - 1

    def arc(self, a: int, b: int, label: str | None, weight: float = 1.0) -> None:
        """A move; at each state the next move is chosen in proportion to the weights."""
        self.arcs[a].append((b, label, weight))

    def branch(self, a: int, weight: float) -> int:
        """A new state reached from a by a free move of the given weight."""
        b = self.state()
        self.arc(a, b, None, weight)
        return b

    def text(self, a: int, text: str) -> int:
        """Adds a chain of pieces and boundaries spelling `text`; returns its end state."""
        for piece in re.split(r"(\s+)", text):
            if not piece:
                continue
            b = self.state()
            self.arc(a, b, SPACE if piece.isspace() else piece)
            a = b
        return a


def _clean(text: str) -> str:
    text = text.lower()
    for symbol, word in SYMBOL_WORDS.items():
        text = text.replace(symbol, f" {word} ")
    text = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} ", text)
    # Punctuation separates words; apostrophes inside words ("what's") stay.
    return re.sub(r"[^\w' ]+|_", " ", text)


class _Compiler:
    def __init__(self, intents: Intents, slot_lists: dict[str, SlotList]) -> None:
        self.intents = intents
        self.lists = slot_lists
        self.g = _Pieces()
        self.skipped: list[str] = []

    def compile(self, expr: Expression, a: int, data: IntentData, depth: int = 0) -> int | None:
        """Adds `expr` after state a; returns its end state, or None if it cannot be spoken."""
        if depth > MAX_RULE_DEPTH:
            raise ValueError("expansion rules refer to each other in a loop")
        g = self.g
        if isinstance(expr, TextChunk):
            return g.text(a, _clean(expr.original_text or expr.text or ""))
        if isinstance(expr, Alternative):
            end = g.state()
            alive = False
            for item in expr.items:
                b = g.state()
                g.arc(a, b, None)
                e = self.compile(item, b, data, depth)
                if e is not None:
                    g.arc(e, end, None)
                    alive = True
            if expr.is_optional:
                g.arc(a, end, None)
                alive = True
            return end if alive else None
        if isinstance(expr, Permutation):
            spaced = [Sequence(items=[TextChunk(" "), *p, TextChunk(" ")])
                      for p in itertools.permutations(expr.items)]
            return self.compile(Alternative(items=list(spaced)), a, data, depth)
        if isinstance(expr, Sequence):
            cur: int | None = a
            for item in expr.items:
                cur = self.compile(item, cur, data, depth) if cur is not None else None
            return cur
        if isinstance(expr, RuleReference):
            rule = data.expansion_rules.get(expr.rule_name) or self.intents.expansion_rules.get(
                expr.rule_name)
            if rule is None:
                raise ValueError(f"unknown rule <{expr.rule_name}>")
            return self.compile(rule.expression, a, data, depth + 1)
        if isinstance(expr, ListReference):
            return self._list(expr, a, data, depth)
        return a

    def _list(self, ref: ListReference, a: int, data: IntentData, depth: int) -> int | None:
        """A list's values, set off by soft boundaries: "{name}s" glues, "{number}percent" not."""
        g = self.g
        b = g.state()
        g.arc(a, b, SOFT)
        end = self._list_values(ref, b, data, depth)
        if end is None:
            return None
        after = g.state()
        g.arc(end, after, SOFT)
        return after

    def _list_values(self, ref: ListReference, a: int, data: IntentData,
                     depth: int) -> int | None:
        g = self.g
        if ref.is_inline_range:
            lo, hi, step = ref.get_inline_range() or (0, 0, 1)
            return self._numbers(a, lo, hi, step)
        slot_list = (data.slot_lists.get(ref.list_name) or self.lists.get(ref.list_name)
                     or self.intents.slot_lists.get(ref.list_name))
        if isinstance(slot_list, RangeSlotList):
            return self._numbers(a, slot_list.start, slot_list.stop, slot_list.step)
        if isinstance(slot_list, TextSlotList):
            if not slot_list.values:
                return None
            end = g.state()
            for value in slot_list.values:
                b = g.state()
                g.arc(a, b, None)
                e = self.compile(value.text_in, b, data, depth + 1)
                if e is not None:
                    g.arc(e, end, None)
            return end
        # A wildcard or a missing list cannot be put into a closed grammar.
        self.skipped.append(ref.list_name)
        return None

    def _numbers(self, a: int, lo: int, hi: int, step: int) -> int:
        g = self.g
        end = g.state()
        if hi - lo <= ENUMERATE_RANGE_UP_TO or step != 1:
            for n in range(lo, hi + 1, step):
                g.arc(g.text(a, number_words(n)), end, None)
            return end
        # Compositional: any number up to 999 plus whole thousands up to hi; the mapper
        # checks the slot's real range and says so when a number is out of it.
        g.arc(g.text(a, "zero"), end, None)
        sub = g.state()  # 1..99
        g.arc(a, sub, None)
        for n in range(1, 20):
            g.arc(g.text(sub, _UNITS[n]), end, None)
        unit = g.state()
        for t in range(2, 10):
            tens = g.text(sub, _TENS[t])
            g.arc(tens, end, None)
            g.arc(tens, unit, SPACE)
        for n in range(1, 10):
            g.arc(g.text(unit, _UNITS[n]), end, None)
        hundred = g.state()
        for word in ["a", *_UNITS[1:10]]:  # rarer than numbers under a hundred
            g.arc(g.text(g.branch(a, 0.02), word + " hundred"), hundred, None)
        g.arc(hundred, end, None)
        rest = g.state()
        g.arc(hundred, rest, SPACE)
        g.arc(rest, sub, None)
        g.arc(g.text(rest, "and "), sub, None)
        for k in range(1000, hi + 1, 1000):
            g.arc(g.text(g.branch(a, 0.01), number_words(k)), end, None)
        return end


def build_word_graph(intents: Intents, slot_lists: dict[str, SlotList] | None = None,
                     skip_words: Iterable[str] | None = None, chain: bool = True) -> WordGraph:
    """The recognizer's grammar: every template of every intent, spoken forms only.

    `chain`: commands may follow one another ("... and ...").
    """
    comp = _Compiler(intents, dict(slot_lists or {}))
    g = comp.g
    start = 0
    body = g.state()
    done = g.state()
    skips = sorted({_clean(w).strip() for w in (skip_words or intents.skip_words)} - {""})
    # Up to two skip phrases before the command ("okay could you ..."), any number after;
    # all of them, and chaining, are rare next to a plain command.
    pre1, pre2 = g.state(), g.state()
    g.arc(start, pre1, None)
    g.arc(pre1, pre2, None)
    for w in skips:
        g.arc(g.text(g.branch(start, AUX_WEIGHT / len(skips)), f" {w} "), pre1, None)
        g.arc(g.text(g.branch(pre1, AUX_WEIGHT / len(skips)), f" {w} "), pre2, None)
    g.arc(pre2, body, None)
    for intent in intents.intents.values():
        for data in intent.data:
            for sentence in data.sentences:
                b = g.state()
                g.arc(body, b, SPACE)
                e = comp.compile(sentence.expression, b, data)
                if e is not None:
                    g.arc(e, done, SPACE)
    tail = g.state()
    g.arc(done, tail, None)
    suffixes = sorted(set(skips) | set(SUFFIX_WORDS))
    for w in suffixes:
        g.arc(g.text(g.branch(done, AUX_WEIGHT / len(suffixes)), f" {w} "), tail, None)
    for c in CONNECTORS if chain else ():  # another command follows
        g.arc(g.text(g.branch(done, CHAIN_WEIGHT / len(CONNECTORS)), f" {c} "), pre2, None)
    final = g.state()
    g.arc(tail, final, SPACE)
    if comp.skipped:
        log.warning("templates using lists the recognizer cannot cover were left out: %s",
                    ", ".join(sorted(set(comp.skipped))))
    return _join_pieces(g, start, final)


def _join_pieces(g: _Pieces, start: int, final: int) -> WordGraph:
    """Turns pieces between boundaries into words: boundary states become the word states.

    A soft boundary (around list values) joins the pieces on either side only when the
    piece after it is a suffix such as "s" or "'s"; otherwise it ends the word there.
    """
    ids: dict[int, int] = {}

    def sid(s: int) -> int:
        return ids.setdefault(s, len(ids))

    arcs: dict[tuple[int, int, str | None], float] = {}
    todo = [start]
    seen = {start}
    soft_starts: set[int] = set()

    def boundary(b: int, soft: bool = False) -> None:
        if soft:
            soft_starts.add(b)
        if b not in seen:
            seen.add(b)
            todo.append(b)

    def add(a: int, b: int, word: str | None, p: float) -> None:
        key = (sid(a), sid(b), word or None)
        arcs[key] = arcs.get(key, 0.0) + p

    totals = [sum(w for _, _, w in out) for out in g.arcs]
    sid(start)
    while todo:
        s = todo.pop()
        # (state, word so far, probability so far, state after a soft boundary where the
        # word could end)
        stack: list[tuple[int, str, float, int | None]] = [(s, "", 1.0, None)]
        while stack:
            t, acc, p, soft = stack.pop()
            if t == final and acc:
                raise ValueError("grammar ends inside a word")
            for b, label, weight in g.arcs[t]:
                q = p * weight / totals[t]
                if label is None:
                    stack.append((b, acc, q, soft))
                elif label == SOFT:
                    if acc:  # the word may end here; only a suffix can still be glued on
                        add(s, b, acc, q)
                        boundary(b, soft=True)
                    stack.append((b, acc, q, b if acc else None))
                elif label == SPACE:
                    if soft is None:
                        add(s, b, acc, q)
                    boundary(b)
                elif soft is not None and label not in GLUE_SUFFIXES:
                    continue  # the word ended at the soft boundary (added there)
                elif label in GLUE_SUFFIXES and (
                        (not acc and s in soft_starts) or (acc.endswith("s") and "s" in label)):
                    # Glued onto the word before the boundary already; "lamps" + "s" is no word.
                    continue
                else:
                    stack.append((b, acc + label, q, None))
    sid(final)
    words = {w for (_, _, w) in arcs if w}
    nfa = WordGraph(len(ids), ids[start], ids[final],
                    sorted(((a, b, _spelled(w, words), p) for (a, b, w), p in arcs.items()),
                           key=str),
                    {w for w in words if _spelled(w, words) == w})
    return factor(optimize(nfa, SAMPLES))


def _spelled(word: str | None, words: set[str]) -> str | None:
    """One spelling for words that sound the same: "light's" is "lights" where both are words.

    The search cannot tell them apart, and each costs it memory in every state it may
    follow; a command means the plural far more often ("dim the living room light's to
    thirty" acted on one light of two).
    """
    if word is not None and word.endswith("'s") and (plural := word[:-2] + "s") in words:
        return plural
    return word


# Said after a command (in the follow-up window, or after the wake phrase): "and the hallway
# too", "a bit more", "turn them off". Not commands of any skill, so not in the templates or
# the model's data; the recognizer must still be able to hear them. The pipeline reads them
# with the last command at hand (assistant.followup, and "it"/"them" in the mapper).
FOLLOW_UP_INTENT = "_FollowUp"
FOLLOW_UP_SENTENCES = (
    "(and|also|plus) [the] ({area}|{name}) [too|as well]",
    "[the] ({area}|{name}) (too|as well)",
    "[a] [little] [bit|touch] more",
    "(do (that|it) again|same again)",
    "(turn|switch) (it|them) [back] (on|off|up|down)",
)
# Shorter ones ("open it", "again") were left out: measured on the speech benchmark, noise
# and out-of-domain talk found them too easily.


def with_follow_ups(intents: Intents) -> Intents:
    """Adds the follow-up sentences to `intents` (for the recognizer's grammar only: build a
    fresh Intents for it) and returns it."""
    extra = Intents.from_dict({
        "language": intents.language,
        "intents": {FOLLOW_UP_INTENT: {"data": [{"sentences": list(FOLLOW_UP_SENTENCES)}]}},
        "expansion_rules": {}})
    intents.intents[FOLLOW_UP_INTENT] = extra.intents[FOLLOW_UP_INTENT]
    return intents


def answers_only(intents: Intents, names: Iterable[str]) -> Intents:
    """The intents named (the replies to a question: yes, no, cancel), for the small grammar
    the recognizer searches while a question waits; the rest are left out."""
    keep = set(names)
    intents.intents = {n: i for n, i in intents.intents.items() if n in keep}
    return intents
