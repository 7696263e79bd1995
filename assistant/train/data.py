"""Takes the skills and a DataConfig; returns training and dev Examples (utterance -> actions).

The mix: single commands from the skills' templates and from extra casual frames, each
noised by `augment`; several commands joined in one utterance; one command over two places
("kitchen and bedroom lights"); and out-of-domain speech whose target is no action.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.skills import IntentKind, SkillSet
from assistant.train.augment import Aug, augment, join, split_place
from assistant.train.negatives import NegativeSampler
from assistant.train.paraphrase import paraphrase_templates
from assistant.train.templates import Example, TemplateSampler

log = logging.getLogger(__name__)

# Conversation intents make no sense inside a list of commands.
_SOLO_KINDS = frozenset({IntentKind.NEVERMIND, IntentKind.CONFIRM, IntentKind.CANCEL})


@dataclass(frozen=True)
class DataConfig:
    seed: int = 1234  # everything below is a pure function of this seed and the skills
    n_train: int = 110_000  # utterances; about one pass fits the time budget
    n_dev: int = 1_500  # held-out utterances for the gate and confidence calibration
    frac_negative: float = 0.14  # out-of-domain utterances, target "nothing"
    frac_multi: float = 0.17  # two or three commands joined
    frac_split_place: float = 0.04  # one command over two places: "kitchen and hall lights"
    frac_paraphrase: float = 0.3  # single commands from the casual frames, not the skills
    max_words: int = 40  # longer utterances are resampled
    aug: Aug = field(default_factory=Aug)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Generator:
    """Draws Examples of every kind from the skills; deterministic given the rng."""

    def __init__(self, skills: SkillSet, cfg: DataConfig) -> None:
        self.cfg = cfg
        names = set(skills.specs)
        self.templates = TemplateSampler(skills)
        self.paraphrases = TemplateSampler(skills, paraphrase_templates(names))
        self.negatives = NegativeSampler(names)
        self.weights = _weights(self.templates)
        self.para_weights = _weights(self.paraphrases)
        self.multi_ok = [n for n in self.templates.intents
                         if skills.specs[n].kind not in _SOLO_KINDS]

    def single(self, rng: random.Random, multi: bool = False) -> Example:
        use_para = rng.random() < self.cfg.frac_paraphrase and self.paraphrases.intents
        sampler, weights = ((self.paraphrases, self.para_weights) if use_para
                            else (self.templates, self.weights))
        names = [n for n in sampler.intents if not multi or n in self.multi_ok]
        intent = rng.choices(names, [weights[n] for n in names])[0]
        return augment(rng, sampler.sample(rng, intent), self.cfg.aug)

    def example(self, rng: random.Random) -> Example:
        r = rng.random()
        c = self.cfg
        if r < c.frac_negative:
            return Example(tuple(self.negatives.sample(rng).split()), ())
        if r < c.frac_negative + c.frac_multi:
            n = 2 if rng.random() < 0.8 else 3
            return join(rng, [self.single(rng, multi=True) for _ in range(n)])
        if r < c.frac_negative + c.frac_multi + c.frac_split_place:
            for _ in range(10):
                split = split_place(rng, self.single(rng, multi=True))
                if split is not None:
                    return split
        return self.single(rng)


def _weights(sampler: TemplateSampler) -> dict[str, float]:
    # sqrt: intents with many templates get more data, but small ones are not starved
    return {n: math.sqrt(len(sampler.by_intent[n])) for n in sampler.intents}


def generate(skills: SkillSet, cfg: DataConfig) -> tuple[list[Example], list[Example]]:
    """(train, dev): dev utterances never occur in train."""
    gen = Generator(skills, cfg)
    dev_rng = random.Random(cfg.seed + 1)
    dev: dict[tuple[str, ...], Example] = {}
    while len(dev) < cfg.n_dev:
        ex = gen.example(dev_rng)
        if len(ex.words) <= cfg.max_words:
            dev.setdefault(ex.words, ex)
    rng = random.Random(cfg.seed)
    train: list[Example] = []
    for _ in range(cfg.n_train):
        ex = gen.example(rng)
        while ex.words in dev or len(ex.words) > cfg.max_words or not ex.words:
            ex = gen.example(rng)
        train.append(ex)
    log.info("generated %d training and %d dev utterances", len(train), len(dev))
    return train, list(dev.values())
