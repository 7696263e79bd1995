"""Checks a command's slot values: a parsed intent and its skill in, typed values out.

Numbers said in words become numbers and must lie in the slot's range and each target's
limits; device words as the micro-LLM may copy them ("lights") become the skill's words
("light"); a relative change ("a bit warmer") becomes each target's new value from its own
reported state. It also tells whether an entity is of the kind the values name and which
action rule they meet. Anything that cannot be carried out raises Rejected, whose message is
said to the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.config import Entity
from assistant.skills import IntentSpec, SlotType
from assistant.structs import ParsedIntent, SlotScalar
from assistant.textnorm import normalize

States = Mapping[str, Mapping[str, Any]]  # entity id -> last JSON state from its state topic


class Rejected(Exception):
    """This command cannot be carried out; the message is said to the user."""


def check_slots(spec: IntentSpec, parsed: ParsedIntent,
                device_words: Mapping[str, str]) -> dict[str, SlotScalar]:
    """The parse's slot values typed and checked against the skill's slots.

    device_words is resolve.DEVICE_WORDS, passed in: the resolver sits above this module."""
    slots: dict[str, SlotScalar] = {}
    for name, sv in parsed.slots.items():
        slot = spec.slots.get(name)
        if slot is None:
            raise Rejected(f"{spec.name} has no slot '{name}'")
        value = sv.value
        if slot.type is SlotType.NUMBER:
            value = to_number(value, name)
            if slot.range is not None and not slot.range[0] <= value <= slot.range[1]:
                unit = f" {slot.unit}" if slot.unit else ""
                raise Rejected(f"{name.replace('_', ' ')} must be between "
                               f"{fmt(slot.range[0])} and {fmt(slot.range[1])}{unit}, "
                               f"not {fmt(value)}")
        elif slot.type in (SlotType.ENUM, SlotType.DOMAIN, SlotType.DEVICE_CLASS):
            value = canonical_word(str(value).lower(), slot.type, slot.values, device_words)
            if slot.values and value not in slot.values and slot.type is not (
                    SlotType.DEVICE_CLASS):
                raise Rejected(f"unknown {name.replace('_', ' ')}: {sv.value}")
        slots[name] = value
    return slots


def check_limits(spec: IntentSpec, targets: list[Entity],
                 slots: dict[str, SlotScalar]) -> None:
    """Rejected unless every number lies within each target's limits and the slot's range."""
    for e in targets:
        for name, (low, high) in ((k, v) for k, v in e.limits.items() if len(v) == 2):
            value = slots.get(name)
            if isinstance(value, (int, float)) and not low <= value <= high:
                raise Rejected(f"the {e.name} allows {name.replace('_', ' ')} from "
                               f"{fmt(low)} to {fmt(high)}, not {fmt(value)}")
    for name, slot in spec.slots.items():
        value = slots.get(name)
        if (slot.type is SlotType.NUMBER and slot.range is not None
                and isinstance(value, (int, float))
                and not slot.range[0] <= value <= slot.range[1]):
            raise Rejected(f"{name.replace('_', ' ')} must be between {fmt(slot.range[0])} "
                           f"and {fmt(slot.range[1])}, not {fmt(value)}")


def relative_slots(spec: IntentSpec, targets: list[Entity], slots: dict[str, SlotScalar],
                   states: States) -> dict[str, dict[str, SlotScalar]]:
    """Each target's slots with the relative value computed from its own reported state."""
    rel = spec.relative
    assert rel is not None  # checked by the caller
    out: dict[str, dict[str, SlotScalar]] = {}
    for e in targets:
        current = (states.get(e.id) or {}).get(rel.state_key)
        if not isinstance(current, (int, float)) or isinstance(current, bool):
            raise Rejected(f"I don't know the current setting of the {e.name} yet")
        out[e.id] = {**slots, rel.slot: tidy(float(current) + rel.step)}
    return out


def canonical_word(value: str, kind: SlotType, allowed: tuple[str, ...],
                   device_words: Mapping[str, str]) -> str:
    """"lights" -> "light", "blinds" -> "blind": device words as the micro-LLM may copy them."""
    if value in allowed or not value:
        return value
    if kind is SlotType.DOMAIN and value in device_words:
        return device_words[value]
    if value.endswith("s") and value[:-1] in allowed:
        return value[:-1]
    if kind is SlotType.DEVICE_CLASS and value.endswith("s"):
        return value[:-1]
    return value


def to_number(value: SlotScalar, name: str) -> int | float:
    if isinstance(value, (int, float)):
        return tidy(value)
    spoken = normalize(str(value)).text.split()  # "fifty", "50%", "twenty one point five"
    try:
        return tidy(float(spoken[0]))
    except (ValueError, IndexError):
        raise Rejected(f"{name.replace('_', ' ')} is not a number: {value}") from None


def tidy(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 1)


def fmt(value: float) -> str:
    return str(tidy(value))


def fits(e: Entity, domain: str | None, device_class: str | None) -> bool:
    """Whether the entity is of the kind the domain and device class slots name."""
    if domain is not None and e.domain != domain:
        return False
    if device_class is not None and e.device_class != device_class:
        # A thermostat measures temperature even without a device class.
        return device_class == "temperature" and e.domain == "climate"
    return True


def singular(word: str) -> bool:
    """A spoken device word naming one thing: "lamp", "blind" (not "lamps", "lighting")."""
    last = word.lower().split()[-1] if word.strip() else ""
    return bool(last) and not last.endswith(("s", "ing"))


def pick_rule(spec: IntentSpec, entity: Entity, slots: Mapping[str, SlotScalar]) -> Any:
    """The first of the skill's action rules that serves this entity with these values."""
    for rule in spec.actions:
        if rule.domain and entity.domain not in rule.domain:
            continue
        if rule.device_class and entity.device_class not in rule.device_class:
            continue
        if any(str(slots.get(k)) != str(v) for k, v in rule.when.items()):
            continue
        return rule
    return None
