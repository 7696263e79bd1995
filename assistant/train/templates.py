"""Takes the skills and a random generator; returns sampled (words, actions) from the templates.

Each hassil template is expanded with random choices. Home lists (name, area, floor) and
wildcards are filled from invented pools, numbers are spoken as digits or words, and the
words a slot came from are remembered so the target can copy exactly those words.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from hassil import Intents, RangeSlotList, TextSlotList, WildcardSlotList
from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RuleReference,
    Sentence,
    TextChunk,
)

from assistant.lmgrammar import ActionTarget, SlotTarget
from assistant.lmspec import COPY_TYPES, IntentRule, intent_rules, parse_number
from assistant.skills import SkillSet, SlotType
from assistant.tokenizer import split_words
from assistant.train import pools

IN_RANGE_SHARE = 0.93  # numbers drawn from the slot's declared range rather than the list's
HALVES_BELOW_SPAN = 40  # narrow ranges (temperatures) also get half steps
MAX_TRIES = 20  # resamples before giving up on a template that keeps misaligning slots


@dataclass(frozen=True)
class Example:
    """An utterance as normalised words, and the actions it should produce."""

    words: tuple[str, ...]
    actions: tuple[ActionTarget, ...]


@dataclass(frozen=True)
class _Filled:
    text: str
    slot: str | None = None
    value: str | None = None  # a list's canonical value; None when it must be copied


@dataclass(frozen=True)
class _Template:
    intent: str
    sentence: Sentence
    fixed: dict[str, str]
    rules: dict[str, Sentence]
    lists: dict[str, object]


class TemplateSampler:
    """Random expansions of every sentence template of every intent."""

    def __init__(self, skills: SkillSet, templates: dict[str, Any] | None = None) -> None:
        """Samples the skills' own templates, or `templates` checked against the skills."""
        intents = Intents.from_dict(templates or skills.template_dict)
        self.rules = {r.name: r for r in intent_rules(skills)}
        self.domains = {n: s.domains for n, s in skills.specs.items()}
        self.ranges = {(n, slot.name): slot.range for n, s in skills.specs.items()
                       for slot in s.slots.values() if slot.range is not None}
        self.by_intent: dict[str, list[_Template]] = {}
        for name, intent in intents.intents.items():
            if name not in self.rules:
                continue
            for data in intent.data:
                fixed = {k: _text(v) for k, v in data.slots.items() if not isinstance(v, list)}
                if not self.rules[name].accepts(fixed):
                    continue  # a training frame for a slot or value these skills lack
                rules = {**intents.expansion_rules, **data.expansion_rules}
                lists: dict[str, object] = {**intents.slot_lists, **data.slot_lists}
                for sentence in data.sentences:
                    self.by_intent.setdefault(name, []).append(
                        _Template(name, sentence, fixed, rules, lists))
        self.intents = sorted(self.by_intent)

    def sample(self, rng: random.Random, intent: str | None = None) -> Example:
        name = intent or rng.choice(self.intents)
        for _ in range(MAX_TRIES):
            template = rng.choice(self.by_intent[name])
            example = self._expand(rng, template)
            if example is not None:
                return example
        raise RuntimeError(f"templates of {name} keep producing unaligned slots")

    def _expand(self, rng: random.Random, t: _Template) -> Example | None:
        filled: list[_Filled] = []
        self._walk(rng, t.sentence.expression, t, filled)
        text, spans = "", []
        for f in filled:
            if f.slot is not None:
                spans.append((f.slot, f.value, len(text), len(text) + len(f.text)))
            text += f.text
        words = split_words(text)
        rule = self.rules[t.intent]
        targets: dict[str, SlotTarget] = {}
        for slot, value, start, end in spans:
            inside = [i for i, w in enumerate(words) if w.start_char < end and w.end_char > start]
            if not inside or any(words[i].start_char < start or words[i].end_char > end
                                 for i in inside):
                return None  # e.g. "{area}s": the slot is not a whole word
            target = self._target(rule, slot, value, (inside[0], inside[-1] + 1),
                                  [words[i].text for i in inside])
            if target is None:
                return None
            targets[slot] = target
        for slot, value in t.fixed.items():
            targets.setdefault(slot, SlotTarget(slot, value=value))
        ordered = tuple(targets[s.name] for s in rule.slots if s.name in targets)
        return Example(tuple(w.text for w in words), (ActionTarget(t.intent, ordered),))

    @staticmethod
    def _target(rule: IntentRule, slot: str, value: str | None, span: tuple[int, int],
                spoken: list[str]) -> SlotTarget | None:
        spec = next((s for s in rule.slots if s.name == slot), None)
        if spec is None:
            return None
        copyable = spec.type in COPY_TYPES and (
            spec.type is not SlotType.NUMBER or parse_number(spoken) is not None)
        if copyable and (value is None or value not in spec.values):
            return SlotTarget(slot, span=span)
        if value is not None and value in spec.values:
            return SlotTarget(slot, value=value)
        return None

    def _walk(self, rng: random.Random, e: Expression, t: _Template, out: list[_Filled]) -> None:
        if isinstance(e, TextChunk):
            out.append(_Filled(e.text))
        elif isinstance(e, Alternative):
            self._walk(rng, rng.choice(e.items), t, out)
        elif isinstance(e, Permutation):
            for item in rng.sample(e.items, len(e.items)):
                self._walk(rng, item, t, out)
        elif isinstance(e, Group):
            for item in e.items:
                self._walk(rng, item, t, out)
        elif isinstance(e, RuleReference):
            self._walk(rng, t.rules[e.rule_name].expression, t, out)
        elif isinstance(e, ListReference):
            out.append(self._fill(rng, e, t))

    def _fill(self, rng: random.Random, ref: ListReference, t: _Template) -> _Filled:
        slot = ref.slot_name
        if ref.list_name == "area":
            return _Filled(pools.room(rng), slot)
        if ref.list_name == "floor":
            return _Filled(pools.floor(rng), slot)
        if ref.list_name == "name":
            return _Filled(pools.device_name(rng, self.domains.get(t.intent, ())), slot)
        inline = ref.get_inline_range()
        slot_list = t.lists.get(ref.list_name)
        if inline is not None:
            lo, hi, step = inline
            return _Filled(pools.say_number(rng, rng.randrange(lo, hi + 1, step)) + " ", slot)
        if isinstance(slot_list, RangeSlotList):
            # the trailing space keeps "{n}<percent>" from gluing "ninety" to "percent"
            number = self._number(rng, t.intent, slot, slot_list)
            return _Filled(pools.say_number(rng, number) + " ", slot)
        if isinstance(slot_list, TextSlotList):
            choice = rng.choice(slot_list.values)
            parts: list[_Filled] = []
            self._walk(rng, choice.text_in, t, parts)
            spoken = "".join(p.text for p in parts).strip()
            value = _text(choice.value_out) if choice.value_out is not None else spoken
            return _Filled(spoken, slot, value)
        if isinstance(slot_list, WildcardSlotList):
            return _Filled(" ".join(pools.nonsense(rng) for _ in range(rng.randint(1, 3))), slot)
        raise RuntimeError(f"template of {t.intent} uses unknown list {{{ref.list_name}}}")


    def _number(self, rng: random.Random, intent: str, slot: str, sl: RangeSlotList) -> float:
        """Mostly inside the slot's declared range; sometimes anywhere the list allows."""
        bounds = self.ranges.get((intent, slot))
        if bounds is not None and rng.random() < IN_RANGE_SHARE:
            n: float = rng.randint(int(bounds[0]), int(bounds[1]))
            if bounds[1] - bounds[0] <= HALVES_BELOW_SPAN and rng.random() < 0.2:
                n += 0.5  # set-points like 21.5 degrees
            return n
        n = rng.randrange(sl.start, sl.stop + 1, sl.step)
        return n + 0.5 if sl.fraction_type is not None and rng.random() < 0.3 else n


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)
