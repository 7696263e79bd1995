"""Takes an utterance (text, or words as they stream in) and returns a Parse from the micro-LLM.

The step loop feeds each finished word into the model as it arrives (incremental prefill
with a key/value cache), then writes the action sequence under `Constraint`, so the output
always parses. Tokens that are the only legal choice are appended without running the
model and run together with the next chosen token; decoding stops as soon as the grammar
allows nothing but the end. Runtime needs only onnxruntime, numpy and sentencepiece.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

import numpy as np
import onnxruntime as ort

from assistant.lmgrammar import BOS, EOS, NONE, SEP, ActionVocab, Constraint, to_parsed
from assistant.lmmodel import LoadedModel, load_model
from assistant.skills import SkillSet
from assistant.structs import Engine, Parse
from assistant.tokenizer import IncrementalTokenizer, TokenizedWord, Word, split_words

log = logging.getLogger(__name__)

MAX_NEW_TOKENS = 64  # action tokens per utterance; four actions fit comfortably
NOT_UNDERSTOOD = "not understood"


class StopReason(str, Enum):
    """Why the step loop ended."""

    END = "end"  # the model chose <eos> among other options
    COMPLETE = "complete"  # the grammar allowed only <eos>: stopped without a model run
    OUT_OF_DOMAIN = "out_of_domain"  # the model chose <none>
    EMPTY = "empty"  # no words: nothing to run
    MAX_TOKENS = "max_tokens"  # hit the action-token or position budget


@dataclass(frozen=True)
class DecodeStats:
    """What one decode cost and why it stopped; for benchmarks and logs."""

    stop: StopReason
    model_runs: int  # onnxruntime calls during decoding (prefill not counted)
    forced_tokens: int  # tokens appended without a model run
    output_tokens: int
    prompt_tokens: int
    run_ms: tuple[float, ...] = ()  # wall time of each decoding model run
    total_ms: float = 0.0  # the whole parse, prefill included
    log_prob: float = 0.0  # sum of log-probabilities of the model's own choices
    min_log_prob: float = 0.0  # the least sure of those choices


@dataclass
class _Cache:
    past: np.ndarray  # (L, 2, 1, H, P, Dh)
    lengths: list[int] = field(default_factory=list)  # cache length after each word


class MicroLM:
    """The micro-LLM: load once, then `parse` or open a streaming `session`."""

    def __init__(self, model: LoadedModel, min_confidence: float) -> None:
        self.model = model
        self.vocab: ActionVocab = model.vocab
        self.min_confidence = min_confidence
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # one core: the step is too small to split
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._sess = ort.InferenceSession(model.onnx_bytes, opts,
                                          providers=["CPUExecutionProvider"])
        self.last_stats: DecodeStats | None = None
        self._bos: np.ndarray | None = None

    @classmethod
    def load(cls, model_dir: Path, skills: SkillSet, min_confidence: float = 0.5) -> MicroLM:
        """Verify the manifest, file hashes and skills; raises ModelError on any mismatch."""
        return cls(load_model(Path(model_dir), skills), min_confidence)

    # -- model calls ---------------------------------------------------------------------------
    def run(self, tokens: list[int], past: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feed = {"tokens": np.asarray([tokens], dtype=np.int64), "past": past}
        logits, present = self._sess.run(None, feed)
        return logits[0], present

    def empty_cache(self) -> _Cache:
        """The cache after <bos>: the same for every utterance, so computed once."""
        if self._bos is None:
            m = self.model.config
            shape = (m.n_layer, 2, 1, m.n_head, 0, m.d_model // m.n_head)
            self._bos = self.run([self.vocab.id(BOS)], np.zeros(shape, dtype=np.float32))[1]
        return _Cache(self._bos)

    # -- one-shot ------------------------------------------------------------------------------
    def parse(self, text: str) -> Parse:
        """Understand one utterance; an empty intents tuple means "not understood"."""
        session = self.session()
        session.words = split_words(text)
        session.text = text
        # the whole text is known: one model run for all its words, not one per word
        session.prefill_all(session.tokens.commit([w.text for w in session.words]))
        return session.finish()

    def session(self) -> LMSession:
        return LMSession(self)

    def decode(self, cache: _Cache, words: list[TokenizedWord],
               max_new_tokens: int = MAX_NEW_TOKENS) -> tuple[Constraint, DecodeStats]:
        """Greedy constrained decoding after <sep>; `cache` is left untouched."""
        return decode_loop(self.run, self.vocab, cache, words, self.model.config.max_positions,
                       max_new_tokens)

    def confidence(self, stats: DecodeStats) -> float:
        """Calibrated P(the parse is right), from how sure each choice was."""
        return calibrated(self.model.calibration, stats.log_prob, stats.min_log_prob)


def decode_loop(run: Callable[[list[int], np.ndarray], tuple[np.ndarray, np.ndarray]],
            vocab: ActionVocab, cache: _Cache, words: list[TokenizedWord],
            max_positions: int, max_new_tokens: int) -> tuple[Constraint, DecodeStats]:
    constraint = Constraint(vocab, [w.text for w in words], [w.ids for w in words])
    prompt = cache.past.shape[4]
    if not words:
        return constraint, DecodeStats(StopReason.EMPTY, 0, 0, 0, prompt)
    past, logits = cache.past, None
    pending = [vocab.id(SEP)]
    runs: list[float] = []
    forced = out = 0
    log_prob = min_log_prob = 0.0
    stop = StopReason.MAX_TOKENS
    while out < max_new_tokens and past.shape[4] + len(pending) < max_positions:
        allowed = constraint.allowed()
        if len(allowed) == 1:
            token = allowed[0]
            forced += 1
        else:
            if pending:
                t0 = time.perf_counter()
                logits, past = run(pending, past)
                runs.append((time.perf_counter() - t0) * 1000)
                pending = []
            assert logits is not None
            scores = logits[allowed]
            best = int(scores.argmax())
            token = allowed[best]
            # probability among the allowed tokens only: the grammar ruled out the rest
            chosen = float(scores[best] - np.logaddexp.reduce(scores))
            log_prob += chosen
            min_log_prob = min(min_log_prob, chosen)
        constraint.advance(token)
        out += 1
        if constraint.done:
            stop = StopReason.COMPLETE if len(allowed) == 1 else StopReason.END
            if constraint.actions == [] and token == vocab.id(EOS):
                stop = StopReason.OUT_OF_DOMAIN
            break
        if token != vocab.id(NONE):
            pending.append(token)
    return constraint, DecodeStats(stop, len(runs), forced, out, prompt, tuple(runs),
                                   log_prob=log_prob, min_log_prob=min_log_prob)


def calibrated(weights: tuple[float, float, float], log_prob: float, min_log_prob: float) -> float:
    """sigmoid(a * log_prob + b * min_log_prob + c), computed without overflow."""
    a, b, c = weights
    z = a * log_prob + b * min_log_prob + c
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


class LMSession:
    """Streaming use: feed words as the recogniser finishes them, then `finish`."""

    def __init__(self, lm: MicroLM) -> None:
        self.lm = lm
        self.tokens = IncrementalTokenizer(lm.model.tokenizer)
        self.cache = lm.empty_cache()
        self.words: list[Word] | None = None  # offsets, when the text is known up front
        self.text: str | None = None
        self._speculative: tuple[tuple[str, ...], Parse] | None = None
        self.started = time.perf_counter()

    def feed_words(self, words: list[str]) -> None:
        """Append finished words; each runs through the model now (incremental prefill)."""
        self._prefill(self.tokens.commit(words))

    def update(self, hypothesis: list[str], final: bool = False) -> None:
        """Take the recogniser's whole partial hypothesis; revised words are rolled back."""
        keep, new = self.tokens.update(hypothesis, final)
        if keep < len(self.cache.lengths):
            cut = self.cache.lengths[keep - 1] if keep else 1  # 1: the <bos> stays
            self.cache.past = self.cache.past[:, :, :, :, :cut]
            del self.cache.lengths[keep:]
        self._prefill(new)

    def _fitting(self, new: list[TokenizedWord]) -> list[TokenizedWord]:
        """The words that still fit; an overlong input's tail is ignored, not overflowed."""
        room = self.lm.model.config.max_positions - MAX_NEW_TOKENS - self.cache.past.shape[4]
        out = []
        for w in new:
            room -= len(w.ids)
            if room < 0:
                break
            out.append(w)
        return out

    def _prefill(self, new: list[TokenizedWord]) -> None:
        for w in self._fitting(new):
            self.cache.past = self.lm.run(list(w.ids), self.cache.past)[1]
            self.cache.lengths.append(self.cache.past.shape[4])

    def prefill_all(self, new: list[TokenizedWord]) -> None:
        """Run all the words at once (no per-word rollback points are needed)."""
        fitting = self._fitting(new)
        ids = [i for w in fitting for i in w.ids]
        if ids:
            start = self.cache.past.shape[4]
            self.cache.past = self.lm.run(ids, self.cache.past)[1]
            for w in fitting:
                start += len(w.ids)
                self.cache.lengths.append(start)

    def _parse(self) -> Parse:
        committed = self.tokens.committed[: len(self.cache.lengths)]
        key = tuple(w.text for w in committed)
        if self._speculative is not None and self._speculative[0] == key:
            return self._speculative[1]
        constraint, stats = self.lm.decode(self.cache, committed)
        confidence = self.lm.confidence(stats)
        words = self.words or _joined_words(committed)
        text = self.text if self.text is not None else " ".join(key)
        if not constraint.actions:
            parse = Parse((), Engine.LM, confidence, NOT_UNDERSTOOD)
        elif stats.stop is StopReason.MAX_TOKENS:
            parse = Parse((), Engine.LM, 0.0, NOT_UNDERSTOOD)
        elif confidence < self.lm.min_confidence:
            unsure = to_parsed(constraint.actions, words, self.lm.vocab.rules, text)
            parse = Parse((), Engine.LM, confidence, f"not sure (confidence {confidence:.2f})",
                          unsure=unsure)
        else:
            intents = to_parsed(constraint.actions, words, self.lm.vocab.rules, text)
            parse = Parse(intents, Engine.LM, confidence)
        total_ms = (time.perf_counter() - self.started) * 1000
        self.lm.last_stats = replace(stats, total_ms=total_ms)
        self._speculative = (key, parse)
        return parse

    def is_complete(self) -> bool:
        """True when what was said so far already reads as a whole, confident command."""
        if not self.tokens.committed or self.tokens.committed[-1].text in _OPEN_ENDINGS:
            return False
        return bool(self._parse().intents)

    def finish(self) -> Parse:
        return self._parse()


# Words after which a speaker is almost surely going on.
_OPEN_ENDINGS = frozenset({"and", "then", "the", "to", "a", "an", "in", "on", "of", "at",
                           "my", "our", "please", "um", "uh", "set", "turn", "switch", "is"})


def _joined_words(committed: list[TokenizedWord]) -> list[Word]:
    """Offsets into the words joined by single spaces (the streaming path has no text)."""
    out, pos = [], 0
    for w in committed:
        out.append(Word(w.text, pos, pos + len(w.text)))
        pos += len(w.text) + 1
    return out
