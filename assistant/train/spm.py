"""Takes training utterances and returns a trained sentencepiece model (serialized bytes).

Pieces never cross a space, so a sentence encodes to the concatenation of its words, as the
streaming tokenizer needs. Byte fallback makes any word encodable, even one never seen.
Action tokens are not sentencepiece pieces: they are numbered after them by the vocab.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import sentencepiece as spm


@dataclass(frozen=True)
class TokenizerConfig:
    vocab_size: int = 1000  # pieces incl. 256 bytes + <unk>; names outside it are split finer
    model_type: str = "unigram"  # sentencepiece's default; bpe measured no better here
    max_sentences: int = 60_000  # distinct utterances fed to the trainer (speed)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def train_tokenizer(sentences: Iterable[str], cfg: TokenizerConfig) -> bytes:
    """A sentencepiece model trained on the given normalised utterances."""
    unique = sorted(set(sentences))
    random.Random(0).shuffle(unique)  # an unbiased, reproducible subset
    unique = unique[: cfg.max_sentences]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(unique),
        model_writer=model,
        vocab_size=cfg.vocab_size,
        model_type=cfg.model_type,
        character_coverage=1.0,
        byte_fallback=True,
        split_digits=True,
        normalization_rule_name="identity",  # text is normalised before it gets here
        unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1,
        num_threads=2,
        minloglevel=2,
    )
    return model.getvalue()
