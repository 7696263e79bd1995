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
from torch.nn import functional as F  # noqa: N812


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 1024  # sentencepiece pieces + action tokens; set from the data
    max_positions: int = 128  # longest utterance + action sequence, in tokens
    n_layer: int = 3  # depth: 3 blocks learn copying and slot order within the time budget
    n_head: int = 4  # heads of width d_model / n_head = 40
    d_model: int = 160  # residual width; 160 keeps int8 weights near 1 MB
    d_ff: int = 480  # feed-forward width (3x, not 4x: more steps per minute beat width here)
    dropout: float = 0.0  # the data is synthetic and plentiful; dropout only slowed learning

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Block(nn.Module):
    """Pre-norm attention + MLP block with an explicit key/value cache for `step`."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc = nn.Linear(cfg.d_model, cfg.d_ff)
        self.out = nn.Linear(cfg.d_ff, cfg.d_model)
        self.dropout = nn.Dropout(cfg.dropout)

    def _heads(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        b, t, c = x.shape  # (B, T, C)
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        shape = (b, t, self.n_head, c // self.n_head)
        # each (B, H, T, Dh)
        return (q.view(shape).transpose(1, 2), k.view(shape).transpose(1, 2),
                v.view(shape).transpose(1, 2))

    def _mlp(self, x: Tensor) -> Tensor:
        return x + self.dropout(self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh")))

    def forward(self, x: Tensor) -> Tensor:
        """x (B, T, C), right-padded: causality alone keeps padding out of real positions."""
        b, t, c = x.shape
        q, k, v = self._heads(x)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, Dh)
        x = x + self.dropout(self.proj(y.transpose(1, 2).reshape(b, t, c)))
        return self._mlp(x)

    def step(self, x: Tensor, past_k: Tensor, past_v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x (1, T, C) new tokens; past_k/v (1, H, P, Dh). Returns x and the grown cache."""
        b, t, c = x.shape
        q, k, v = self._heads(x)
        k = torch.cat([past_k, k], dim=2)  # (1, H, P+T, Dh)
        v = torch.cat([past_v, v], dim=2)
        total = k.shape[2]
        # new token i sits at absolute position P+i and may see positions <= P+i
        rows = torch.arange(t, device=x.device)[:, None] + (total - t)
        cols = torch.arange(total, device=x.device)[None, :]
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.n_head)  # (1, H, T, P+T)
        scores = scores.masked_fill(cols > rows, float("-inf"))
        y = torch.softmax(scores, dim=-1) @ v  # (1, H, T, Dh)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return self._mlp(x), k, v


class MicroLM(nn.Module):
    """Token + position embeddings, n_layer blocks, a final norm, tied output projection."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_positions, cfg.d_model)
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
        x = self.tok(tokens) + self.pos(torch.arange(t, device=tokens.device))[None]
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)

    def logits(self, h: Tensor) -> Tensor:
        return h @ self.tok.weight.T  # tied weights: (..., C) -> (..., V)

    def step(self, tokens: Tensor, past: Tensor) -> tuple[Tensor, Tensor]:
        """tokens (1, T); past (L, 2, 1, H, P, Dh) -> last logits (1, V), present (L, 2, 1, H, P+T, Dh)."""
        t = tokens.shape[1]
        start = past.shape[4]
        x = self.tok(tokens) + self.pos(torch.arange(t, device=tokens.device) + start)[None]
        present = []
        for i, block in enumerate(self.blocks):
            x, k, v = block.step(x, past[i, 0], past[i, 1])
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
