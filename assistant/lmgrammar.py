"""Takes skills and an utterance's words; returns the action tokens allowed next and the parse.

The micro-LLM writes an action sequence after the utterance, e.g. for "kitchen lights off
and close the blinds":

    <sep> intent:HassTurnOff slot:area ▁kitchen <end> slot:domain value:light
          <and> ▁close intent:HassSetPosition slot:device_class value:blind
          slot:position value:0 <eos>

Names, areas, floors, free text and numbers are copied word by word from the input (so a
name added to config.yaml needs no retrain); enums are value tokens. Each command after the
first starts with an anchor: the first token of the word where that command begins
("▁close"), strictly after the previous anchor. The anchor moves the model's attention to
the right part of the utterance and rules out saying the same command twice. `Constraint`
is the state machine that admits only sequences that parse: intents from the skills, each
intent's own slots in declaration order, that slot's values, copies of whole input words,
and anchors that move forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from assistant.lmspec import COPY_TYPES, IntentRule, SlotRule, parse_number
from assistant.skills import SlotType
from assistant.structs import ParsedIntent, SlotValue
from assistant.tokenizer import Word

PAD, BOS, SEP, END, AND, NONE, EOS = (
    "<pad>", "<bos>", "<sep>", "<end>", "<and>", "<none>", "<eos>")
STRUCTURAL = (PAD, BOS, SEP, END, AND, NONE, EOS)
MAX_ACTIONS = 4  # actions in one utterance; more is almost surely a runaway decode
MAX_SPAN_WORDS = 6  # longest copied name/area/number, in words


@dataclass(frozen=True)
class SlotTarget:
    """A slot in a target or decoded action: a value token, or a copy of input words."""

    slot: str
    value: str | None = None  # canonical value token text
    span: tuple[int, int] | None = None  # (first word, last word + 1) copied from the input


@dataclass(frozen=True)
class ActionTarget:
    intent: str
    slots: tuple[SlotTarget, ...] = ()
    anchor: int = 0  # index of the word where this command begins (0 for the first)


class ActionVocab:
    """Action tokens, numbered after the tokenizer's pieces, plus the rules per intent."""

    def __init__(self, base: int, rules: Sequence[IntentRule]) -> None:
        self.base = base
        self.rules = {r.name: r for r in rules}
        values = sorted({v for r in rules for s in r.slots for v in s.values})
        slots = sorted({s.name for r in rules for s in r.slots})
        self.tokens: tuple[str, ...] = (
            *STRUCTURAL, *(f"intent:{r.name}" for r in rules),
            *(f"slot:{s}" for s in slots), *(f"value:{v}" for v in values))
        self._ids = {t: base + i for i, t in enumerate(self.tokens)}
        self.size = base + len(self.tokens)

    def id(self, token: str) -> int:
        return self._ids[token]

    def name(self, token_id: int) -> str:
        return self.tokens[token_id - self.base]

    def encode(self, actions: Sequence[ActionTarget],
               word_ids: Sequence[Sequence[int]]) -> list[int]:
        """Target ids after <sep>, ending in <eos>; an empty list of actions is <none>."""
        if not actions:
            return [self.id(NONE), self.id(EOS)]
        out: list[int] = []
        for n, act in enumerate(actions):
            if n:
                out += [self.id(AND), word_ids[act.anchor][0]]
            out.append(self.id(f"intent:{act.intent}"))
            for st in act.slots:
                out.append(self.id(f"slot:{st.slot}"))
                if st.span is not None:
                    out += [i for w in range(*st.span) for i in word_ids[w]]
                    out.append(self.id(END))
                else:
                    out.append(self.id(f"value:{st.value}"))
        out.append(self.id(EOS))
        return out


class Phase(str, Enum):
    START = "start"  # expects an intent or <none>
    ANCHOR = "anchor"  # after <and>: expects the first token of a later word
    ANCHORED = "anchored"  # after an anchor: expects an intent
    INTENT = "intent"  # expects a slot, <and> or <eos>
    SLOT = "slot"  # expects a value token or the first token of a copy
    COPY = "copy"  # expects the next input token or <end>
    NONE = "none"  # after <none>: only <eos>
    DONE = "done"


