"""Audible feedback: events (wake, done, error) and reply text in, beeps and speech out.

Both are optional (config `feedback`); with no sound device or no espeak-ng they quietly
do nothing, since a voice assistant must keep working when its speaker is unplugged.
`Feedback` plays on this board; `RemoteFeedback` renders the same sounds as WAV files for
speakers elsewhere (a satellite's, over MQTT).
"""

from __future__ import annotations

import functools
import io
import logging
import queue
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.config import FeedbackConfig

log = logging.getLogger(__name__)

BEEP_RATE_HZ = 16000
BEEP_MS = 90
TONES_HZ = {"wake": (880.0,), "done": (660.0, 990.0), "error": (440.0, 330.0)}
SPEAK_TIMEOUT_S = 10.0  # espeak-ng renders a short reply in well under a second
MAX_QUEUED_REPLIES = 8  # replies waiting to be rendered; more means espeak-ng cannot keep up
CLOSE_TIMEOUT_S = 10.0
# After a sound ends, the room still echoes it: a microphone next to the speaker is left
# unheard this much longer.
PLAYBACK_TAIL_MS = 300


def tone(freqs_hz: tuple[float, ...], duration_ms: int = BEEP_MS) -> np.ndarray[Any, Any]:
    """A short sequence of soft sine beeps (10 ms fades, so no clicks), float32 -1..1."""
    n = BEEP_RATE_HZ * duration_ms // 1000
    t = np.arange(n) / BEEP_RATE_HZ
    fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (BEEP_RATE_HZ / 100))
    parts = [0.3 * np.sin(2 * np.pi * f * t) * fade for f in freqs_hz]
    return np.concatenate(parts).astype(np.float32)


def wav_file(samples: np.ndarray[Any, Any], rate_hz: int) -> bytes:
    """Mono samples (int16, or float -1..1) as a 16-bit PCM WAV file."""
    if samples.dtype.kind == "f":
        samples = np.round(np.clip(samples, -1.0, 1.0) * 32767)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


@functools.cache
def tone_wav(name: str) -> bytes | None:
    """The tone of an event (`TONES_HZ`) as a 16 kHz mono 16-bit WAV file; None for others."""
    return wav_file(tone(TONES_HZ[name]), BEEP_RATE_HZ) if name in TONES_HZ else None


@dataclass(frozen=True)
class WavAudio:
    """A WAV file read back: its format and its audio."""

    channels: int
    sample_bytes: int
    rate_hz: int
    pcm: bytes  # the audio frames, as stored

    @property
    def duration_ms(self) -> int:
        frame_bytes = self.channels * self.sample_bytes
        return len(self.pcm) // frame_bytes * 1000 // self.rate_hz if frame_bytes else 0


def read_wav(data: bytes) -> WavAudio:
    """A PCM WAV file's format and as much audio as it holds: espeak-ng writing to a pipe
    cannot go back to fill in the length, and leaves the largest one in the header.
    Raises wave.Error or EOFError if it is not one."""
    with wave.open(io.BytesIO(data), "rb") as w:
        if not w.getframerate():
            raise wave.Error("a sample rate of 0 Hz")
        return WavAudio(w.getnchannels(), w.getsampwidth(), w.getframerate(),
                        w.readframes(w.getnframes()))


def wav_duration_ms(data: bytes) -> int | None:
    """How long a WAV file plays; None if it is not a PCM WAV file."""
    try:
        return read_wav(data).duration_ms
    except (wave.Error, EOFError):
        return None


def spoken_wav(text: str, voice: str, espeak: str = "espeak-ng") -> bytes:
    """`text` spoken by espeak-ng, as a WAV file whose header gives the true length.

    Raises OSError or subprocess.SubprocessError if espeak-ng cannot be run or fails, and
    wave.Error if what it wrote is not a WAV file with audio in it.
    """
    done = subprocess.run([espeak, "-v", voice, "--stdout", "--", text], capture_output=True,
                          timeout=SPEAK_TIMEOUT_S, check=True)
    audio = read_wav(done.stdout)
    if not audio.pcm:
        raise wave.Error("espeak-ng produced no audio")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(audio.channels)
        w.setsampwidth(audio.sample_bytes)
        w.setframerate(audio.rate_hz)
        w.writeframes(audio.pcm)  # the true length goes into the header on close
    return out.getvalue()


