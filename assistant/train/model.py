"""Takes token ids and returns next-token logits: the decoder-only transformer in torch.

The same weights run two ways: `forward` over whole padded batches for training, and
`step` over a few new tokens plus a key/value cache, which is what gets exported to ONNX
and what the runtime step loop calls.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 1024  # sentencepiece pieces + action tokens; set from the data
    max_positions: int = 128  # longest utterance + action sequence, in tokens
    n_layer: int = 3  # depth: 3 blocks learn copying and slot order within the time budget
    n_head: int = 4  # heads of width d_model / n_head = 40
    d_model: int = 160  # residual width; 160 keeps int8 weights near 1 MB
    d_ff: int = 480  # feed-forward width (3x, not 4x: more steps per minute beat width here)
    dropout: float = 0.0  # the data is synthetic and plentiful; dropout only slowed learning
    rope_base: float = 10000.0  # rotary position frequencies; relative positions let
    # attention find "the word after the one just copied", which absolute ones learnt slowly

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def rope_tables(cfg: ModelConfig) -> tuple[Tensor, Tensor]:
    """cos and sin, each (max_positions, Dh / 2)."""
    half = cfg.d_model // cfg.n_head // 2
    freqs = cfg.rope_base ** (-torch.arange(half, dtype=torch.float32) / half)
    angles = torch.arange(cfg.max_positions, dtype=torch.float32)[:, None] * freqs[None]
    return torch.cos(angles), torch.sin(angles)


def rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotary embedding of x (B, H, T, Dh) with cos/sin (T, Dh / 2), rotate-half layout."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Block(nn.Module):
    """Pre-norm attention + MLP block with an explicit key/value cache for `step`."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.d_model = cfg.d_model  # a plain int: traced shapes would warn in the export
        self.scale = 1.0 / math.sqrt(cfg.d_model // cfg.n_head)
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc = nn.Linear(cfg.d_model, cfg.d_ff)
        self.out = nn.Linear(cfg.d_ff, cfg.d_model)
        self.dropout = nn.Dropout(cfg.dropout)

    def _heads(self, x: Tensor, cos: Tensor, sin: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        b, t, c = x.shape  # (B, T, C)
        q, k, v = self.qkv(self.ln1(x)).split(self.d_model, dim=2)
        shape = (b, t, self.n_head, c // self.n_head)
        # each (B, H, T, Dh); keys are cached already rotated
        return (rotate(q.view(shape).transpose(1, 2), cos, sin),
                rotate(k.view(shape).transpose(1, 2), cos, sin), v.view(shape).transpose(1, 2))

    def _mlp(self, x: Tensor) -> Tensor:
        y: Tensor = self.dropout(self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh")))
        return x + y

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
        """x (B, T, C), right-padded: causality alone keeps padding out of real positions."""
        b, t, c = x.shape
        q, k, v = self._heads(x, cos, sin)
        with torch.autocast("cpu", enabled=False):  # bf16 attention backward is slow on CPU
            y = F.scaled_dot_product_attention(q.float(), k.float(), v.float(),
                                               is_causal=True)  # (B, H, T, Dh)
        x = x + self.dropout(self.proj(y.transpose(1, 2).reshape(b, t, c)))
        return self._mlp(x)

    def step(self, x: Tensor, past_k: Tensor, past_v: Tensor, cos: Tensor,
             sin: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x (1, T, C) new tokens; past_k/v (1, H, P, Dh). Returns x and the grown cache."""
        b, t, c = x.shape
        q, k, v = self._heads(x, cos, sin)
        k = torch.cat([past_k, k], dim=2)  # (1, H, P+T, Dh)
        v = torch.cat([past_v, v], dim=2)
        total = k.shape[2]
        # new token i sits at absolute position P+i and may see positions <= P+i
        rows = torch.arange(t, device=x.device)[:, None] + (total - t)
        cols = torch.arange(total, device=x.device)[None, :]
        scores = (q @ k.transpose(-2, -1)) * self.scale  # (1, H, T, P+T)
        scores = scores.masked_fill(cols > rows, float("-inf"))
        y = torch.softmax(scores, dim=-1) @ v  # (1, H, T, Dh)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return self._mlp(x), k, v


class MicroLM(nn.Module):
    """Token embeddings, n_layer rotary blocks, a final norm, tied output projection."""

    cos: Tensor  # (max_positions, Dh / 2) rotary tables, buffers
    sin: Tensor

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        cos, sin = rope_tables(cfg)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith(("proj.weight", "out.weight")):  # GPT-2's scaled residual init
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def hidden(self, tokens: Tensor) -> Tensor:
        """tokens (B, T) -> final hidden states (B, T, C)."""
        t = tokens.shape[1]
        x = self.tok(tokens)
        cos, sin = self.cos[:t], self.sin[:t]
        for block in self.blocks:
            x = block(x, cos, sin)
        h: Tensor = self.ln_f(x)
        return h

    def logits(self, h: Tensor) -> Tensor:
        out: Tensor = h @ self.tok.weight.T  # tied weights: (..., C) -> (..., V)
        return out

    def step(self, tokens: Tensor, past: Tensor) -> tuple[Tensor, Tensor]:
        """tokens (1, T), past (L, 2, 1, H, P, Dh) -> logits (1, V), present (.., P+T, Dh)."""
        t = tokens.shape[1]
        positions = torch.arange(t, device=tokens.device) + past.shape[4]
        cos, sin = self.cos[positions], self.sin[positions]
        x = self.tok(tokens)
        present = []
        for i, block in enumerate(self.blocks):
            assert isinstance(block, Block)
            x, k, v = block.step(x, past[i, 0], past[i, 1], cos, sin)
            present.append(torch.stack([k, v]))
        h = self.ln_f(x[:, -1])
        return self.logits(h), torch.stack(present)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


class StepModule(nn.Module):
    """The exported signature: (tokens, past) -> (logits, present)."""

    def __init__(self, model: MicroLM) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: Tensor, past: Tensor) -> tuple[Tensor, Tensor]:
        return self.model.step(tokens, past)
