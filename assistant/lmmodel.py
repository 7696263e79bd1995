"""Takes a model folder and the skills; returns the verified tokenizer, vocab and ONNX bytes.

`models/manifest.json` names every file with its sha256, the format version, and a
fingerprint of the skills the model was trained on. Anything that does not match is
refused with a ModelError that says which file and why, and what to do about it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import ModelError
from assistant.lmgrammar import ActionVocab
from assistant.lmspec import intent_rules, rules_fingerprint
from assistant.skills import SkillSet
from assistant.tokenizer import Tokenizer

MANIFEST = "manifest.json"
FORMAT_NAME = "hey-house-micro-lm"
FORMAT_VERSION = 1  # bump when the step signature, vocab layout or manifest changes
TOKENIZER_FILE = "tokenizer.model"
ONNX_FILE = "lm.onnx"
RETRAIN = "run `assistant train` to rebuild it"


@dataclass(frozen=True)
class StepConfig:
    """The shape facts the step loop needs about the network."""

    n_layer: int
    n_head: int
    d_model: int
    max_positions: int


@dataclass(frozen=True)
class LoadedModel:
    tokenizer: Tokenizer
    vocab: ActionVocab
    config: StepConfig
    calibration: tuple[float, float, float]  # sigmoid(a * log_prob + b * min_log_prob + c)
    onnx_bytes: bytes
    manifest: dict[str, Any]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(model_dir: Path) -> dict[str, Any]:
    path = model_dir / MANIFEST
    if not path.is_file():
        raise ModelError(f"{path}: no model manifest; {RETRAIN}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable manifest ({exc}); {RETRAIN}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ModelError(f"{path}: not a {FORMAT_NAME} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path}: format version {manifest.get('format_version')!r}, this "
                         f"program reads version {FORMAT_VERSION}; {RETRAIN}")
    return manifest


def _verified(model_dir: Path, manifest: dict[str, Any], name: str) -> bytes:
    path = model_dir / name
    expected = manifest.get("files", {}).get(name)
    if expected is None:
        raise ModelError(f"{model_dir / MANIFEST}: lists no sha256 for {name}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model file ({exc.strerror}); {RETRAIN}") from exc
    if sha256(data) != expected:
        raise ModelError(f"{path}: sha256 does not match the manifest (corrupted or replaced "
                         f"file); restore it or {RETRAIN}")
    return data


def load_model(model_dir: Path, skills: SkillSet) -> LoadedModel:
    """Verify and load everything in model_dir; raises ModelError on any mismatch."""
    manifest = read_manifest(model_dir)
    rules = intent_rules(skills)
    if manifest.get("skills_fingerprint") != rules_fingerprint(rules, skills):
        raise ModelError(f"{model_dir / MANIFEST}: the model was trained on different skills "
                         f"(intents, slots or sentence templates changed); {RETRAIN}")
    tok_bytes = _verified(model_dir, manifest, TOKENIZER_FILE)
    onnx_bytes = _verified(model_dir, manifest, ONNX_FILE)
    try:
        tokenizer = Tokenizer.from_bytes(tok_bytes)
    except (RuntimeError, OSError) as exc:
        raise ModelError(f"{model_dir / TOKENIZER_FILE}: unreadable ({exc})") from exc
    vocab = ActionVocab(tokenizer.vocab_size, rules)
    if list(vocab.tokens) != manifest.get("action_tokens"):
        raise ModelError(f"{model_dir / MANIFEST}: action tokens differ from the skills'; "
                         f"{RETRAIN}")
    try:
        m = manifest["model"]
        config = StepConfig(int(m["n_layer"]), int(m["n_head"]), int(m["d_model"]),
                            int(m["max_positions"]))
        cal = manifest["calibration"]
        calibration = (float(cal["a"]), float(cal["b"]), float(cal["c"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{model_dir / MANIFEST}: missing or bad field {exc}") from exc
    return LoadedModel(tokenizer, vocab, config, calibration, onnx_bytes, manifest)
