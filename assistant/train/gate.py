"""Takes a freshly exported model and held-out data; returns gate figures, installs if it passes.

The gate runs the int8 model through the real runtime (constrained decoding and all) on
held-out generated utterances, calibrates the confidence on them, measures size and step
latency, and only then writes `models/`: files first, the manifest last, so a failed or
interrupted install never leaves a manifest pointing at the wrong files.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.lm import MicroLM, calibrated
from assistant.lmgrammar import ActionTarget, ActionVocab, format_actions
from assistant.lmmodel import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    LoadedModel,
    StepConfig,
    sha256,
)
from assistant.lmspec import IntentRule
from assistant.tokenizer import Tokenizer
from assistant.train.templates import Example


@dataclass(frozen=True)
class GateConfig:
    # A regression guard set just below what the default recipe reaches (dev exact 0.83,
    # out-of-domain rejected 0.99, wrong 0.08 at 2 epochs): a broken run fails loudly.
    min_dev_exact: float = 0.70  # held-out generated commands decoded exactly
    min_ood_rejected: float = 0.95  # held-out out-of-domain utterances with no action
    max_wrong_action: float = 0.12  # accepted parses with any wrong action, share of all
    max_model_mb: float = 5.0  # all model files together
    max_step_ms_p50: float = 1.0  # one decoding model run, one thread
    min_int8_agreement: float = 0.97  # int8 vs torch top-1 on the parity sequences

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decoded:
    actions: tuple[ActionTarget, ...]
    log_prob: float
    min_log_prob: float
    run_ms: tuple[float, ...]


def decode(lm: MicroLM, words: Sequence[str]) -> Decoded:
    session = lm.session()
    session.feed_words(list(words))
    constraint, stats = lm.decode(session.cache, session.tokens.committed)
    return Decoded(tuple(constraint.actions), stats.log_prob, stats.min_log_prob, stats.run_ms)


def calibrate(decoded: Sequence[Decoded], correct: Sequence[bool]) -> tuple[float, float, float]:
    """Platt scaling over (sum, min) log-probabilities: weights so that the sigmoid estimates
    P(correct) on held-out data."""
    x = np.asarray([[d.log_prob, d.min_log_prob, 1.0] for d in decoded], dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    w = np.array([1.0, 1.0, 3.0])
    for _ in range(2000):  # plain gradient descent: three weights, a few thousand points
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        w -= 0.3 * (x.T @ (p - y)) / len(y)
    return float(w[0]), float(w[1]), float(w[2])


def same(got: Sequence[ActionTarget], ex: Example) -> bool:
    """Equal actions; a copy counts by its words, wherever in the input they were taken."""
    return format_actions(got, ex.words) == format_actions(ex.actions, ex.words)


def evaluate(lm: MicroLM, dev: Sequence[Example], min_confidence: float) -> dict[str, float]:
    """Exact-match, rejection and wrong-action figures on held-out examples."""
    decoded = [decode(lm, ex.words) for ex in dev]
    weights = calibrate(decoded, [same(d.actions, ex) for d, ex in zip(decoded, dev,
                                                                       strict=True)])
    cmd = [(d, ex) for d, ex in zip(decoded, dev, strict=True) if ex.actions]
    ood = [(d, ex) for d, ex in zip(decoded, dev, strict=True) if not ex.actions]

    def accepted(d: Decoded) -> bool:
        return bool(d.actions) and \
            calibrated(weights, d.log_prob, d.min_log_prob) >= min_confidence

    exact = sum(same(d.actions, ex) and accepted(d) for d, ex in cmd)
    wrong = sum(accepted(d) and not same(d.actions, ex) for d, ex in zip(decoded, dev,
                                                                           strict=True))
    runs = [ms for d in decoded for ms in d.run_ms]
    return {
        "dev_commands": len(cmd), "dev_ood": len(ood),
        "dev_exact": exact / max(1, len(cmd)),
        "dev_exact_raw": sum(same(d.actions, ex) for d, ex in cmd) / max(1, len(cmd)),
        "ood_rejected": sum(not accepted(d) for d, _ in ood) / max(1, len(ood)),
        "wrong_action": wrong / max(1, len(dev)),
        "step_ms_p50": statistics.median(runs) if runs else 0.0,
        "step_ms_p95": float(np.percentile(runs, 95)) if runs else 0.0,
        "calibration_a": weights[0], "calibration_b": weights[1], "calibration_c": weights[2],
    }


def check(figures: dict[str, float], size_mb: float, int8_agreement: float,
          cfg: GateConfig) -> list[str]:
    """Reasons the model fails its gate; empty when it passes."""
    failures = []
    if figures["dev_exact"] < cfg.min_dev_exact:
        failures.append(f"held-out exact {figures['dev_exact']:.3f} < {cfg.min_dev_exact}")
    if figures["ood_rejected"] < cfg.min_ood_rejected:
        failures.append(f"out-of-domain rejected {figures['ood_rejected']:.3f} "
                        f"< {cfg.min_ood_rejected}")
    if figures["wrong_action"] > cfg.max_wrong_action:
        failures.append(f"wrong-action rate {figures['wrong_action']:.3f} "
                        f"> {cfg.max_wrong_action}")
    if size_mb > cfg.max_model_mb:
        failures.append(f"model files {size_mb:.2f} MB > {cfg.max_model_mb} MB")
    if figures["step_ms_p50"] > cfg.max_step_ms_p50:
        failures.append(f"step p50 {figures['step_ms_p50']:.3f} ms > {cfg.max_step_ms_p50} ms")
    if int8_agreement < cfg.min_int8_agreement:
        failures.append(f"int8 top-1 agreement {int8_agreement:.3f} < {cfg.min_int8_agreement}")
    return failures


def manifest(files: dict[str, bytes], fields: dict[str, Any]) -> dict[str, Any]:
    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
            "files": {name: sha256(data) for name, data in files.items()}, **fields}


def install(model_dir: Path, files: dict[str, bytes], man: dict[str, Any]) -> None:
    """Write files, then the manifest; each through a temp file and an atomic rename."""
    model_dir.mkdir(parents=True, exist_ok=True)
    old = model_dir / MANIFEST
    if old.exists():
        old.unlink()  # a half-installed folder must fail loading, not load mismatched files
    for name, data in [*files.items(),
                       (MANIFEST, (json.dumps(man, indent=2) + "\n").encode())]:
        fd, tmp = tempfile.mkstemp(dir=model_dir, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; model files are shipped data
        os.replace(tmp, model_dir / name)


def staged_model(tok_bytes: bytes, onnx_bytes: bytes, rules: Sequence[IntentRule],
                 step: StepConfig, min_confidence: float) -> MicroLM:
    """A MicroLM over files not yet installed, for the gate's own measurements."""
    tokenizer = Tokenizer.from_bytes(tok_bytes)
    loaded = LoadedModel(tokenizer, ActionVocab(tokenizer.vocab_size, rules), step,
                         (1.0, 0.0, 0.0), onnx_bytes, {})
    return MicroLM(loaded, min_confidence)
