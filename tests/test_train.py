"""Training: data generation invariants, the held-out sets, and a tiny end-to-end run."""

from __future__ import annotations

import io
import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("torch")  # the [train] extra

from assistant.config import load_config
from assistant.lm import MicroLM
from assistant.lmgrammar import ActionVocab, Constraint, format_actions
from assistant.lmmodel import MANIFEST
from assistant.lmspec import intent_rules, parse_number
from assistant.skills import SkillSet, load_skills
from assistant.tokenizer import Tokenizer, normalize
from assistant.train import run_training
from assistant.train.augment import Aug, augment
from assistant.train.data import DataConfig, Generator, generate
from assistant.train.settings import TrainSettings
from assistant.train.stages import eval_overlap, eval_sentences, held_out_digest
from assistant.train.templates import Example, TemplateSampler

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def skills() -> SkillSet:
    return load_skills(REPO / "skills")


@pytest.fixture(scope="module")
def generator(skills: SkillSet) -> Generator:
    return Generator(skills, DataConfig())


def _copies(ex: Example) -> list[str]:
    """The copied words; a number by its value, as a recogniser may spell its digits
    differently ("thirty for")."""
    out = []
    for s in (s for a in ex.actions for s in a.slots if s.span):
        words = ex.words[s.span[0]:s.span[1]]
        number = parse_number(words)
        out.append(str(number) if number is not None else " ".join(words))
    return out


def test_template_samples_copy_whole_words(skills: SkillSet) -> None:
    sampler = TemplateSampler(skills)
    rng = random.Random(0)
    for _ in range(500):
        ex = sampler.sample(rng)
        assert ex.words and len(ex.actions) == 1
        for a in ex.actions:
            for s in a.slots:
                assert (s.span is None) != (s.value is None)
                if s.span:
                    assert 0 <= s.span[0] < s.span[1] <= len(ex.words)


def test_augmentation_keeps_copied_words(generator: Generator) -> None:
    rng = random.Random(1)
    noisy = Aug(prefix=1, suffix=1, filler=1, stutter=1, confuse=1, drop=1, front_location=1,
                context=1)
    for _ in range(300):
        ex = generator.templates.sample(rng)
        assert _copies(augment(rng, ex, noisy)) == _copies(ex)


def test_every_generated_target_is_accepted_by_the_grammar(generator: Generator,
                                                           skills: SkillSet) -> None:
    tok = Tokenizer.load(REPO / "models" / "tokenizer.model")
    vocab = ActionVocab(tok.vocab_size, intent_rules(skills))
    rng = random.Random(3)
    for _ in range(1500):
        ex = generator.example(rng)
        word_ids = [tok.word_ids(w) for w in ex.words]
        c = Constraint(vocab, list(ex.words), word_ids)
        for token in vocab.encode(ex.actions, word_ids):
            c.advance(token)
        assert c.done
        assert format_actions(c.actions, ex.words) == format_actions(ex.actions, ex.words)


def test_generation_is_deterministic(skills: SkillSet) -> None:
    cfg = DataConfig(n_train=300, n_dev=50)
    assert generate(skills, cfg) == generate(skills, cfg)


def test_held_out_sets_never_occur_in_the_shipped_models_training_data(
        skills: SkillSet) -> None:
    manifest = json.loads((REPO / "models" / MANIFEST).read_text())
    eval_dir = REPO / "benchmarks" / "data"
    assert manifest["held_out"]["sha256"] == held_out_digest(eval_dir), \
        "the evaluation sets changed since the model was trained: run `assistant train`"
    cfg = DataConfig.from_json(manifest["training"]["data"])
    train, dev = generate(skills, cfg, frozenset(eval_sentences(eval_dir)))
    assert eval_overlap(eval_dir, train) == []
    assert eval_overlap(eval_dir, dev) == []


def test_eval_overlap_is_detected(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text('tests:\n  - sentences: ["Turn OFF the lights!"]\n')
    train = [Example(tuple(normalize("turn off the lights").split()), ())]
    assert eval_overlap(tmp_path, train) == ["x.yaml: 'Turn OFF the lights!'"]


def test_tiny_training_run_end_to_end(tmp_path: Path, skills: SkillSet) -> None:
    config = load_config(REPO / "config.yaml")
    config = replace(config, path=str(tmp_path / "config.yaml"),
                     skills_dir=str(REPO / "skills"),
                     understanding=replace(config.understanding,
                                           model_dir=str(tmp_path / "models")))
    out = io.StringIO()
    assert run_training(config, settings=TrainSettings().small(), out=out) == 0, out.getvalue()
    assert "gate passed" in out.getvalue()
    manifest = json.loads((tmp_path / "models" / MANIFEST).read_text())
    assert manifest["gate"]["passed"] is True
    lm = MicroLM.load(tmp_path / "models", skills)
    assert lm.parse("turn off the kitchen lights").engine.value == "lm"
    # a later stage alone reuses the earlier stages' files
    assert run_training(config, stages=["gate"], settings=TrainSettings().small(),
                        out=out) == 0


def test_failing_gate_installs_nothing(tmp_path: Path) -> None:
    config = load_config(REPO / "config.yaml")
    config = replace(config, path=str(tmp_path / "config.yaml"),
                     skills_dir=str(REPO / "skills"),
                     understanding=replace(config.understanding,
                                           model_dir=str(tmp_path / "models")))
    small = TrainSettings().small()
    strict = replace(small, gate=replace(small.gate, min_dev_exact=1.01))
    out = io.StringIO()
    assert run_training(config, settings=strict, out=out) == 1
    assert "gate FAILED" in out.getvalue()
    assert not (tmp_path / "models" / MANIFEST).exists()
