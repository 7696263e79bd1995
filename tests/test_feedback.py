"""Feedback: beeps are click-free and the right length; replies are spoken by espeak-ng."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from assistant.config import FeedbackConfig
from assistant.feedback import BEEP_MS, BEEP_RATE_HZ, TONES_HZ, Feedback, tone


def test_tones_are_soft_and_start_and_end_in_silence() -> None:
    for freqs in TONES_HZ.values():
        samples = tone(freqs)
        assert len(samples) == len(freqs) * BEEP_RATE_HZ * BEEP_MS // 1000
        assert np.max(np.abs(samples)) <= 0.3 + 1e-6
        assert abs(samples[0]) < 1e-3 and abs(samples[-1]) < 0.05


def test_silent_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr("subprocess.Popen", lambda *a, **k: calls.append(a))
    fb = Feedback(FeedbackConfig())
    fb.event("wake")
    fb.say("Turned off 2 lights.")
    assert calls == []


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_reply_is_spoken_by_espeak() -> None:
    fb = Feedback(FeedbackConfig(speak=True))
    fb.say("Turned off 2 lights.")
    assert fb._speaking is not None
    fb.close()
    assert fb._speaking.returncode == 0
