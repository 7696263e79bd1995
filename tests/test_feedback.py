"""Feedback: beeps are click-free and the right length; replies are spoken by espeak-ng,
here or, as WAV files, on a speaker elsewhere."""

from __future__ import annotations

import io
import logging
import shutil
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.config import FeedbackConfig
from assistant.feedback import (
    BEEP_MS,
    BEEP_RATE_HZ,
    PLAYBACK_TAIL_MS,
    TONES_HZ,
    Feedback,
    RemoteFeedback,
    spoken_wav,
    tone,
    tone_wav,
    wav_duration_ms,
    wav_file,
)


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


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_playing_while_a_reply_sounds_and_its_echo_dies_away() -> None:
    fb = Feedback(FeedbackConfig(speak=True))
    assert not fb.playing()
    fb.say("Turned off the kitchen lights and closed the blinds.")
    assert fb.playing()
    fb.close()  # waits until espeak-ng has finished
    assert fb.playing()  # the room's echo: a moment longer
    time.sleep(PLAYBACK_TAIL_MS / 1000 + 0.05)
    assert not fb.playing()


def wav_params(data: bytes) -> tuple[int, int, int, int, bytes]:
    """(channels, sample bytes, rate, frames in the header, audio) of a WAV file."""
    with wave.open(io.BytesIO(data), "rb") as w:
        return (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes(),
                w.readframes(w.getnframes()))


def test_tones_as_wav_files_for_a_speaker_elsewhere() -> None:
    for name, freqs in TONES_HZ.items():
        data = tone_wav(name)
        assert data is not None
        channels, width, rate, n, audio = wav_params(data)
        assert (channels, width, rate) == (1, 2, 16000)
        assert n == len(tone(freqs)) == len(audio) // 2
        samples = np.frombuffer(audio, "<i2")
        assert 0.29 * 32767 < np.max(np.abs(samples)) <= 0.3 * 32767 + 1
        assert wav_duration_ms(data) == len(freqs) * BEEP_MS
    assert tone_wav("applause") is None


def test_duration_counts_the_audio_not_a_header_left_at_its_maximum() -> None:
    # What espeak-ng writes to a pipe: it cannot go back to fill in the sizes.
    data = bytearray(wav_file(np.zeros(8000, np.int16), 16000))
    data[4:8] = data[40:44] = (0x7FFFF000).to_bytes(4, "little")
    assert wav_duration_ms(bytes(data)) == 500
    assert wav_duration_ms(b"RIFF\x00\x00") is None
    assert wav_duration_ms(b"not a wav file at all, but long enough to look") is None


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_a_reply_rendered_by_espeak_has_its_true_length() -> None:
    channels, width, rate, n, audio = wav_params(spoken_wav("Turned off 2 lights.", "en-us"))
    assert (channels, width, rate) == (1, 2, 22050)
    assert n == len(audio) // 2 and 0.8 * rate < n < 3 * rate  # about a second and a half
    assert np.max(np.abs(np.frombuffer(audio, "<i2"))) > 3000  # speech, not silence


def remote(config: FeedbackConfig) -> tuple[RemoteFeedback, list[tuple[str, bytes]]]:
    played: list[tuple[str, bytes]] = []
    return RemoteFeedback(config, lambda site, wav: played.append((site, wav))), played


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_remote_beeps_go_at_once_and_replies_follow_in_order() -> None:
    fb, played = remote(FeedbackConfig(sounds=True, speak=True))
    den, hall = fb.for_site("den"), fb.for_site("hall")
    den.event("done")
    assert played == [("den", tone_wav("done"))]  # no wait for a renderer
    den.say("Turned off 2 lights.")
    hall.event("error")
    hall.say("Sorry, I didn't catch that.")
    den.event("unknown")
    den.close()  # a loop's close: the replies still go out
    fb.close()
    assert [site for site, _ in played] == ["den", "hall", "den", "hall"]
    assert played[1] == ("hall", tone_wav("error"))
    for _, wav in played[2:]:
        channels, width, rate, n, _ = wav_params(wav)
        assert (channels, width, rate) == (1, 2, 22050) and n > rate // 2


def test_remote_feedback_is_silent_by_default() -> None:
    fb, played = remote(FeedbackConfig())
    site = fb.for_site("den")
    site.event("wake")
    site.say("Turned off 2 lights.")
    fb.close()
    assert played == []


def test_remote_replies_without_espeak_are_skipped_with_one_warning(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to run here
    with caplog.at_level(logging.WARNING, logger="assistant.feedback"):
        fb, played = remote(FeedbackConfig(sounds=True, speak=True))
        for site_id in ("den", "hall"):
            fb.for_site(site_id).event("wake")
            fb.for_site(site_id).say("Okay.")
        fb.close()
    assert [site for site, _ in played] == ["den", "hall"]  # the beeps need no espeak-ng
    assert [r.getMessage() for r in caplog.records] == [
        "feedback.speak is on but espeak-ng is not installed; replies stay silent"]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_a_reply_espeak_cannot_render_is_logged_once_and_skipped(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="assistant.feedback"):
        fb, played = remote(FeedbackConfig(speak=True, voice="nosuchvoice"))
        for _ in range(3):
            fb.for_site("den").say("Okay.")
        fb.close()
    assert played == []
    assert len(caplog.records) == 1 and "cannot render" in caplog.records[0].getMessage()
