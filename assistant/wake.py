"""Takes frontend frames; returns True on the frame where the wake phrase ("hey house") ends.

A pocketsphinx keyphrase search in its own small decoder listens continuously. The
sensitivity from config.yaml maps onto the search's detection threshold (calibrated with
benchmarks/voice.py wake: hits on spoken "hey house, ..." commands in noise against false
wakes per hour of unrelated speech); after a detection further ones are ignored for the
refractory period, so one phrase wakes the assistant once.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from assistant.config import WakeConfig
from assistant.errors import ConfigError, ModelError, Problem
from assistant.frontend import Frame
from assistant.lexicon import pronounce

log = logging.getLogger(__name__)

# Detection threshold (log10 of the keyphrase/alternatives likelihood ratio) at
# sensitivity 0 and 1; linear in between. Lower thresholds wake more easily.
THRESHOLD_LOG10_AT_0 = -5.0
THRESHOLD_LOG10_AT_1 = -35.0
# Probability of the search's phone loop, the "anything else" the phrase competes with.
# pocketsphinx's default (0.1) missed most male voices' "hey house" in the benchmark.
PHONE_LOOP_PROB = 1e-3
RESTART_MS = 30_000  # a fresh search now and then keeps its normalisation current
FRAME_MS = 10


def sensitivity_to_threshold(sensitivity: float) -> float:
    """Sensitivity 0..1 to pocketsphinx's kws_threshold."""
    s = min(1.0, max(0.0, sensitivity))
    return float(10 ** (THRESHOLD_LOG10_AT_0 + s * (THRESHOLD_LOG10_AT_1 - THRESHOLD_LOG10_AT_0)))


class WakeDetector:
    """Spots the wake phrase in a continuous stream of frames."""

    def __init__(self, config: WakeConfig | None = None, model_dir: str | None = None) -> None:
        self.config = c = config or WakeConfig()
        phrase = " ".join(c.phrase.lower().split())
        if not phrase:
            raise ConfigError([Problem("config.yaml", 0, "wake.phrase", "must not be empty")])
        try:
            from pocketsphinx import Decoder, get_model_path
        except ImportError as e:
            raise ModelError("wake phrase detection needs the pocketsphinx package") from e
        hmm = model_dir or os.path.join(get_model_path(), "en-us", "en-us")
        prons = pronounce(phrase.split())
        with tempfile.TemporaryDirectory(prefix="wake-") as tmp:
            path = os.path.join(tmp, "wake.dict")
            with open(path, "w", encoding="utf-8") as f:
                for word, variants in prons.items():
                    for i, p in enumerate(variants):
                        f.write(f"{word if i == 0 else f'{word}({i + 1})'} {p}\n")
            # Giving the keyphrase at construction keeps the default language model out.
            self._decoder: Any = Decoder(
                hmm=hmm, dict=path, keyphrase=phrase, loglevel="ERROR",
                kws_threshold=sensitivity_to_threshold(c.sensitivity), kws_plp=PHONE_LOOP_PROB)
        self.phrase = phrase
        self._time_ms = 0
        self._utt_ms = 0
        self._quiet_until_ms = -1
        self._decoder.start_utt()
        log.info("wake phrase '%s' at sensitivity %.2f", phrase, c.sensitivity)

    def process(self, frame: Frame) -> bool:
        """Feeds one frame; True when the phrase was just heard (outside the refractory time)."""
        if frame.end_ms <= self._time_ms:  # a new stream (the next file): times restart
            self._quiet_until_ms = -1
        # Stream time, so the refractory period also covers frames not fed to us (awake).
        self._time_ms = frame.end_ms
        self._utt_ms += frame.duration_ms
        d = self._decoder
        d.process_raw(frame.pcm())
        if d.hyp() is not None:
            self._restart()
            if self._time_ms < self._quiet_until_ms:
                return False
            self._quiet_until_ms = self._time_ms + self.config.refractory_ms
            return True
        if self._utt_ms >= RESTART_MS:
            self._restart()
        return False

    def reset(self) -> None:
        """Forgets partial evidence, e.g. after the assistant spoke or a command ended."""
        self._restart()

    def _restart(self) -> None:
        self._decoder.end_utt()
        self._decoder.start_utt()
        self._utt_ms = 0

    def close(self) -> None:
        self._decoder.end_utt()
