"""End of speech -> MQTT publish on the voice path, with and without semantic endpointing.

    .venv/bin/python benchmarks/voice_latency.py [CLIP_DIR_OR_WAVS...] [--n 60] [--config FILE]

Each command clip is streamed through the real service path (frontend, VAD, streaming
recognition, micro-LLM, mapper, a real loopback mosquitto). Per clip it records the
silence the endpointer waited after the last voiced frame ("endpoint wait") and the
processing from that decision to the acknowledged-by-outbox publish. The noise
suppressor's fixed delay (30 ms, when `audio.noise_suppression` is on) is added to the
total: a microphone's frames reach the endpointer that much later. With semantic
endpointing the wait is `vad.semantic_silence_ms` once the words make a whole command;
without it, always `vad.trailing_silence_ms`. Default clips: tests/fixtures/audio/cmd_*.wav.

What acting early costs is printed too: the clips heard differently with semantic endpointing
on, and those cut short (what was heard with it is the start of what was heard without).
`benchmarks/pauses.txt` has commands said with a pause after words that already read as a
command ("turn on the lights, in the kitchen"); `make_speech.py bench --sentences` turns
them into clips.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.audio import AudioSource, WavSource  # noqa: E402
from assistant.config import Config, load_config  # noqa: E402
from assistant.denoise import DELAY_SAMPLES  # noqa: E402
from assistant.pcm import SAMPLE_RATE_HZ  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.structs import Status  # noqa: E402
from assistant.voice import VoiceLoop  # noqa: E402


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] if xs else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


TAIL_S = 1.5  # noise appended after each clip, so the silence timeout can run out in it
LEAD_MS = 300  # the clip's own opening noise is what gets appended


class PaddedWav(AudioSource):
    """A WAV followed by TAIL_S of its own opening noise: a room after someone spoke."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self.path = path

    def chunks(self) -> Iterator[np.ndarray[Any, Any]]:
        with WavSource(self.path) as source:
            chunks = list(source.chunks())
        audio = np.concatenate(chunks)
        lead = audio[: 16 * LEAD_MS]
        yield from chunks
        tail = np.tile(lead, int(TAIL_S * 1000 / LEAD_MS) + 1)
        for i in range(0, len(tail), 480):
            yield tail[i:i + 480]


def run(config: Config, clips: list[Path], semantic: bool,
        heard: dict[str, str] | None = None) -> dict[str, list[float]]:
    vad = config.vad if semantic else replace(config.vad,
                                              semantic_silence_ms=config.vad.trailing_silence_ms)
    cfg = replace(config, vad=vad)
    assistant = Assistant(cfg)
    loop = VoiceLoop(assistant, cfg, wake=False)
    out: dict[str, list[float]] = {"wait": [], "process": [], "total": []}
    delay_ms = 1000 * DELAY_SAMPLES / SAMPLE_RATE_HZ if cfg.audio.noise_suppression else 0.0
    ok = 0
    for clip in clips:
        with PaddedWav(clip) as source:
            for outcome in loop.run(source, wav=str(clip)):
                if heard is not None:  # the first command of each clip
                    heard.setdefault(str(clip), outcome.heard or "")
                t = outcome.timings_ms
                if outcome.status is Status.REJECTED or "end_of_speech_to_publish" not in t:
                    continue
                ok += 1
                out["wait"].append(t["endpoint_wait"])
                out["process"].append(t["end_of_speech_to_publish"])
                out["total"].append(delay_ms + t["endpoint_wait"]
                                    + t["end_of_speech_to_publish"])
    assistant.close(10)
    print(f"semantic endpointing {'on ' if semantic else 'off'}: {ok} commands acted on; "
          f"noise suppressor delay {delay_ms:.0f} ms")
    for k, xs in out.items():
        label = {"wait": "endpoint wait (silence)", "process": "decision -> publish",
                 "total": "end of speech -> publish"}[k]
        if xs:
            print(f"  {label:26s} p50 {statistics.median(xs):7.1f} ms   p95 "
                  f"{percentile(xs, 95):7.1f} ms")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clips", nargs="*", type=Path)
    ap.add_argument("--n", type=int, default=60, help="at most this many clips")
    ap.add_argument("--config", type=Path, default=ROOT / "config.yaml",
                    help="another home (benchmarks/home_size.py --write-config)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    paths: list[Path] = []
    for p in args.clips or [ROOT / "tests" / "fixtures" / "audio"]:
        paths += sorted(p.glob("*.wav")) if p.is_dir() else [p]
    clips = [p for p in paths if not p.name.startswith(("ood", "noise", "wake"))]
    clips = clips[:: max(1, len(clips) // args.n)][: args.n]  # spread over SNRs and voices
    base = load_config(args.config)
    tmp = Path(tempfile.mkdtemp(prefix="voice-latency-"))
    try:
        mqtt = replace(base.mqtt, port=free_port(), outbox_path=str(tmp / "outbox.sqlite3"))
        config = replace(base, mqtt=mqtt, path=str(tmp / "config.yaml"),
                         skills_dir=str(ROOT / "skills"),
                         understanding=replace(base.understanding,
                                               model_dir=str(ROOT / "models")))
        print(f"{len(clips)} clips, one core")
        heard_on: dict[str, str] = {}
        heard_off: dict[str, str] = {}
        on = run(config, clips, semantic=True, heard=heard_on)
        off = run(config, clips, semantic=False, heard=heard_off)
        if on["total"] and off["total"]:
            saved = statistics.median(off["total"]) - statistics.median(on["total"])
            print(f"semantic endpointing saves {saved:.0f} ms at the median")
        # What acting early costs: a command closed at a pause inside it is heard shorter.
        differ = [c for c in heard_off if heard_on.get(c, "") != heard_off[c]]
        cut = [c for c in differ if heard_off[c].split()[: len(heard_on.get(c, "").split())]
               == heard_on.get(c, "").split()]
        print(f"heard differently with semantic endpointing: {len(differ)} of {len(clips)} "
              f"clips; cut short (the words heard are the start of what was heard without "
              f"it): {len(cut)}")
        for c in differ:
            print(f"  {Path(c).name}: on '{heard_on.get(c, '')}' / off '{heard_off[c]}'")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
