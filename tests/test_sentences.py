"""Runs every tests/sentences/*.yaml file through the text path; lists each failing sentence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import Config, load_config
from assistant.errors import ConfigError
from assistant.pipeline import Assistant
from assistant.sentences import load_cases, run_cases

REPO = Path(__file__).resolve().parent.parent
SENTENCE_DIR = Path(__file__).resolve().parent / "sentences"
FILES = sorted(SENTENCE_DIR.glob("*.yaml"))
# The template matcher alone must pass every case; ASSISTANT_TEST_ENGINE=auto runs them
# through the micro-LLM path as well.
ENGINE = os.environ.get("ASSISTANT_TEST_ENGINE", "rules")
MIN_SENTENCES = 300


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(REPO / "config.yaml")


@pytest.fixture(scope="module")
def assistant(config: Config) -> Assistant:
    return Assistant(config, engine=ENGINE, publish=False)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_sentence_file(assistant: Assistant, path: Path) -> None:
    total, failures = run_cases(assistant, path)
    assert total > 0, f"{path.name} has no sentences"
    listing = "\n".join(f"  {f.sentence!r}: {f.problem}" for f in failures)
    assert not failures, f"{len(failures)} of {total} sentences failed in {path.name}:\n{listing}"


def _all_cases() -> list[tuple[str, list[str]]]:
    """(file, expected intent names) for every case in every file."""
    out = []
    for path in FILES:
        for case in load_cases(path).tests:
            names = [i.name for i in case.intents] + ([case.intent.name] if case.intent else [])
            out.append((path.name, names))
    return out


def test_enough_sentences() -> None:
    total = sum(len(c.sentences) for p in FILES for c in load_cases(p).tests)
    assert total >= MIN_SENTENCES, f"only {total} sentences in {SENTENCE_DIR}"


def test_every_device_intent_is_covered(assistant: Assistant) -> None:
    named = {n for _, names in _all_cases() for n in names}
    # Yes/no/never-mind are checked in tests/test_safety.py's dialogues.
    control = {"ConfirmYes", "ConfirmNo", "HassNevermind"}
    missing = sorted(set(assistant.skills.specs) - named - control)
    assert not missing, f"intents without a sentence case: {missing}"


def test_every_entity_is_exercised(config: Config) -> None:
    """Every exposed entity appears in some case's targets; hidden ones in none."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in FILES)
    missing = [e.id for e in config.entities if e.expose and e.id not in text]
    assert not missing, f"entities never targeted by a sentence case: {missing}"
    hidden = [e.id for e in config.entities if not e.expose and e.id in text]
    assert not hidden, f"hidden entities listed as targets: {hidden}"


def test_a_wrong_expectation_is_reported(assistant: Assistant, tmp_path: Path) -> None:
    """The runner can fail: a wrong intent, slot, status, target set or reason is each caught."""
    path = tmp_path / "wrong.yaml"
    path.write_text(
        "tests:\n"
        "  - sentences: ['turn off the kitchen lights']\n"
        "    intent: {name: HassTurnOn}\n"
        "  - sentences: ['turn off the kitchen lights']\n"
        "    intent: {name: HassTurnOff, slots: {area: Bedroom}}\n"
        "  - sentences: ['turn off the kitchen lights']\n"
        "    status: confirm\n"
        "  - sentences: ['turn off the kitchen lights']\n"
        "    targets: [light.kitchen_ceiling]\n"
        "  - sentences: ['turn on the flux capacitor']\n"
        "    status: rejected\n"
        "    reason: not understood\n",
        encoding="utf-8",
    )
    total, failures = run_cases(assistant, path)
    assert total == 5
    problems = [f.problem for f in failures]
    assert len(problems) == 5, problems
    assert problems[0] == "intents ['HassTurnOff'], expected ['HassTurnOn']"
    assert problems[1] == "HassTurnOff slot area='Kitchen', expected 'Bedroom'"
    assert problems[2] == "status ok (None), expected confirm"
    assert problems[3].startswith("targets ['light.kitchen_ceiling', 'light.kitchen_counter']")
    assert "expected it to contain 'not understood'" in problems[4]


def test_a_bad_case_file_names_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("tests:\n  - sentences: ['x']\n    intnet: {name: HassTurnOn}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_cases(path)
    assert str(err.value).startswith(f"{path}:3: tests[0].intnet: unknown key")
