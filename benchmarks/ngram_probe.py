"""Probe: an n-gram search built from the skills' sentences in place of the command grammar.

The recognizer's grammar search (an FSG of every template) is most of the service's memory.
pocketsphinx's n-gram search keeps one lexicon tree for the whole vocabulary instead of one
per grammar state. This script measures what that would give, before anything is built on
it: a trigram model (interpolated absolute discounting, written as ARPA) from sentences
sampled from the skills, the decoder's resident memory with it, and the actions each clip of
a make_speech.py set leads to when decoded whole with it (no endpointer, no streaming). There
is no rejection here, so out-of-domain speech is reported as "acted on": a rejection test
(e.g. the hypothesis against a loop of phones, as the wake check does) is the next thing to
measure before this could replace the grammar.

    python benchmarks/make_speech.py --seed 5 sentences -n 20000 > var/speech/lm.txt
    python benchmarks/ngram_probe.py var/speech/lm.txt var/speech/human1
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import wave
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from voice import ActionJudge

from assistant.config import load_config
from assistant.lexicon import pronounce

DISCOUNT = 0.6
Gram = tuple[str, ...]


def write_arpa(sentences: list[list[str]], path: Path) -> int:
    """A trigram ARPA file; returns the vocabulary size."""
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
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n" + "".join(f"ngram {n}={len(probs[n])}\n" for n in (1, 2, 3)))
        for n in (1, 2, 3):
            f.write(f"\n\\{n}-grams:\n")
            for g, p in probs[n].items():
                lp = -99.0 if p <= 0 else math.log10(p)
                tail = f" {math.log10(backoff.get(g, 1.0)):.4f}" if n < 3 else ""
                f.write(f"{lp:.4f} {' '.join(g)}{tail}\n")
        f.write("\n\\end\\\n")
    return len(unigram) - 1


def rss_mb() -> float:
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def decode(decoder: Any, pcm: bytes) -> str:
    """The words heard in the whole clip, fillers dropped."""
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    segs = list(decoder.seg() or []) if hyp is not None else []
    return " ".join(s.word.split("(")[0] for s in segs if not s.word.startswith(("<", "[")))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sentences", type=Path, help="one sentence per line (make_speech sentences)")
    ap.add_argument("set", type=Path, help="a make_speech.py bench set")
    ap.add_argument("--config", type=Path, default=Path("config.yaml"))
    args = ap.parse_args(argv)
    from pocketsphinx import Decoder, get_model_path

    hmm = os.path.join(get_model_path(), "en-us", "en-us")
    judge = ActionJudge(load_config(args.config))
    sentences = [line.split() for line in args.sentences.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="ngram-") as tmp:
        arpa = Path(tmp) / "commands.arpa"
        n_words = write_arpa(sentences, arpa)
        vocab = sorted({w for s in sentences for w in s})
        prons = pronounce(vocab)
        dict_path = Path(tmp) / "words.dict"
        dict_path.write_text("".join(
            f"{w if i == 0 else f'{w}({i + 1})'} {p}\n"
            for w in vocab for i, p in enumerate(prons.get(w, []))), encoding="utf-8")
        before = rss_mb()
        lm = Decoder(hmm=hmm, dict=str(dict_path), lm=str(arpa), loglevel="ERROR")
        print(f"{'vocabulary':40s} {n_words}")
        print(f"{'decoder with the n-gram model':40s} +{rss_mb() - before:.1f} MB resident")
    rows = []
    for clip in json.loads((args.set / "manifest.json").read_text()):
        with wave.open(str(args.set / clip["file"])) as w:
            pcm = w.readframes(w.getnframes())
        heard = decode(lm, pcm)
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