@dataclass
class Constraint:
    """What may come next, given the tokens so far; `advance` records each choice."""

    vocab: ActionVocab
    words: Sequence[str]  # normalised input words
    word_ids: Sequence[Sequence[int]]  # their token ids
    phase: Phase = Phase.START
    actions: list[ActionTarget] = field(default_factory=list)
    _intent: IntentRule | None = None
    _slots: list[SlotTarget] = field(default_factory=list)
    _slot_index: int = -1
    _slot: SlotRule | None = None
    _copies: list[tuple[int, int]] = field(default_factory=list)  # (start pos, next pos)
    _anchor: int = 0  # word where the current command begins

    def __post_init__(self) -> None:
        self._flat = [i for ids in self.word_ids for i in ids]
        self._word_of = [w for w, ids in enumerate(self.word_ids) for _ in ids]
        self._starts = {p for p in range(len(self._flat))
                        if p == 0 or self._word_of[p] != self._word_of[p - 1]}
        self._first_pos = {self._word_of[p]: p for p in sorted(self._starts, reverse=True)}
        n = len(self.words)
        # Spans a copy may take, as word ranges: any words for names and text; for numbers
        # only ranges that read as a number, so that a copy can never run into a dead end.
        self._ends: dict[bool, list[set[int]]] = {
            False: [set(range(i + 1, min(n, i + MAX_SPAN_WORDS) + 1)) for i in range(n)],
            True: [{j for j in range(i + 1, min(n, i + MAX_SPAN_WORDS) + 1)
                    if parse_number(self.words[i:j]) is not None} for i in range(n)],
        }

    def _ends_for(self, slot: SlotRule) -> list[set[int]]:
        return self._ends[slot.type is SlotType.NUMBER]

    def _fillable(self, slot: SlotRule) -> bool:
        """A slot is offered only if some value can complete it."""
        return bool(slot.values) or (slot.type in COPY_TYPES and any(self._ends_for(slot)))

    # -- what is allowed ---------------------------------------------------------------------
    def allowed(self) -> list[int]:
        v = self.vocab
        if self.phase is Phase.START:
            return [v.id(NONE), *(v.id(f"intent:{n}") for n in v.rules)]
        if self.phase is Phase.ANCHOR:
            return sorted({ids[0] for ids in self.word_ids[self._anchor + 1:]})
        if self.phase is Phase.ANCHORED:
            return [v.id(f"intent:{n}") for n in v.rules]
        if self.phase is Phase.NONE:
            return [v.id(EOS)]
        if self.phase is Phase.INTENT:
            assert self._intent is not None
            out = [v.id(f"slot:{s.name}") for s in self._intent.slots[self._slot_index + 1:]
                   if self._fillable(s)]
            if len(self.actions) + 1 < MAX_ACTIONS and self._anchor + 1 < len(self.words):
                out.append(v.id(AND))
            return [*out, v.id(EOS)]
        if self.phase is Phase.SLOT:
            assert self._slot is not None
            out = [v.id(f"value:{x}") for x in self._slot.values]
            if self._slot.type in COPY_TYPES:
                ends = self._ends_for(self._slot)
                out += sorted({self._flat[self._first_pos[w]] for w in range(len(self.words))
                               if ends[w]})
            return out
        if self.phase is Phase.COPY:
            return self._copy_allowed()
        return []

    def _copy_allowed(self) -> list[int]:
        assert self._slot is not None
        ends = self._ends_for(self._slot)
        out: set[int] = set()
        for start, nxt in self._copies:
            first = self._word_of[start]
            if (nxt == len(self._flat) or nxt in self._starts) and \
                    self._word_of[nxt - 1] + 1 in ends[first]:
                out.add(self.vocab.id(END))
            if nxt < len(self._flat) and (nxt not in self._starts or any(
                    j > self._word_of[nxt] for j in ends[first])):
                out.add(self._flat[nxt])
        return sorted(out)

    # -- recording a choice ------------------------------------------------------------------
    def advance(self, token_id: int) -> None:
        """Take one token; raises ValueError if it is not allowed here."""
        if token_id not in self.allowed():
            raise ValueError(f"token {token_id} not allowed in phase {self.phase.value}")
        if token_id >= self.vocab.base:
            self._advance_action(self.vocab.name(token_id))
        elif self.phase is Phase.ANCHOR:
            self._anchor = next(w for w in range(self._anchor + 1, len(self.words))
                                if self.word_ids[w][0] == token_id)
            self.phase = Phase.ANCHORED
        elif self.phase is Phase.SLOT:
            assert self._slot is not None
            ends = self._ends_for(self._slot)
            self._copies = [(p, p + 1) for p in sorted(self._starts)
                            if self._flat[p] == token_id and ends[self._word_of[p]]]
            self.phase = Phase.COPY
        else:
            self._copies = [(s, n + 1) for s, n in self._copies
                            if n < len(self._flat) and self._flat[n] == token_id]
            self._copies = [c for c in self._copies if self._viable(c)]

    def _advance_action(self, tok: str) -> None:
        if tok == NONE:
            self.phase = Phase.NONE
        elif tok == EOS:
            self._close_action()
            self.phase = Phase.DONE
        elif tok == AND:
            self._close_action()
            self.phase = Phase.ANCHOR
        elif tok.startswith("intent:"):
            self._intent = self.vocab.rules[tok[len("intent:"):]]
            self._slots, self._slot_index = [], -1
            self.phase = Phase.INTENT
        elif tok.startswith("slot:"):
            assert self._intent is not None
            names = [s.name for s in self._intent.slots]
            self._slot_index = names.index(tok[len("slot:"):])
            self._slot = self._intent.slots[self._slot_index]
            self.phase = Phase.SLOT
        elif tok.startswith("value:"):
            assert self._slot is not None
            self._slots.append(SlotTarget(self._slot.name, value=tok[len("value:"):]))
            self.phase = Phase.INTENT
        elif tok == END:
            assert self._slot is not None
            ends = self._ends_for(self._slot)
            start, nxt = next((s, n) for s, n in self._copies
                              if (n == len(self._flat) or n in self._starts)
                              and self._word_of[n - 1] + 1 in ends[self._word_of[s]])
            span = (self._word_of[start], self._word_of[nxt - 1] + 1)
            self._slots.append(SlotTarget(self._slot.name, span=span))
            self.phase = Phase.INTENT

    def _viable(self, copy: tuple[int, int]) -> bool:
        """A partial copy that can still end on a whole, valid span."""
        assert self._slot is not None
        start, nxt = copy
        last_word = self._word_of[nxt - 1]
        return any(j > last_word for j in self._ends_for(self._slot)[self._word_of[start]])

    def _close_action(self) -> None:
        if self._intent is not None:
            self.actions.append(ActionTarget(self._intent.name, tuple(self._slots),
                                             self._anchor))
            self._intent = None

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE



