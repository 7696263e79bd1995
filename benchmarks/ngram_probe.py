"""Probe: an n-gram search built from the skills' sentences in place of the command grammar.

The recognizer's grammar search (an FSG of every template) is most of the service's memory.
pocketsphinx's n-gram search keeps one lexicon tree for the whole vocabulary instead of one
per grammar state. This script measures what that would give, before anything is built on
it: a trigram model (interpolated absolute discounting, written as ARPA) from sentences
sampled from the skills, the decoder's resident memory with it, and the actions each clip of
a make_speech.py set leads to when decoded whole with it (no endpointer, no streaming).

Without `--garbage` there is no rejection, so out-of-domain speech is reported as "acted
on". `--garbage LOG10` gives the model the grammar recognizer's way out: a word per phone
of the acoustic model, which may follow any phone at LOG10 (per phone, before the language
weight), stand instead of a command (`--whole`, once), come before one (`--lead`, once) or
after one (at the per-phone price). A clip whose garbage covers `GARBAGE_SHARE` of its word
frames is rejected, as in the recognizer. `--backoff` is added to every back-off weight: an
n-gram strings any words together through back-off, which garbage must undercut.

`--grammar whole` keeps a transcript only if the command grammar (the recognizer's word
graph) can say it, trying the n-best list (`--nbest`) when the best one is not; `--grammar
span` keeps the longest stretch the grammar can say if the words around it last less than
`GARBAGE_SHARE` of the words' frames (the grammar recognizer's garbage before and after a
command, judged on the text).

    python benchmarks/make_speech.py --seed 5 sentences -n 20000 > var/speech/lm.txt
    python benchmarks/ngram_probe.py var/speech/lm.txt var/speech/human1 [--garbage 0]
        [--grammar whole|span] [--lw 10]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import tempfile
import wave
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from voice import ActionJudge

from assistant.asr import FILLER_PROB, GARBAGE_SHARE, PHONES, SILENCE_PROB
from assistant.config import load_config
from assistant.lexicon import pronounce
from assistant.wordgraph import WordGraph, _closure, _moves

DISCOUNT = 0.6
Gram = tuple[str, ...]
# Garbage words: not "+...+", which pocketsphinx's n-gram search would take for noise.
GARBAGE = {f"garbage_{p.lower()}": p for p in PHONES}


@dataclass(frozen=True)
class Garbage:
    """log10 prices, unnormalized (the decoder does not check that they sum to one)."""

    phone: float  # each garbage phone
    whole: float  # garbage instead of a command, once
    lead: float  # garbage before a command, once
    backoff: float  # added to every back-off weight


def write_arpa(sentences: list[list[str]], path: Path, garbage: Garbage | None = None) -> int:
    """A trigram ARPA file; returns the vocabulary size (garbage words not counted)."""
    counts: list[Counter[Gram]] = [Counter(), Counter(), Counter(), Counter()]
    for words in sentences:
        s = ["<s>", *words, "</s>"]
        for i in range(len(s)):
            for n in (1, 2, 3):
                if i + 1 >= n:
                    counts[n][tuple(s[i + 1 - n:i + 1])] += 1
    del counts[1][("<s>",)]
    total = sum(counts[1].values())
    unigram = {g: c / total for g, c in counts[1].items()}
    context: dict[int, Counter[Gram]] = {2: Counter(), 3: Counter()}
    followers: dict[int, Counter[Gram]] = {2: Counter(), 3: Counter()}
    for n in (2, 3):
        for g, c in counts[n].items():
            context[n][g[:-1]] += c
            followers[n][g[:-1]] += 1

    def prob(g: Gram) -> float:
        if len(g) == 1:
            return unigram.get(g, 1e-7)
        n, h = len(g), g[:-1]
        if not context[n][h]:
            return prob(g[1:])
        return (max(counts[n][g] - DISCOUNT, 0.0) / context[n][h]
                + DISCOUNT * followers[n][h] / context[n][h] * prob(g[1:]))

    probs = {1: {g: prob(g) for g in unigram}, 2: {g: prob(g) for g in counts[2]},
             3: {g: prob(g) for g in counts[3]}}
    probs[1][("<s>",)] = 0.0
    children: dict[Gram, list[Gram]] = defaultdict(list)
    for n in (2, 3):
        for g in probs[n]:
            children[g[:-1]].append(g)
    backoff = {h: max(1 - sum(probs[len(h) + 1][g] for g in gs), 1e-9)
               / max(1 - sum(prob(g[1:]) for g in gs), 1e-9) for h, gs in children.items()}
    n_words = len(unigram) - 1
    bo_shift = 0.0
    if garbage is not None:
        bo_shift = garbage.backoff
        starts = [(g[1], p) for g, p in probs[2].items() if g[0] == "<s>" and g[1] != "</s>"]
        ends = [(g[0], p) for g, p in probs[2].items() if g[1] == "</s>"]
        phone = 10 ** garbage.phone
        for gw in GARBAGE:
            probs[1][(gw,)] = phone * 1e-4  # inside a command: through back-off only
            probs[2][("<s>", gw)] = phone * 10 ** garbage.whole
            probs[2][(gw, "</s>")] = 1.0
            probs[2].update({(gw, g2): phone for g2 in GARBAGE})
            probs[2].update({(gw, w): p * 10 ** garbage.lead for w, p in starts})
            probs[2].update({(w, gw): p * phone for w, p in ends})
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n" + "".join(f"ngram {n}={len(probs[n])}\n" for n in (1, 2, 3)))
        for n in (1, 2, 3):
            f.write(f"\n\\{n}-grams:\n")
            for g, p in probs[n].items():
                lp = -99.0 if p <= 0 else math.log10(p)
                bo = math.log10(backoff[g]) + bo_shift if g in backoff else 0.0
                tail = f" {bo:.4f}" if n < 3 else ""
                f.write(f"{lp:.4f} {' '.join(g)}{tail}\n")
        f.write("\n\\end\\\n")
    return n_words


def rss_mb() -> float:
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


class GrammarFilter:
    """What of a transcript the command grammar can say (`--grammar`)."""

    def __init__(self, graph: WordGraph, span: bool) -> None:
        self.graph = graph
        self.span = span
        self.free, self.moves = _moves(graph)
        self.start = _closure([graph.start], self.free)

    def keep(self, words: list[str], frames: list[int]) -> str:
        """The words kept ("" for none): all of them, or the longest span with little around."""
        best: tuple[int, int, int] | None = None  # (frames covered, first, end)
        for i in range(len(words) if self.span else min(1, len(words))):
            states = self.start
            for j in range(i, len(words)):
                states = _closure([b for s in states for w, b in self.moves.get(s, [])
                                   if w == words[j]], self.free)
                if not states:
                    break
                if self.graph.final in states and (self.span or j == len(words) - 1):
                    covered = sum(frames[i:j + 1])
                    if best is None or covered > best[0]:
                        best = (covered, i, j + 1)
        if best is None or sum(frames) - best[0] > GARBAGE_SHARE * sum(frames):
            return ""
        return " ".join(words[best[1]:best[2]])


def _words(text: str) -> list[str]:
    return [w.split("(")[0] for w in text.split() if not w.startswith(("<", "["))]


def decode(decoder: Any, pcm: bytes, grammar: GrammarFilter | None = None,
           nbest: int = 0) -> str:
    """The words heard in the whole clip, fillers dropped; "" if garbage covers too much."""
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    segs = list(decoder.seg() or []) if hyp is not None else []
    words = [(s.word.split("(")[0], s.end_frame - s.start_frame + 1) for s in segs
             if not s.word.startswith(("<", "["))]
    garbage = sum(n for w, n in words if w in GARBAGE)
    if garbage and garbage >= GARBAGE_SHARE * sum(n for _, n in words):
        return ""
    words = [(w, n) for w, n in words if w not in GARBAGE]
    if grammar is None or not words:
        return " ".join(w for w, _ in words)
    kept = grammar.keep([w for w, _ in words], [n for _, n in words])
    for other in itertools.islice(decoder.nbest(), nbest) if not kept else ():
        # The n-best list has no word times: each word counts as one.
        alternative = [w for w in _words(other.hypstr) if w not in GARBAGE]
        if alternative and (kept := grammar.keep(alternative, [1] * len(alternative))):
            break
    return kept


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sentences", type=Path, help="one sentence per line (make_speech sentences)")
    ap.add_argument("set", type=Path, help="a make_speech.py bench set")
    ap.add_argument("--config", type=Path, default=Path("config.yaml"))
    ap.add_argument("--garbage", type=float, help="log10 price per garbage phone (none if unset)")
    ap.add_argument("--whole", type=float, default=-6.0, help="log10: garbage for a command")
    ap.add_argument("--lead", type=float, default=-2.0, help="log10: garbage before one")
    ap.add_argument("--backoff", type=float, default=-30.0,
                    help="log10 added to back-off weights (with --garbage)")
    ap.add_argument("--grammar", choices=["whole", "span"],
                    help="keep only what the command grammar can say (see above)")
    ap.add_argument("--nbest", type=int, default=50, help="with --grammar: hypotheses tried")
    ap.add_argument("--lw", type=float, default=6.5, help="the decoder's language weight")
    args = ap.parse_args(argv)
    from pocketsphinx import Decoder, get_model_path

    hmm = os.path.join(get_model_path(), "en-us", "en-us")
    config = load_config(args.config)
    judge = ActionJudge(config)
    grammar = None
    if args.grammar:
        from assistant.voice import _word_graphs

        grammar = GrammarFilter(_word_graphs(judge.assistant, config)[0], args.grammar == "span")
    sentences = [line.split() for line in args.sentences.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="ngram-") as tmp:
        arpa = Path(tmp) / "commands.arpa"
        garbage = None if args.garbage is None else Garbage(
            args.garbage, args.whole, args.lead, args.backoff)
        n_words = write_arpa(sentences, arpa, garbage)
        vocab = sorted({w for s in sentences for w in s})
        prons = pronounce(vocab)
        dict_path = Path(tmp) / "words.dict"
        dict_path.write_text("".join(
            f"{w if i == 0 else f'{w}({i + 1})'} {p}\n"
            for w in vocab for i, p in enumerate(prons.get(w, [])))
            + "".join(f"{w} {p}\n" for w, p in GARBAGE.items() if garbage), encoding="utf-8")
        before = rss_mb()
        lm = Decoder(hmm=hmm, dict=str(dict_path), lm=str(arpa), loglevel="ERROR",
                     fillprob=FILLER_PROB, silprob=SILENCE_PROB, lw=args.lw)
        print(f"{'vocabulary':40s} {n_words}")
        print(f"{'decoder with the n-gram model':40s} +{rss_mb() - before:.1f} MB resident")
    rows = []
    for clip in json.loads((args.set / "manifest.json").read_text()):
        with wave.open(str(args.set / clip["file"])) as w:
            pcm = w.readframes(w.getnframes())
        heard = decode(lm, pcm, grammar, args.nbest)
        rows.append({"kind": clip["kind"], "snr": clip["snr_db"],
                     "right": clip["kind"] == "command" and judge.same(clip["text"], heard),
                     "acts": judge.acts(heard)})
    cells = []
    for snr in sorted({r["snr"] for r in rows}, reverse=True):
        here = [r for r in rows if r["kind"] == "command" and r["snr"] == snr]
        right = sum(1 for r in here if r["right"])
        wrong = sum(1 for r in here if not r["right"] and r["acts"])
        cells.append(f"{snr:g} dB: {right}/{len(here)} right, {wrong} wrong")
    ood = [r for r in rows if r["kind"] == "ood"]
    acted = sum(1 for r in ood if r["acts"])
    print("actions: " + "; ".join(cells) + f"; out-of-domain acted on {acted}/{len(ood)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
