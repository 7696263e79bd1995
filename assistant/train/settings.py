"""Returns the training recipe: one frozen dataclass per stage, all recorded in the manifest."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from assistant.train.data import DataConfig
from assistant.train.fit import FitConfig
from assistant.train.gate import GateConfig
from assistant.train.model import ModelConfig
from assistant.train.spm import TokenizerConfig


@dataclass(frozen=True)
class TrainSettings:
    data: DataConfig = field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)  # vocab_size is set from the data
    fit: FitConfig = field(default_factory=FitConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    min_confidence: float = 0.5  # what the gate counts as accepted (the runtime's default)

    def to_json(self) -> dict[str, Any]:
        return {"data": self.data.to_json(), "tokenizer": self.tokenizer.to_json(),
                "model": self.model.to_json(), "fit": self.fit.to_json(),
                "gate": self.gate.to_json(), "min_confidence": self.min_confidence}

    def small(self) -> TrainSettings:
        """A quick recipe for tests: a few thousand utterances, a tiny network, a lax gate."""
        return replace(
            self,
            data=replace(self.data, n_train=3000, n_dev=200),
            tokenizer=replace(self.tokenizer, vocab_size=400),
            model=replace(self.model, n_layer=1, d_model=64, n_head=2, d_ff=128),
            fit=replace(self.fit, batch_size=64),
            gate=GateConfig(min_dev_exact=0.0, min_ood_rejected=0.0, max_wrong_action=1.0,
                            max_step_ms_p50=50.0, min_int8_agreement=0.5),
        )
