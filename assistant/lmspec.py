"""Takes a SkillSet and returns what the micro-LLM may say per intent; also reads spoken numbers.

Each intent's slots come in declaration order with their value tokens: an enum's values,
the `out` values of the lists its templates use, and the fixed values its sentence groups
set (e.g. `position: 0` for "close the blinds"). Slots of copy types take input words.
The rules depend only on the skill files, so the trainer and the runtime derive the same.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hassil import Intents, RangeSlotList, TextSlotList
from hassil.expression import Group, ListReference, Sentence, TextChunk

from assistant.skills import SkillSet, SlotType

# Slot types whose value is copied from the input rather than chosen from a closed set.
COPY_TYPES = frozenset({SlotType.ENTITY, SlotType.AREA, SlotType.FLOOR, SlotType.NUMBER,
                        SlotType.TEXT})


@dataclass(frozen=True)
class SlotRule:
    name: str
    type: SlotType
    values: tuple[str, ...]  # value tokens this slot may take, sorted


@dataclass(frozen=True)
class IntentRule:
    name: str
    slots: tuple[SlotRule, ...]  # in declaration order; the decoder keeps this order

    def accepts(self, values: dict[str, str]) -> bool:
        """True when every slot exists and takes the given value token."""
        by_name = {s.name: s for s in self.slots}
        return all(k in by_name and v in by_name[k].values for k, v in values.items())


def _value_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def intent_rules(skills: SkillSet) -> tuple[IntentRule, ...]:
    """Rules for every intent, sorted by name."""
    intents = Intents.from_dict(skills.template_dict)
    rules: list[IntentRule] = []
    for name in sorted(skills.specs):
        spec = skills.specs[name]
        values: dict[str, set[str]] = {s: set() for s in spec.slots}
        for slot in spec.slots.values():
            if slot.type not in COPY_TYPES:
                values[slot.name].update(slot.values)
        intent = intents.intents.get(name)
        for data in intent.data if intent else []:
            for slot_name, fixed in data.slots.items():
                items = fixed if isinstance(fixed, list) else [fixed]
                values.setdefault(slot_name, set()).update(_value_text(v) for v in items)
            lists = {**intents.slot_lists, **data.slot_lists}
            rules_here = {**intents.expansion_rules, **data.expansion_rules}
            for sentence in data.sentences:
                for ref in list_refs(sentence, rules_here):
                    slot_list = lists.get(ref.list_name)
                    if isinstance(slot_list, TextSlotList) and ref.slot_name in values:
                        values[ref.slot_name].update(_list_outs(slot_list))
        slots = tuple(SlotRule(s.name, s.type, tuple(sorted(values[s.name])))
                      for s in spec.slots.values())
        rules.append(IntentRule(name, slots))
    return tuple(rules)


def list_refs(sentence: Sentence, rules: dict[str, Sentence]) -> list[ListReference]:
    """Every {list} a template uses, also through its <rules>."""
    expr = sentence.expression
    if isinstance(expr, ListReference):
        return [expr]
    return list(expr.list_references(rules)) if isinstance(expr, Group) else []


def _list_outs(slot_list: TextSlotList) -> list[str]:
    outs = []
    for v in slot_list.values:
        if v.value_out is not None:
            outs.append(_value_text(v.value_out))
        elif isinstance(v.text_in, TextChunk):
            outs.append(v.text_in.text.strip())
    return outs


def range_slots(skills: SkillSet) -> set[str]:
    """Names of lists that are number ranges (their values are copied, not tokens)."""
    intents = Intents.from_dict(skills.template_dict)
    return {n for n, sl in intents.slot_lists.items() if isinstance(sl, RangeSlotList)}


def rules_fingerprint(rules: Sequence[IntentRule], skills: SkillSet) -> str:
    """sha256 over what the model was trained on: the rules and every sentence template."""
    payload = {
        "rules": [[r.name, [[s.name, s.type.value, list(s.values)] for s in r.slots]]
                  for r in rules],
        "templates": skills.template_dict,
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


# -- spoken numbers --------------------------------------------------------------------------
UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
_DIGITS_RE = re.compile(r"^\d+(\.\d+)?$")


# A recogniser's spelling of a digit after "twenty", "thirty"...: "twenty for", "thirty won".
# Only there: alone, "for" and "to" are just words.
SOUNDALIKE_UNITS = {"won": 1, "to": 2, "too": 2, "for": 4, "fore": 4, "ate": 8}
# Words that say a whole percentage: "lights on full", "a quarter open".
AMOUNTS = {("full",): 100, ("max",): 100, ("maximum",): 100, ("half",): 50,
           ("quarter",): 25, ("a", "quarter"): 25, ("three", "quarters"): 75}


def _below_hundred(words: Sequence[str]) -> int | None:
    if len(words) == 1:
        return UNITS.get(words[0], TENS.get(words[0]))
    if len(words) == 2 and words[0] in TENS:
        unit = UNITS.get(words[1], SOUNDALIKE_UNITS.get(words[1], 0))
        if 0 < unit < 10:
            return TENS[words[0]] + unit
    return None


def _integer(words: Sequence[str]) -> int | None:
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    if "hundred" in words:
        i = words.index("hundred")
        head = 1 if list(words[:i]) in (["a"], ["one"]) else _below_hundred(words[:i])
        rest = list(words[i + 1:])
        if rest[:1] == ["and"]:
            rest = rest[1:]
        tail = _below_hundred(rest) if rest else 0
        if head is None or tail is None or head > 9:
            return None
        return head * 100 + tail
    return _below_hundred(words)


def parse_number(words: Sequence[str]) -> int | float | None:
    """"21", "21.5", "twenty one", "a hundred", "twenty one point five", "half", "full",
    "twenty for" -> number."""
    words = list(words)
    if not words:
        return None
    if len(words) == 1 and _DIGITS_RE.match(words[0]):
        f = float(words[0])
        return int(f) if f.is_integer() and "." not in words[0] else f
    if tuple(words) in AMOUNTS:
        return AMOUNTS[tuple(words)]
    if "point" in words:
        i = words.index("point")
        whole = _integer(words[:i])
        frac = [UNITS.get(w) for w in words[i + 1:]]
        if whole is None or not frac or any(d is None or d > 9 for d in frac):
            return None
        return float(f"{whole}." + "".join(str(d) for d in frac))
    return _integer(words)
