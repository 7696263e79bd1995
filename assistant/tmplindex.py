"""Template index: utterance text in, the hassil Intents with only the templates it could match out.

hassil already skips a template whose own literal words are missing from the text, but most
of our templates share those words ("turn on ..."), so about 30 of them still reach its
matcher for every command. What tells them apart is what they need from their lists: a
device name, an area, a colour. This index also requires those, and hands hassil an Intents
reduced to the templates that pass, in hassil's own order, so the readings it yields are
exactly those of a full search.

Soundness: a template is dropped only when some clause of phrases that any match must
contain has no phrase in the text. A phrase is a run of [a-z0-9 ] of a casefolded template
chunk or list value, so hassil, which matches chunks case-insensitively and contiguously, can
only match where the phrase occurs in the text it matches: the input, or the input with its
skip words removed. The index looks only at "plain" input (lower-case ASCII words, single
spaces, no punctuation), which hassil's own normalisation leaves as it is; anything else gets
every template. What the analysis does not understand (number ranges, wildcards, unknown
expressions) requires nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from collections.abc import Sequence as Sequence_
from dataclasses import dataclass, field, replace

from hassil import Intents
from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RuleReference,
    Sentence,
    Sequence,
    TextChunk,
)
from hassil.intents import Intent, IntentData, RangeSlotList, SlotList, TextSlotList
from hassil.util import remove_skip_words

Clause = frozenset[str]  # at least one of these phrases occurs in any matching text
Edge = frozenset[str] | None  # a matching text starts (or ends) with one of these; None: unknown
_PHRASE_RE = re.compile(r"[a-z0-9]+(?: +[a-z0-9]+)*")
_PREFIX_RE = re.compile(r"[a-z0-9 ]+")
_SUFFIX_RE = re.compile(r"[a-z0-9 ]+$")
# Text hassil's normalize_for_matching returns unchanged: a "." only inside a number.
PLAIN_RE = re.compile(r"(?:[a-z0-9'%]+|[0-9]+\.[0-9]+)(?: (?:[a-z0-9'%]+|[0-9]+\.[0-9]+))*")
MAX_DEPTH = 40  # rule and list nesting followed before giving up (requiring nothing)
SUBSETS_KEPT = 256  # reduced Intents remembered, keyed by which templates passed


def _phrases(text: str) -> list[str]:
    """The contiguous pieces of a chunk that any text it matches contains, spaces collapsed."""
    return [" ".join(p.split()) for p in _PHRASE_RE.findall(text.casefold())]


def _text_values(slot_list: TextSlotList) -> list[Expression]:
    # hassil never matches an empty value, so it is no way around a requirement.
    return [v.text_in for v in slot_list.values
            if not (isinstance(v.text_in, TextChunk) and not v.text_in.text.strip())]


@dataclass
class _Analysis:
    """Required clauses of expressions, given the rules and lists one block sees."""

    rules: Mapping[str, Sentence]
    lists: Mapping[str, SlotList]
    rarity: Counter[str]  # phrase -> how many templates and values use it
    open_lists: dict[str, bool] = field(default_factory=dict)  # list name -> open_ended

    def clauses(self, expr: Expression, depth: int = 0) -> set[Clause]:
        """Clauses (CNF) that every text matching `expr` satisfies; empty: no requirement."""
        if depth > MAX_DEPTH:
            return set()
        if isinstance(expr, TextChunk):
            return {frozenset((f,)) for f in _phrases(expr.text)}
        if isinstance(expr, Alternative):
            if expr.is_optional:
                return set()
            return self._any_of(self.clauses(item, depth + 1) for item in expr.items)
        if isinstance(expr, Group):  # Sequence and Permutation: every item matches
            out: set[Clause] = set()
            run = ""  # neighbouring chunks of a sequence match as one piece of text
            for item in expr.items:
                if isinstance(item, TextChunk) and isinstance(expr, Sequence):
                    run += item.text
                    continue
                out |= {frozenset((p,)) for p in _phrases(run)}
                run = ""
                out |= self.clauses(item, depth + 1)
            return out | {frozenset((p,)) for p in _phrases(run)}
        if isinstance(expr, RuleReference):
            rule = self.rules.get(expr.rule_name)
            return set() if rule is None else self.clauses(rule.expression, depth + 1)
        if isinstance(expr, ListReference):
            slot_list = self.lists.get(expr.list_name)
            if isinstance(slot_list, TextSlotList):
                return self._any_of(self.clauses(v, depth + 1) for v in _text_values(slot_list))
        return set()  # number ranges: any text

    def open_ended(self, expr: Expression, depth: int = 0) -> bool:
        """Whether `expr` holds a wildcard (or a list or nesting this analysis does not know).
        An open wildcard lets hassil look for the next chunk further on and then take the
        chunk after it as the start of a word, so the template is left to hassil whole."""
        if depth > MAX_DEPTH:
            return True
        if isinstance(expr, Group):
            return any(self.open_ended(item, depth + 1) for item in expr.items)
        if isinstance(expr, RuleReference):
            rule = self.rules.get(expr.rule_name)
            return rule is None or self.open_ended(rule.expression, depth + 1)
        if isinstance(expr, ListReference):
            if expr.list_name not in self.open_lists:  # names are long lists: look once
                slot_list = self.lists.get(expr.list_name)
                self.open_lists[expr.list_name] = (
                    any(self.open_ended(v.text_in, depth + 1) for v in slot_list.values)
                    if isinstance(slot_list, TextSlotList)
                    else not isinstance(slot_list, RangeSlotList))
            return self.open_lists[expr.list_name]
        return False

    def edge(self, expr: Expression, start: bool, depth: int = 0) -> tuple[Edge, bool]:
        """(texts any match of `expr` starts with, or ends with if not `start`; whether it
        can match no text at all). None: it could start or end with anything."""
        if depth > MAX_DEPTH:
            return None, True
        if isinstance(expr, TextChunk):
            if not expr.text.strip():
                return frozenset(), True  # whitespace: the next item begins the word
            run = (_PREFIX_RE.match if start else _SUFFIX_RE.search)(expr.text.casefold().strip())
            piece = " ".join(run.group().split()) if run else ""
            return (frozenset((piece,)) if piece else None), False
        if isinstance(expr, Sequence):
            items = expr.items if start else expr.items[::-1]
            return self._edge_of_all(items, start, depth, in_order=True)
        if isinstance(expr, Permutation):  # any item may come first or last
            return self._edge_of_all(expr.items, start, depth, in_order=False)
        if isinstance(expr, Alternative):
            return self._edge_of_any(expr.items, start, depth, expr.is_optional)
        if isinstance(expr, RuleReference):
            rule = self.rules.get(expr.rule_name)
            return (None, True) if rule is None else self.edge(rule.expression, start, depth + 1)
        if isinstance(expr, ListReference):
            slot_list = self.lists.get(expr.list_name)
            if isinstance(slot_list, TextSlotList):
                return self._edge_of_any(_text_values(slot_list), start, depth, False)
        return None, True

    def _edge_of_all(self, items: Sequence_[Expression], start: bool, depth: int,
                     in_order: bool) -> tuple[Edge, bool]:
        texts: set[str] = set()
        nullable = True
        for item in items:
            edge, empty = self.edge(item, start, depth + 1)
            if edge is None:
                return None, True
            texts |= edge
            nullable = nullable and empty
            if not empty and in_order:
                break  # the items after it never come first
        return frozenset(texts), nullable

    def _edge_of_any(self, items: Iterable[Expression], start: bool, depth: int,
                     optional: bool) -> tuple[Edge, bool]:
        texts: set[str] = set()
        nullable, seen = optional, False
        for item in items:
            edge, empty = self.edge(item, start, depth + 1)
            if edge is None:
                return None, True
            texts |= edge
            nullable, seen = nullable or empty, True
        return (frozenset(texts), nullable) if seen else (None, True)

    def _any_of(self, branches: Iterable[set[Clause]]) -> set[Clause]:
        """One branch matches: the union of one clause from each branch must be met."""
        merged: set[str] = set()
        seen = False
        for branch in branches:
            if not branch:
                return set()  # this branch needs nothing
            seen = True
            best: Clause = min(branch, key=self._cost)
            merged |= best
        return {frozenset(merged)} if seen else set()

    def _cost(self, clause: frozenset[str]) -> tuple[int, int, list[str]]:
        # The clause most likely to be missing from a text rules out the most: few
        # phrases, and rare ones.
        return (len(clause), sum(self.rarity[f] for f in clause), sorted(clause))


@dataclass(frozen=True)
class _Template:
    intent: str
    block: int  # index into hassil's Intent.data
    sentence: Sentence
    needs: int  # bit mask of clauses


class TemplateIndex:
    """The templates of `intents` with the phrases they require; see the module docstring."""

    def __init__(self, intents: Intents) -> None:
        self.intents = intents
        # ignore_whitespace (for scripts without spaces) lets a chunk match across gaps.
        self.enabled = not intents.settings.ignore_whitespace
        self.skip_words = tuple(w.strip() for w in intents.skip_words if w.strip())
        # hassil removes them ignoring case; None: a word whose case folding is not ASCII's
        self.skip_probe = (tuple(w.lower() for w in self.skip_words)
                           if all(w.isascii() for w in self.skip_words) else None)
        rarity = _rarity(intents)
        bits: dict[tuple[str, Clause], int] = {}  # ("in"|"start"|"end", phrases) -> bit
        self.templates: list[_Template] = []
        groups: dict[int | None, list[tuple[int, int]]] = {}  # bit -> (template, needs)
        for name, intent in intents.intents.items():
            for b, data in enumerate(intent.data):
                analysis = _Analysis({**intents.expansion_rules, **data.expansion_rules},
                                     {**intents.slot_lists, **data.slot_lists}, rarity)
                for sentence in data.sentences:
                    ids = [bits.setdefault(key, len(bits))
                           for key in _requirements(analysis, sentence.expression)]
                    needs = sum(1 << i for i in set(ids))
                    self.templates.append(_Template(name, b, sentence, needs))
                    # Checked only when this requirement is met: its first word, if known.
                    groups.setdefault(ids[-1] if ids else None, []).append(
                        (len(self.templates) - 1, needs))
        self.always = sum(1 << i for i, _ in groups.pop(None, []))
        self.groups = tuple((bit, group) for bit, group in groups.items() if bit is not None)
        # phrase -> the bits it meets, so a text is searched once per phrase
        where: dict[str, dict[str, int]] = {"in": {}, "start": {}, "end": {}}
        for (kind, phrases), i in bits.items():
            for phrase in phrases:
                where[kind][phrase] = where[kind].get(phrase, 0) | (1 << i)
        # Phrases by their first two letters: a text is searched only for those it could hold.
        self.inside: dict[str, list[tuple[str, int]]] = {}
        for phrase, clauses in where["in"].items():
            self.inside.setdefault(phrase[:2], []).append((phrase, clauses))
        self.starts, self.ends = where["start"], where["end"]
        self.start_lengths = sorted({len(p) for p in self.starts})
        self.end_lengths = sorted({len(p) for p in self.ends})
        self._subsets: dict[int, Intents] = {}

    def passing(self, text: str) -> int | None:
        """Bit mask of the templates that could match `text`; None: any could."""
        if not self.enabled or not PLAIN_RE.fullmatch(text):
            return None
        texts = [text]
        if self.skip_probe is None or any(w in text for w in self.skip_probe):
            # hassil also matches the text without them: "turn please on" holds "turn on"
            texts.append(remove_skip_words(text, self.skip_words, False))
        haystack = "\n".join(texts)
        met = 0
        for lead in {haystack[i:i + n] for i in range(len(haystack)) for n in (1, 2)}:
            for phrase, clauses in self.inside.get(lead, ()):
                if phrase in haystack:
                    met |= clauses
        for t in texts:
            for n in self.start_lengths:
                met |= self.starts.get(t[:n], 0)
            for n in self.end_lengths:
                met |= self.ends.get(t[-n:], 0)
        keep = self.always
        for bit, group in self.groups:
            if met >> bit & 1:
                for i, needs in group:
                    if needs & met == needs:
                        keep |= 1 << i
        return keep

    def candidates(self, text: str) -> Intents:
        """`intents` reduced to the templates that could match `text`, in hassil's order."""
        keep = self.passing(text)
        if keep is None:
            return self.intents
        subset = self._subsets.get(keep)
        if subset is None:
            if len(self._subsets) >= SUBSETS_KEPT:
                self._subsets = {}  # start afresh: single dict steps are safe across threads
            subset = self._subsets[keep] = self._subset(keep)
        return subset

    def _subset(self, keep: int) -> Intents:
        chosen: dict[str, dict[int, list[Sentence]]] = {}
        for i, t in enumerate(self.templates):
            if keep >> i & 1:
                chosen.setdefault(t.intent, {}).setdefault(t.block, []).append(t.sentence)
        reduced: dict[str, Intent] = {}
        for name, blocks in chosen.items():
            data = self.intents.intents[name].data
            reduced[name] = Intent(name, [_with_sentences(data[b], s) for b, s in blocks.items()])
        return replace(self.intents, intents=reduced)


