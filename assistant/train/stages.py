"""Takes a stage name and the work folder; runs that stage, reading and writing its files.

    data       train.jsonl, dev.jsonl      utterances (as words) with their actions
    tokenizer  tokenizer.model             sentencepiece
    fit        model.pt                    torch weights and their ModelConfig
    export     lm.onnx, export.json        int8 ONNX and its parity figures
    gate       models/                     installed only if the gate passes
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import torch
import yaml

from assistant.errors import AssistantError
from assistant.lmgrammar import ActionTarget, ActionVocab, SlotTarget
from assistant.lmmodel import ONNX_FILE, TOKENIZER_FILE, StepConfig
from assistant.lmspec import intent_rules, rules_fingerprint
from assistant.skills import SkillSet
from assistant.tokenizer import Tokenizer, normalize
from assistant.train import data as data_mod
from assistant.train import export as export_mod
from assistant.train import fit as fit_mod
from assistant.train import gate as gate_mod
from assistant.train.model import MicroLM, ModelConfig
from assistant.train.settings import TrainSettings
from assistant.train.spm import train_tokenizer
from assistant.train.templates import Example


@dataclass(frozen=True)
class Work:
    dir: Path  # intermediate files
    model_dir: Path  # where a passing model is installed
    eval_dir: Path  # hand-written evaluation sets: never trained on
    skills: SkillSet
    settings: TrainSettings
    out: TextIO = sys.stderr

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


# -- example files ----------------------------------------------------------------------------
def _dump(path: Path, examples: Iterable[Example]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for ex in examples:
            acts = [[a.intent, [[s.slot, s.value, list(s.span) if s.span else None]
                                for s in a.slots], a.anchor] for a in ex.actions]
            fh.write(json.dumps({"w": list(ex.words), "a": acts}) + "\n")


def _load(path: Path) -> list[Example]:
    if not path.is_file():
        raise AssistantError(f"{path}: missing; run the earlier training stages first")
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            acts = tuple(ActionTarget(i, tuple(SlotTarget(s, v, tuple(sp) if sp else None)
                                               for s, v, sp in slots), anchor)
                         for i, slots, anchor in row["a"])
            out.append(Example(tuple(row["w"]), acts))
    return out


def _need(path: Path) -> Path:
    if not path.is_file():
        raise AssistantError(f"{path}: missing; run the earlier training stages first")
    return path


def _times(work: Work, stage: str, seconds: float) -> dict[str, float]:
    path = work.dir / "stage_seconds.json"
    times: dict[str, float] = json.loads(path.read_text()) if path.is_file() else {}
    times[stage] = round(seconds, 1)
    path.write_text(json.dumps(times))
    return times


# -- stages -----------------------------------------------------------------------------------
def stage_data(work: Work) -> bool:
    held_out = frozenset(eval_sentences(work.eval_dir))
    train, dev = data_mod.generate(work.skills, work.settings.data, held_out)
    _dump(work.dir / "train.jsonl", train)
    _dump(work.dir / "dev.jsonl", dev)
    work.say(f"data: {len(train)} training and {len(dev)} held-out utterances "
             f"({len(held_out)} evaluation sentences kept out)")
    return True


def stage_tokenizer(work: Work) -> bool:
    train = _load(work.dir / "train.jsonl")
    blob = train_tokenizer((" ".join(e.words) for e in train), work.settings.tokenizer)
    (work.dir / TOKENIZER_FILE).write_bytes(blob)
    work.say(f"tokenizer: {Tokenizer.from_bytes(blob).vocab_size} pieces")
    return True


def _vocab(work: Work) -> tuple[Tokenizer, ActionVocab]:
    tok = Tokenizer.from_bytes(_need(work.dir / TOKENIZER_FILE).read_bytes())
    return tok, ActionVocab(tok.vocab_size, intent_rules(work.skills))


def stage_fit(work: Work) -> bool:
    tok, vocab = _vocab(work)
    cfg = replace(work.settings.model, vocab_size=vocab.size)
    encoded = [e for e in fit_mod.encode(_load(work.dir / "train.jsonl"), tok, vocab)
               if len(e.ids) <= cfg.max_positions]  # the rare overlong utterance is dropped
    started = time.perf_counter()
    tty = work.out.isatty()

    def progress(step: int, total: int, loss: float) -> None:
        pct = step * 100 // total
        line = f"fit [{'#' * (pct // 5):<20}] {step}/{total} loss {loss:.4f} " \
               f"{time.perf_counter() - started:.0f} s"
        if tty:
            print("\r" + line, end="" if step < total else "\n", file=work.out, flush=True)
        elif step == total or step % max(1, total // 10) < 10:
            work.say(line)

    model = fit_mod.fit(encoded, cfg, work.settings.fit, vocab.id("<pad>"), progress)
    torch.save({"config": asdict(cfg), "state": model.state_dict()}, work.dir / "model.pt")
    return True


def _model(work: Work) -> MicroLM:
    saved = torch.load(_need(work.dir / "model.pt"), weights_only=True)
    model = MicroLM(ModelConfig(**saved["config"]))
    model.load_state_dict(saved["state"])
    return model.eval()


def stage_export(work: Work) -> bool:
    tok, vocab = _vocab(work)
    model = _model(work)
    dev = [e for e in fit_mod.encode(_load(work.dir / "dev.jsonl")[:40], tok, vocab)
           if len(e.ids) <= model.cfg.max_positions]  # as in fit: the overlong are left out
    from assistant.lmmodel import FORMAT_VERSION

    parity = export_mod.export(model, work.dir / ONNX_FILE, FORMAT_VERSION,
                               [list(e.ids) for e in dev])
    (work.dir / "export.json").write_text(json.dumps(asdict(parity)))
    work.say(f"export: {(work.dir / ONNX_FILE).stat().st_size / 1e6:.2f} MB int8, float "
             f"parity {parity.float_max_abs_diff:.1e}, int8 top-1 agreement "
             f"{parity.int8_top1_agreement:.3f}")
    return True


def eval_sentences(eval_dir: Path) -> dict[str, str]:
    """Normalised hand-written evaluation sentences -> where each was written."""
    held_out: dict[str, str] = {}
    for path in sorted(eval_dir.glob("*.yaml")) if eval_dir.is_dir() else []:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for case in doc.get("tests", []):
            for sentence in case.get("sentences", []):
                held_out[normalize(sentence)] = f"{path.name}: {sentence!r}"
    return held_out


def held_out_digest(eval_dir: Path) -> str:
    """sha256 of the evaluation sentences, recorded so a changed set asks for a retrain."""
    blob = "\n".join(sorted(eval_sentences(eval_dir))).encode()
    return hashlib.sha256(blob).hexdigest()


def eval_overlap(eval_dir: Path, train: Iterable[Example]) -> list[str]:
    """Hand-written evaluation sentences that also occur in the training data."""
    held_out = eval_sentences(eval_dir)
    seen = {" ".join(e.words) for e in train}
    return sorted(where for text, where in held_out.items() if text in seen)


def stage_gate(work: Work) -> bool:
    s = work.settings
    tok_bytes = _need(work.dir / TOKENIZER_FILE).read_bytes()
    onnx_bytes = _need(work.dir / ONNX_FILE).read_bytes()
    parity = json.loads(_need(work.dir / "export.json").read_text())
    saved = torch.load(_need(work.dir / "model.pt"), weights_only=True)
    mcfg = ModelConfig(**saved["config"])
    rules = intent_rules(work.skills)
    step = StepConfig(mcfg.n_layer, mcfg.n_head, mcfg.d_model, mcfg.max_positions)
    lm = gate_mod.staged_model(tok_bytes, onnx_bytes, rules, step, s.min_confidence)
    figures = gate_mod.evaluate(lm, _load(work.dir / "dev.jsonl"), s.min_confidence)
    size_mb = (len(tok_bytes) + len(onnx_bytes)) / 1e6
    failures = gate_mod.check(figures, size_mb, parity["int8_top1_agreement"], s.gate)
    overlap = eval_overlap(work.eval_dir, _load(work.dir / "train.jsonl"))
    if overlap:
        failures.append(f"{len(overlap)} evaluation sentences occur in the training data, "
                        f"e.g. {overlap[0]}")
    work.say("gate: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()
                                  if not k.startswith("calibration")) + f", size {size_mb:.2f} MB")
    if failures:
        work.say("gate FAILED, model not installed: " + "; ".join(failures))
        return False
    times = _times(work, "gate", 0.0)
    vocab = ActionVocab(Tokenizer.from_bytes(tok_bytes).vocab_size, rules)
    fields: dict[str, Any] = {
        "skills_fingerprint": rules_fingerprint(rules, work.skills),
        "skills_sha256": work.skills.sha256,
        "held_out": {"sentences": len(eval_sentences(work.eval_dir)),
                     "sha256": held_out_digest(work.eval_dir)},
        "action_tokens": list(vocab.tokens),
        "model": asdict(mcfg),
        "calibration": {k: figures[f"calibration_{k}"] for k in ("a", "b", "c")},
        "gate": {**{k: round(v, 4) for k, v in figures.items()}, "size_mb": round(size_mb, 3),
                 **parity, "passed": True},
        "training": s.to_json(),
        "stage_seconds": times,
        "versions": {"torch": torch.__version__},
    }
    files = {TOKENIZER_FILE: tok_bytes, ONNX_FILE: onnx_bytes}
    gate_mod.install(work.model_dir, files, gate_mod.manifest(files, fields))
    work.say(f"gate passed: model installed in {work.model_dir}")
    return True


_STAGES = {"data": stage_data, "tokenizer": stage_tokenizer, "fit": stage_fit,
           "export": stage_export, "gate": stage_gate}


def run_stage(name: str, work: Work) -> bool:
    started = time.perf_counter()
    ok = _STAGES[name](work)
    _times(work, name, time.perf_counter() - started)
    return ok
