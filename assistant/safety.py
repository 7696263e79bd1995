"""Matches resolved actions against confirm, trust and deny rules: action in, verdict out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from assistant.config import Config, Entity, SafetyRule
from assistant.skills import IntentSpec


def rule_matches(rule: SafetyRule, intent: str, entity: Entity | None,
                 slots: Mapping[str, object]) -> bool:
    """True when every non-empty field of the rule matches this intent/target/slots."""
    if rule.intent and intent not in rule.intent:
        return False
    if entity is None:
        if rule.domain or rule.device_class or rule.entity or rule.area:
            return False
    else:
        if rule.domain and entity.domain not in rule.domain:
            return False
        if rule.device_class and entity.device_class not in rule.device_class:
            return False
        if rule.entity and entity.id not in rule.entity:
            return False
        if rule.area and entity.area not in rule.area:
            return False
    for name, want in rule.slots.items():
        have = slots.get(name)
        if have is None or str(have).lower() != str(want).lower():
            return False
    return True


@dataclass(frozen=True)
class Verdict:
    denied: SafetyRule | None = None  # the first deny rule that fired
    risky: SafetyRule | None = None  # the first confirm/risk rule that fired (not trusted)


def judge(config: Config, spec: IntentSpec, targets: Iterable[Entity],
          slots: Mapping[str, object]) -> Verdict:
    """Deny beats confirm; an installer's trust rule waives a confirmation, never a deny."""
    targets = list(targets) or [None]  # type: ignore[list-item]
    for entity in targets:
        for rule in config.safety.deny:
            if rule_matches(rule, spec.name, entity, slots):
                return Verdict(denied=rule)
    risks = [*spec.risk, *config.safety.confirm]
    for entity in targets:
        for rule in risks:
            if rule_matches(rule, spec.name, entity, slots) and not any(
                rule_matches(t, spec.name, entity, slots) for t in config.safety.trust
            ):
                return Verdict(risky=rule)
    return Verdict()
