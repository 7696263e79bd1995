"""Probe: the command grammar's n-best list, as a second chance for the understanding.

When the best transcript of a command leads to nothing ("plus the bedroom curtains"), an
alternative the search nearly chose might ("close the bedroom curtains"). pocketsphinx
gives alternatives through a lattice of the utterance just decoded (`Decoder.nbest()`).
This script measures, before anything is built on it, for each clip of a make_speech.py set
streamed through the recognizer as `voice.py asr` does:

- how long the lattice and the first `--n` alternatives take, after the endpoint (the time
  a user would wait);
- for commands heard and not rejected that lead to no action: whether the first of the
  alternatives (without garbage words, distinct, up to `--n`) that leads to an action leads
  to the right one or a wrong one;
- for commands the recognizer rejected: whether the right action is among the alternatives
  at all (the most any use of them could win back);
- for out-of-domain speech that leads to no action: whether an alternative would act (what
  such a second chance would cost).

    python benchmarks/nbest_probe.py var/speech/human1 [--n 5] [--only cmd_20db] [--limit 30]

Building the lattice over the full command grammar can take a minute on a noisy clip, so use
`--only` and `--limit` to keep a run short.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from voice import ActionJudge, grammar_for, recognize

from assistant.asr import GARBAGE_PREFIX, Recognizer
from assistant.config import load_config


def alternatives(decoder: Any, n: int) -> tuple[list[str], float]:
    """Up to `n` distinct garbage-free texts of the n-best list, and the ms they took."""
    t0 = time.perf_counter()
    texts: list[str] = []
    for i, hyp in enumerate(decoder.nbest()):
        words = [w.split("(", 1)[0] for w in hyp.hypstr.split()]
        text = " ".join(words)
        if text and text not in texts and not any(w.startswith(GARBAGE_PREFIX) for w in words):
            texts.append(text)
        if len(texts) >= n or i >= 20 * n:
            break
    return texts, 1000 * (time.perf_counter() - t0)


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    v = sorted(values)
    return (f"p50 {v[len(v) // 2]:.0f} ms, p95 {v[min(len(v) - 1, int(len(v) * 0.95))]:.0f} ms, "
            f"max {v[-1]:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set", type=Path, help="a make_speech.py bench set")
    ap.add_argument("--config", type=Path, default=Path("config.yaml"))
    ap.add_argument("--n", type=int, default=5, help="distinct alternatives looked at")
    ap.add_argument("--only", default="", help="only clips whose file name starts with this")
    ap.add_argument("--limit", type=int, default=0, help="at most this many clips")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each second chance")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    rec = Recognizer(grammar_for(cfg), cfg.asr)
    judge = ActionJudge(cfg)
    manifest = [c for c in json.loads((args.set / "manifest.json").read_text())
                if c["file"].startswith(args.only)]
    if args.limit:  # as `voice.py asr --only --limit`: the same clips, in the same order
        manifest = manifest[: args.limit]
    counts: Counter[str] = Counter()
    ms: dict[str, list[float]] = {}
    for clip in manifest:
        tr, _ = recognize(args.set / clip["file"], rec, cfg.audio, cfg.vad)
        texts, took = alternatives(rec._decoder, args.n)
        group = "ood" if clip["kind"] == "ood" else f"{clip['snr_db']:g} dB"
        ms.setdefault(group, []).append(took)
        counts[f"{group}: clips"] += 1
        acting = next((t for t in texts if judge.acts(t)), None)
        if clip["kind"] == "ood":
            if not (tr.text and judge.acts(tr.text)):
                counts[f"{group}: nothing done"] += 1
                counts[f"{group}: nothing done, an alternative acts"] += acting is not None
            continue
        ref = " ".join(clip["text"].replace(",", "").split())
        if tr.text and judge.same(ref, tr.text):
            counts[f"{group}: right action"] += 1
        elif tr.rejected or not tr.text:
            counts[f"{group}: rejected"] += 1
            counts[f"{group}: rejected, right action among alternatives"] += any(
                judge.same(ref, t) for t in texts)
        elif not judge.acts(tr.text):
            counts[f"{group}: heard, no action"] += 1
            if acting is not None:
                right = judge.same(ref, acting)
                counts[f"{group}: heard, no action; first acting alternative "
                       f"{'right' if right else 'wrong'}"] += 1
                if args.verbose:
                    print(f"{clip['file']}: said '{ref}', heard '{tr.text}', "
                          f"alternative '{acting}' ({'right' if right else 'wrong'})")
        else:
            counts[f"{group}: wrong action"] += 1
    for key in sorted(counts):
        print(f"{key:72s} {counts[key]}")
    for group, values in sorted(ms.items()):
        print(f"{group + ': lattice and alternatives':72s} {percentiles(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