def _requirements(analysis: _Analysis, expr: Expression) -> list[tuple[str, Clause]]:
    """What any text matching the template `expr` has: phrases anywhere, at its start, at
    its end. Nothing for a template with a wildcard."""
    if analysis.open_ended(expr):
        return []
    out = [("in", c) for c in sorted(analysis.clauses(expr), key=sorted)]
    for kind, start in (("end", False), ("start", True)):  # the first word last: the key
        edge, empty = analysis.edge(expr, start)
        if edge and not empty:
            out.append((kind, edge))
    return out


def _with_sentences(data: IntentData, sentences: list[Sentence]) -> IntentData:
    """A copy of a block holding only `sentences` (already parsed and in hassil's order)."""
    copy = replace(data, sentence_texts=[s.text or "" for s in sentences])
    vars(copy)["sentences"] = sentences  # fills hassil's cached property: no re-parse
    return copy


def _rarity(intents: Intents) -> Counter[str]:
    counts: Counter[str] = Counter()
    lists = [*intents.slot_lists.values(),
             *(sl for i in intents.intents.values() for d in i.data
               for sl in d.slot_lists.values())]
    for slot_list in lists:
        if isinstance(slot_list, TextSlotList):
            for v in slot_list.values:
                if isinstance(v.text_in, TextChunk):
                    counts.update(set(_phrases(v.text_in.text)))
    for intent in intents.intents.values():
        for data in intent.data:
            for text in data.sentence_texts:
                counts.update(set(_phrases(text)))
    return counts
