"""Takes encoded (utterance, actions) sequences and returns a trained MicroLM.

Each sequence is `<bos> utterance <sep> actions <eos>`; the loss covers only the action
part, the utterance is context. Batches group sequences of similar length so that little
compute goes to padding; a seeded generator makes every run identical.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch.nn import functional as F

from assistant.lmgrammar import BOS, PAD, SEP, ActionVocab
from assistant.tokenizer import Tokenizer
from assistant.train.model import MicroLM, ModelConfig
from assistant.train.templates import Example

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitConfig:
    seed: int = 1234  # torch and batch-order seed
    batch_size: int = 128  # sequences per step; larger batches ran slower per example on 2 cores
    epochs: float = 1.5  # passes over the data; measured: 2 beat 1 clearly (dev exact 0.83 vs
    # 0.72), 1.5 is what fits three minutes on two free cores
    lr: float = 2e-3  # peak learning rate; small models tolerate a high one
    min_lr_ratio: float = 0.05  # cosine decay ends at lr * this
    warmup_steps: int = 60  # linear warm-up from 0
    weight_decay: float = 0.01  # AdamW, on matrices only
    grad_clip: float = 1.0  # max global gradient norm
    threads: int = 0  # torch intra-op threads; 0: the cores that are idle now (see _threads)
    bf16: bool = True  # bfloat16 matrix products where the CPU has them natively (AMX,
    # AVX512-BF16): measured 15-25 % faster steps; weights and optimizer stay float32
    lm_weight: float = 0.3  # weight of predicting the utterance's own next words: a cheap
    # extra signal that teaches where one command ends and the next begins

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Encoded:
    """One training sequence: ids and where the actions start."""

    ids: tuple[int, ...]
    target_start: int  # index of the first action token


def encode(examples: Sequence[Example], tok: Tokenizer, vocab: ActionVocab) -> list[Encoded]:
    out = []
    for ex in examples:
        word_ids = [tok.word_ids(w) for w in ex.words]
        prompt = [vocab.id(BOS), *(i for ids in word_ids for i in ids), vocab.id(SEP)]
        out.append(Encoded((*prompt, *vocab.encode(ex.actions, word_ids)), len(prompt)))
    return out


def _batches(data: Sequence[Encoded], size: int, rng: random.Random) -> list[list[Encoded]]:
    """Length-bucketed batches in random order."""
    order = sorted(range(len(data)), key=lambda i: (len(data[i].ids), rng.random()))
    batches = [[data[i] for i in order[s:s + size]] for s in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


def _tensors(batch: Sequence[Encoded], pad: int) -> tuple[torch.Tensor, ...]:
    """tokens (B, T); then row, column and next token (each (N,)) of the positions that
    predict actions, and the same for the positions that predict the utterance."""
    width = max(len(e.ids) for e in batch)
    tokens = torch.full((len(batch), width), pad, dtype=torch.long)
    act: tuple[list[int], list[int], list[int]] = ([], [], [])
    utt: tuple[list[int], list[int], list[int]] = ([], [], [])
    for r, e in enumerate(batch):
        tokens[r, : len(e.ids)] = torch.tensor(e.ids)
        for p in range(len(e.ids) - 1):
            bucket = act if p >= e.target_start - 1 else utt
            bucket[0].append(r)
            bucket[1].append(p)
            bucket[2].append(e.ids[p + 1])
    return (tokens, *(torch.tensor(x) for x in act), *(torch.tensor(x) for x in utt))


def fit(data: Sequence[Encoded], model_cfg: ModelConfig, cfg: FitConfig, pad_id: int,
        progress: Callable[[int, int, float], None] | None = None) -> MicroLM:
    """Train from scratch; `progress(step, total, loss)` is called every few steps."""
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(_threads(cfg.threads))
    rng = random.Random(cfg.seed)
    model = MicroLM(model_cfg)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    batches: list[list[Encoded]] = []
    while len(batches) < cfg.epochs * math.ceil(len(data) / cfg.batch_size):
        batches += _batches(data, cfg.batch_size, rng)
    total = int(cfg.epochs * math.ceil(len(data) / cfg.batch_size))
    batches = batches[:total]
    log.info("fitting %d parameters on %d sequences, %d steps, %d threads, bf16 %s",
             model.num_params(), len(data), total, torch.get_num_threads(),
             cfg.bf16 and _native_bf16())
    mixed = cfg.bf16 and _native_bf16()
    # Each step makes thousands of small objects; with the earlier stages' millions still
    # tracked, the collector's full passes made steps half as fast again. Park them.
    gc.collect()
    gc.freeze()
    model.train()
    start, smooth = time.perf_counter(), 0.0
    for step, batch in enumerate(batches):
        for group in opt.param_groups:
            group["lr"] = _lr(step, total, cfg)
        tokens, rows, cols, targets, u_rows, u_cols, u_targets = _tensors(batch, pad_id)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed):
            hidden = model.hidden(tokens)  # (B, T, C)
            act_logits = model.logits(hidden[rows, cols]).float()
            utt_logits = model.logits(hidden[u_rows, u_cols]).float()
        loss = F.cross_entropy(act_logits, targets)  # the actions
        if cfg.lm_weight > 0:
            loss_total = loss + cfg.lm_weight * F.cross_entropy(utt_logits, u_targets)
        else:
            loss_total = loss
        opt.zero_grad(set_to_none=True)
        loss_total.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        smooth = loss.item() if step == 0 else 0.95 * smooth + 0.05 * loss.item()
        if progress is not None and (step % 10 == 0 or step == total - 1):
            progress(step + 1, total, smooth)
    gc.unfreeze()
    log.info("fit done in %.1f s, final loss %.4f", time.perf_counter() - start, smooth)
    model.eval()
    return model


def _threads(wanted: int) -> int:
    """Threads for torch: with a core busy elsewhere, two OpenMP threads ran ten times slower
    than one (they wait on each other), so only cores idle right now are used. The load
    average is no guide here: it still counts this process's own data stage."""
    if wanted > 0:
        return wanted
    cores = len(os.sched_getaffinity(0))
    busy = _busy_cores(0.5)
    if busy is None:
        busy = os.getloadavg()[0]
    return max(1, min(cores, int(cores - busy + 0.5)))


def _busy_cores(seconds: float) -> float | None:
    """Cores busy with other work, sampled from /proc/stat while this process sleeps."""
    def sample() -> tuple[int, int] | None:
        try:
            with open("/proc/stat", encoding="ascii") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle

    first = sample()
    time.sleep(seconds)
    second = sample()
    if first is None or second is None or second[0] <= first[0]:
        return None
    total, idle = second[0] - first[0], second[1] - first[1]
    return (os.cpu_count() or 1) * (total - idle) / total


def _native_bf16() -> bool:
    """True where oneDNN runs bfloat16 products natively; emulated ones are much slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _lr(step: int, total: int, cfg: FitConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def pad_id(vocab: ActionVocab) -> int:
    return vocab.id(PAD)
