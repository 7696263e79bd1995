"""Audible feedback: events (wake, done, error) and reply text in, beeps and speech out.

Both are optional (config `feedback`); with no sound device or no espeak-ng they quietly
do nothing, since a voice assistant must keep working when its speaker is unplugged.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from typing import Any

import numpy as np

from assistant.config import FeedbackConfig

log = logging.getLogger(__name__)

BEEP_RATE_HZ = 16000
BEEP_MS = 90
TONES_HZ = {"wake": (880.0,), "done": (660.0, 990.0), "error": (440.0, 330.0)}


def tone(freqs_hz: tuple[float, ...], duration_ms: int = BEEP_MS) -> np.ndarray[Any, Any]:
    """A short sequence of soft sine beeps (10 ms fades, so no clicks), float32 -1..1."""
    n = BEEP_RATE_HZ * duration_ms // 1000
    t = np.arange(n) / BEEP_RATE_HZ
    fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (BEEP_RATE_HZ / 100))
    parts = [0.3 * np.sin(2 * np.pi * f * t) * fade for f in freqs_hz]
    return np.concatenate(parts).astype(np.float32)


class Feedback:
    def __init__(self, config: FeedbackConfig) -> None:
        self.config = config
        self._espeak = shutil.which("espeak-ng") if config.speak else None
        if config.speak and self._espeak is None:
            log.warning("feedback.speak is on but espeak-ng is not installed; replies stay silent")
        self._speaking: subprocess.Popen[bytes] | None = None

    def event(self, name: str) -> None:
        if not self.config.sounds or name not in TONES_HZ:
            return
        try:
            import sounddevice  # needs the PortAudio library; optional at run time

            sounddevice.play(tone(TONES_HZ[name]), BEEP_RATE_HZ)
        except Exception as exc:  # no library, no device, device busy: stay silent
            log.debug("cannot play the %s sound: %s", name, exc)

    def say(self, text: str) -> None:
        if self._espeak is None or not text:
            return
        if self._speaking is not None and self._speaking.poll() is None:
            self._speaking.terminate()  # a new reply replaces one still being spoken
        try:
            self._speaking = subprocess.Popen(
                [self._espeak, "-v", self.config.voice, "--", text],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            log.warning("cannot speak the reply: %s", exc)

    def close(self) -> None:
        if self._speaking is not None:
            try:
                self._speaking.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._speaking.kill()
