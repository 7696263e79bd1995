"""Resident memory of the running service: what `assistant run` holds while it listens.

    .venv/bin/python benchmarks/service_memory.py

Builds the same parts `assistant run` does (templates, micro-LLM, recognizer with the
command grammar, wake detector), plays the bundled samples through them, and prints this
process's resident memory after each step and its peak (VmHWM, which leaves out the
short-lived child that compiles the grammar).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.audio import WavSource  # noqa: E402
from assistant.config import load_config  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.voice import SAMPLES_DIR, VoiceLoop  # noqa: E402


def status_mb(key: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(text.split(key + ":")[1].split()[0]) // 1024


def main() -> int:
    print(f"{'python + imports':34s} {status_mb('VmRSS'):5d} MB")
    config = load_config(ROOT / "config.yaml")
    if len(sys.argv) > 1:  # an adaptation folder (assistant adapt) to load with the model
        config = replace(config, asr=replace(config.asr,
                                             adaptation=str(Path(sys.argv[1]).resolve())))
    assistant = Assistant(config, publish=False)
    print(f"{'templates + micro-LLM':34s} {status_mb('VmRSS'):5d} MB")
    loop = VoiceLoop(assistant, config, wake=True)
    print(f"{'+ recognizer and wake detector':34s} {status_mb('VmRSS'):5d} MB")
    for wav in sorted(SAMPLES_DIR.glob("*.wav")):
        with WavSource(wav) as source:
            loop.run(source, wav=str(wav))
    print(f"{'after the bundled samples':34s} {status_mb('VmRSS'):5d} MB")
    print(f"{'peak (VmHWM)':34s} {status_mb('VmHWM'):5d} MB   (target <= 100 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