class Feedback:
    def __init__(self, config: FeedbackConfig) -> None:
        self.config = config
        self._espeak = shutil.which("espeak-ng") if config.speak else None
        if config.speak and self._espeak is None:
            log.warning("feedback.speak is on but espeak-ng is not installed; replies stay silent")
        self._speaking: subprocess.Popen[bytes] | None = None
        self._quiet_at = 0.0  # time.monotonic() when what was played last has died away

    def playing(self) -> bool:
        """Whether a beep or a reply is sounding on this board (or just was): what the
        board's own microphone hears now is our voice, not the user's."""
        now = time.monotonic()
        if self._speaking is not None:
            if self._speaking.poll() is None:
                return True
            self._speaking = None  # just ended: its echo has the tail still to go
            self._quiet_at = max(self._quiet_at, now + PLAYBACK_TAIL_MS / 1000)
        return now < self._quiet_at

    def event(self, name: str) -> None:
        if not self.config.sounds or name not in TONES_HZ:
            return
        samples = tone(TONES_HZ[name])
        try:
            import sounddevice  # needs the PortAudio library; optional at run time

            sounddevice.play(samples, BEEP_RATE_HZ)
        except Exception as exc:  # no library, no device, device busy: stay silent
            log.debug("cannot play the %s sound: %s", name, exc)
            return
        self._quiet_at = time.monotonic() + (len(samples) / BEEP_RATE_HZ
                                             + PLAYBACK_TAIL_MS / 1000)

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


PlayWav = Callable[[str, bytes], None]  # (siteId, WAV file): plays it at that site


class RemoteFeedback:
    """Feedback for speakers in other rooms: tones and replies as WAV files for `play()`.

    Rendering a reply takes espeak-ng a few hundred milliseconds, so replies are rendered on
    a worker thread of their own, in the order asked: the listening loop that asked goes on
    listening. Tones are ready at once and handed over at once, so a tone leaves before
    the reply that follows it. A missing espeak-ng is logged once, here, not per site.
    """

    def __init__(self, config: FeedbackConfig, play: PlayWav) -> None:
        self.config = config
        self._play = play
        self._espeak = shutil.which("espeak-ng") if config.speak else None
        if config.speak and self._espeak is None:
            log.warning("feedback.speak is on but espeak-ng is not installed; replies stay silent")
        self._replies: queue.Queue[tuple[str, str] | None] = queue.Queue(MAX_QUEUED_REPLIES)
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._failed = False  # the first failure to render is a warning, later ones debug

    def for_site(self, site_id: str) -> Feedback:
        """What a listening loop calls its feedback, for one site."""
        return SiteFeedback(self, site_id)

    def event(self, site_id: str, name: str) -> None:
        wav = tone_wav(name) if self.config.sounds else None
        if wav is not None:
            self._send(site_id, wav)

    def say(self, site_id: str, text: str) -> None:
        if self._espeak is None or not text:
            return
        with self._lock:
            if self._closed:
                return
            if self._worker is None:
                self._worker = threading.Thread(target=self._render, name="reply-renderer",
                                                daemon=True)
                self._worker.start()
        try:
            self._replies.put_nowait((site_id, text))
        except queue.Full:
            log.warning("site %s: reply not spoken, %d others wait to be rendered: %r",
                        site_id, MAX_QUEUED_REPLIES, text)

    def close(self) -> None:
        """Renders and hands over the replies already asked for (bounded wait), then stops."""
        with self._lock:
            self._closed = True
            worker = self._worker
        if worker is not None:
            try:
                self._replies.put(None, timeout=CLOSE_TIMEOUT_S)
            except queue.Full:
                return  # the worker is stuck; it is a daemon thread
            worker.join(CLOSE_TIMEOUT_S)

    def _render(self) -> None:
        assert self._espeak is not None  # the worker is started only with espeak-ng
        while (item := self._replies.get()) is not None:
            site_id, text = item
            try:
                wav = spoken_wav(text, self.config.voice, self._espeak)
            except (OSError, subprocess.SubprocessError, wave.Error, EOFError) as exc:
                log.log(logging.DEBUG if self._failed else logging.WARNING,
                        "cannot render the reply for site %s with espeak-ng: %s", site_id, exc)
                self._failed = True
                continue
            self._send(site_id, wav)

    def _send(self, site_id: str, wav: bytes) -> None:
        try:
            self._play(site_id, wav)
        except Exception:  # a failed playback must not stop the loop or the worker
            log.exception("cannot play feedback at site %s", site_id)


class SiteFeedback(Feedback):
    """One site's view of a RemoteFeedback, where a listening loop expects its Feedback.

    Nothing plays on this board, so Feedback's own set-up (the espeak-ng check) is skipped.
    """

    def __init__(self, remote: RemoteFeedback, site_id: str) -> None:
        self.config = remote.config
        self._espeak = None
        self._speaking = None
        self.remote = remote
        self.site_id = site_id

    def event(self, name: str) -> None:
        self.remote.event(self.site_id, name)

    def say(self, text: str) -> None:
        self.remote.say(self.site_id, text)

    def close(self) -> None:
        """Nothing of its own to wait for: the RemoteFeedback's owner closes it."""
