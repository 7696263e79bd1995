"""Installer sentence tests: YAML cases in, a pass/fail report out (`assistant test-sentences`).

File shape (several files may be given):

    states:                       # optional: device states as if reported on MQTT
      lock.front_door: {state: LOCK}
    tests:
      - sentences: ["turn off the kitchen lights", "kitchen lights off"]
        intent: {name: HassTurnOff, slots: {area: Kitchen, domain: light}}
      - sentences: ["unlock the front door"]
        status: confirm             # ok (default) | rejected | confirm
      - sentences: ["lights off in the kitchen and close the blinds"]
        intents:                    # several commands in one sentence, in order
          - {name: HassTurnOff, slots: {area: Kitchen}}
          - {name: HassSetPosition, slots: {device_class: blind, position: 0}}
        targets: [light.kitchen_ceiling, light.kitchen_counter, cover.kitchen_blind]

Listed slots must match exactly (other slots may be present); `targets`, when given,
must equal the set of entity ids acted on; `reason` must be contained in the reason.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Config
from assistant.confload import build_config
from assistant.errors import ConfigError
from assistant.pipeline import Assistant
from assistant.structs import Outcome
from assistant.yamlsrc import load_yaml


@dataclass(frozen=True)
class ExpectedIntent:
    name: str
    slots: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    sentences: list[str]
    intent: ExpectedIntent | None = None
    intents: list[ExpectedIntent] = field(default_factory=list)
    status: str = "ok"
    targets: list[str] | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SentenceFile:
    tests: list[Case]
    states: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    file: str
    sentence: str
    problem: str


def load_cases(path: Path) -> SentenceFile:
    src = load_yaml(path)
    parsed, problems = build_config(SentenceFile, src)
    if problems or parsed is None:
        raise ConfigError(problems)
    return parsed


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return str(a).lower() == str(b).lower()


def check_case(case: Case, outcome: Outcome) -> str | None:
    """None when the outcome is what the case expects; else what differs."""
    if outcome.status.value != case.status:
        return f"status {outcome.status.value} ({outcome.reason}), expected {case.status}"
    if case.reason is not None and case.reason.lower() not in (outcome.reason or "").lower():
        return f"reason {outcome.reason!r}, expected it to contain {case.reason!r}"
    expected = case.intents or ([case.intent] if case.intent else [])
    acts = list(outcome.actions) + list(outcome.pending)
    if expected:
        got = [a.intent for a in acts]
        if got != [e.name for e in expected]:
            return f"intents {got}, expected {[e.name for e in expected]}"
        for exp, act in zip(expected, acts, strict=True):
            for k, v in exp.slots.items():
                if k not in act.slots or not _same(act.slots[k], v):
                    return f"{exp.name} slot {k}={act.slots.get(k)!r}, expected {v!r}"
    if case.targets is not None:
        got_t = sorted({t for a in acts for t in a.targets})
        if got_t != sorted(case.targets):
            return f"targets {got_t}, expected {sorted(case.targets)}"
    return None


def run_cases(assistant: Assistant, path: Path) -> tuple[int, list[Failure]]:
    data = load_cases(path)
    assistant.states.clear()
    assistant.states.update(data.states)
    total = 0
    failures: list[Failure] = []
    for case in data.tests:
        for sentence in case.sentences:
            total += 1
            outcome = assistant.handle_text(sentence)
            problem = check_case(case, outcome)
            if problem is not None:
                failures.append(Failure(str(path), sentence, problem))
            assistant.forget()  # no pending question or "it" leaks into the next case
    return total, failures


def run_sentence_tests(config: Config, files: list[Path], engine: str | None = None,
                       verbose: bool = False) -> int:
    assistant = Assistant(config, engine=engine, publish=False)
    total = 0
    failures: list[Failure] = []
    broken = 0
    for path in files:
        try:
            n, failed = run_cases(assistant, path)
        except ConfigError as exc:  # report every broken file, then go on with the rest
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            broken += 1
            continue
        total += n
        failures += failed
        if verbose:
            print(f"{path}: {n - len(failed)}/{n} passed")
    for f in failures:
        print(f"FAIL {f.file}: {f.sentence!r}: {f.problem}")
    print(f"{total - len(failures)} passed, {len(failures)} failed"
          + (f", {broken} file(s) could not be read" if broken else ""))
    return 1 if failures or broken else 0