def to_parsed(actions: Sequence[ActionTarget], words: Sequence[Word],
              rules: dict[str, IntentRule], text: str) -> tuple[ParsedIntent, ...]:
    """Decoded actions as ParsedIntents: copies carry input offsets, numbers are numbers."""
    out: list[ParsedIntent] = []
    for act in actions:
        types = {s.name: s.type for s in rules[act.intent].slots}
        slots: dict[str, SlotValue] = {}
        for st in act.slots:
            slots[st.slot] = _slot_value(st, types[st.slot], words, text)
        out.append(ParsedIntent(act.intent, slots))
    return tuple(out)


def _slot_value(st: SlotTarget, kind: SlotType, words: Sequence[Word], text: str) -> SlotValue:
    if st.span is None:
        assert st.value is not None
        if kind is SlotType.NUMBER:
            number = parse_number([st.value])
            return SlotValue(number if number is not None else st.value)
        return SlotValue(st.value)
    first, last = words[st.span[0]], words[st.span[1] - 1]
    spoken = [w.text for w in words[st.span[0]:st.span[1]]]
    raw = text[first.start_char:last.end_char]
    if kind is SlotType.NUMBER:
        number = parse_number(spoken)
        assert number is not None  # the constraint only closes spans that parse
        return SlotValue(number, raw, first.start_char, last.end_char)
    return SlotValue(" ".join(spoken), raw, first.start_char, last.end_char)


def format_actions(actions: Sequence[ActionTarget], words: Sequence[str]) -> str:
    """Readable form for logs and benchmarks: `HassTurnOff area="kitchen" domain=light ; ...`."""
    if not actions:
        return "none"
    parts = []
    for act in actions:
        slots = [f'{s.slot}="{" ".join(words[s.span[0]:s.span[1]])}"' if s.span
                 else f"{s.slot}={s.value}" for s in act.slots]
        parts.append(" ".join([act.intent, *slots]))
    return " ; ".join(parts)
