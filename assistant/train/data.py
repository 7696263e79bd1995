"""Takes the skills and a DataConfig; returns training and dev Examples (utterance -> actions).

The mix: single commands from the skills' templates and from extra casual frames, each
noised by `augment`; several commands joined in one utterance; one command over two places
("kitchen and bedroom lights"); and out-of-domain speech whose target is no action.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.skills import IntentKind, SkillSet, SlotType
from assistant.train import pools
from assistant.train.augment import (
    Aug,
    augment,
    contrast,
    front_location,
    join,
    parallel,
    split_place,
)
from assistant.train.negatives import NegativeSampler
from assistant.train.paraphrase import paraphrase_templates
from assistant.train.templates import Example, TemplateSampler

log = logging.getLogger(__name__)

# Conversation intents make no sense inside a list of commands.
_SOLO_KINDS = frozenset({IntentKind.NEVERMIND, IntentKind.CONFIRM, IntentKind.CANCEL})
# Said after a command, the second word reverses it for another place: "... and on in the hall".
_OPPOSITES = {
    "HassTurnOff": ("HassTurnOn", "on"), "HassTurnOn": ("HassTurnOff", "off"),
    "LightBrighter": ("LightDimmer", "dimmer"), "LightDimmer": ("LightBrighter", "brighter"),
    "ClimateWarmer": ("ClimateCooler", "cooler"), "ClimateCooler": ("ClimateWarmer", "warmer"),
    "MediaVolumeUp": ("MediaVolumeDown", "quieter"),
    "MediaVolumeDown": ("MediaVolumeUp", "louder"),
}


@dataclass(frozen=True)
class DataConfig:
    seed: int = 1234  # everything below is a pure function of this seed and the skills
    n_train: int = 110_000  # utterances; about one pass fits the time budget
    n_dev: int = 1_500  # held-out utterances for the gate and confidence calibration
    frac_negative: float = 0.14  # out-of-domain utterances, target "nothing"
    frac_multi: float = 0.25  # two or three commands joined
    frac_split_place: float = 0.04  # one command over two places: "kitchen and hall lights"
    frac_contrast: float = 0.02  # "lights off in the kitchen and on in the hall"
    frac_parallel: float = 0.02  # "bedroom to 19 and the lounge to 21"
    frac_paraphrase: float = 0.4  # single commands from the casual frames, not the skills
    max_words: int = 40  # longer utterances are resampled
    aug: Aug = field(default_factory=Aug)
    # Parts of a joined utterance get lighter noise: the joining already makes them long.
    part_aug: Aug = field(default_factory=lambda: Aug(
        prefix=0.1, suffix=0.05, filler=0.08, stutter=0.03, confuse=0.08, drop=0.05,
        front_location=0.05, context=0.03))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataConfig:
        return cls(**{**data, "aug": Aug(**data["aug"]), "part_aug": Aug(**data["part_aug"])})


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
        self.specs = skills.specs
        self.opposite = {a: b for a, b in _OPPOSITES.items()
                         if a in skills.specs and b[0] in skills.specs}

    def number(self, rng: random.Random, intent: str, slot: str) -> str | None:
        spec = self.specs[intent].slots.get(slot)
        if spec is None or spec.type is not SlotType.NUMBER or spec.range is None:
            return None
        return pools.say_number(rng, rng.randint(int(spec.range[0]), int(spec.range[1])))

    def single(self, rng: random.Random, multi: bool = False) -> Example:
        use_para = rng.random() < self.cfg.frac_paraphrase and self.paraphrases.intents
        sampler, weights = ((self.paraphrases, self.para_weights) if use_para
                            else (self.templates, self.weights))
        names = [n for n in sampler.intents if not multi or n in self.multi_ok]
        intent = rng.choices(names, [weights[n] for n in names])[0]
        return augment(rng, sampler.sample(rng, intent),
                       self.cfg.part_aug if multi else self.cfg.aug)

    def example(self, rng: random.Random) -> Example:
        r = rng.random()
        c = self.cfg
        if r < c.frac_negative:
            return Example(tuple(self.negatives.sample(rng).split()), ())
        r -= c.frac_negative
        if r < c.frac_multi:
            n = 2 if rng.random() < 0.8 else 3
            parts = [self.single(rng, multi=True) for _ in range(n)]
            if rng.random() < 0.2:
                parts[0] = front_location(parts[0])
            return join(rng, parts)
        r -= c.frac_multi
        makers: list[tuple[float, Callable[[Example], Example | None]]] = [
            (c.frac_split_place, lambda ex: split_place(rng, ex)),
            (c.frac_contrast,
             lambda ex: contrast(rng, ex, self.opposite) if _reversible(ex) else None),
            (c.frac_parallel, lambda ex: parallel(
                rng, ex, lambda slot: self.number(rng, ex.actions[0].intent, slot))),
        ]
        for share, make in makers:
            if r < share:
                for _ in range(20):
                    made = make(self.single(rng, multi=True))
                    if made is not None:
                        return made
            r -= share
        return self.single(rng)


def _reversible(ex: Example) -> bool:
    """"... and on in the hall" reads naturally for lights, fans, switches, not for locks."""
    return all(s.value not in ("lock", "cover", "valve") for a in ex.actions for s in a.slots)


def _weights(sampler: TemplateSampler) -> dict[str, float]:
    # sqrt: intents with many templates get more data, but small ones are not starved
    return {n: math.sqrt(len(sampler.by_intent[n])) for n in sampler.intents}


def generate(skills: SkillSet, cfg: DataConfig, held_out: frozenset[str] = frozenset()
             ) -> tuple[list[Example], list[Example]]:
    """(train, dev): dev utterances never occur in train, `held_out` texts in neither."""
    gen = Generator(skills, cfg)

    def usable(ex: Example) -> bool:
        return 0 < len(ex.words) <= cfg.max_words and " ".join(ex.words) not in held_out

    dev_rng = random.Random(cfg.seed + 1)
    dev: dict[tuple[str, ...], Example] = {}
    while len(dev) < cfg.n_dev:
        ex = gen.example(dev_rng)
        if usable(ex):
            dev.setdefault(ex.words, ex)
    rng = random.Random(cfg.seed)
    train: list[Example] = []
    for _ in range(cfg.n_train):
        ex = gen.example(rng)
        while ex.words in dev or not usable(ex):
            ex = gen.example(rng)
        train.append(ex)
    log.info("generated %d training and %d dev utterances", len(train), len(dev))
    return train, list(dev.values())
