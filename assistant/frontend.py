"""Takes 16 kHz mono int16 chunks of any size; returns fixed frames, denoised, DC removed,
level evened.

Chunks are first cut into frames of `frame_ms`; all processing then runs frame by frame, so
the frames out are bit-identical whatever chunk sizes the source delivered.

Steady noise is suppressed (`assistant.denoise`, when `audio.noise_suppression` is on) for
the VAD and the recognizer, while the wake phrase detector keeps the plain audio
(`Frame.plain`, with its own gain control): on the benchmark sets, suppression made
commands at 5 dB SNR far better heard and did nothing for the wake phrase. A frame then
comes out 30 ms after the audio it holds, and a stream's last 30 ms stay in the suppressor.

The level control is a slow AGC: the speech level estimate rises within a few hundred
milliseconds and falls over seconds, so a quiet microphone is lifted and a loud one tamed
without pumping within a command; a per-frame peak limit keeps the gain from clipping.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from assistant.config import AudioConfig
from assistant.denoise import DELAY_SAMPLES, NoiseSuppressor
from assistant.pcm import SAMPLE_RATE_HZ, FloatArray, Int16Array

FULL_SCALE = 32767.0


@dataclass(frozen=True, eq=False)
class Frame:
    """One frame of processed audio, as every later stage consumes it."""

    samples: Int16Array  # frame_ms worth of 16 kHz mono int16
    index: int  # frames since the stream began
    duration_ms: int
    clipped_samples: int = 0  # input samples at full scale: the microphone gain is too high
    # RMS level before gain control, so level-based decisions are not fooled by the AGC.
    input_level_dbfs: float = -100.0
    # The same audio without noise suppression (None when suppression is off).
    plain: Int16Array | None = None

    @property
    def start_ms(self) -> int:
        return self.index * self.duration_ms

    @property
    def end_ms(self) -> int:
        return (self.index + 1) * self.duration_ms

    def pcm(self) -> bytes:
        """Little-endian 16-bit bytes, as webrtcvad and pocketsphinx take them."""
        return self.samples.astype("<i2").tobytes()

    def plain_pcm(self) -> bytes:
        """`pcm()` of the audio before noise suppression."""
        return (self.samples if self.plain is None else self.plain).astype("<i2").tobytes()


# Slow AGC time constants: a rising level is followed within a word, a falling one over seconds.
AGC_ATTACK_MS = 300.0
AGC_RELEASE_MS = 3000.0
AGC_MIN_GAIN_DB = -12.0
AGC_SPEECH_OVER_FLOOR = 3.0  # a frame this many times the noise floor's RMS counts as speech
AGC_FLOOR_RISE_MS = 3000.0  # how slowly the noise floor estimate climbs
DC_TIME_CONSTANT_MS = 1000.0


class Frontend:
    """A stateful frame cutter and conditioner: feed chunks in order, get frames back."""

    def __init__(self, config: AudioConfig | None = None) -> None:
        self.config = c = config or AudioConfig()
        if c.frame_ms not in (10, 20, 30):
            raise ValueError("frame_ms must be 10, 20 or 30 (what webrtcvad accepts)")
        self.frame_ms = c.frame_ms
        self.agc = c.agc
        self.frame_samples = SAMPLE_RATE_HZ * c.frame_ms // 1000
        self._dc_rate = 1 - math.exp(-c.frame_ms / DC_TIME_CONSTANT_MS)
        self._suppressor = NoiseSuppressor() if c.noise_suppression else None
        self.reset()

    def reset(self) -> None:
        """Forgets everything: the next sample starts frame 0 of a new stream."""
        self._pending = np.zeros(0, dtype=np.int16)
        self._index = 0
        # Suppressed samples not yet a whole frame, and the raw frames they belong to.
        self._clean = np.zeros(0)
        self._skip = DELAY_SAMPLES  # the suppressor's first output is its empty history
        self._raw: list[Int16Array] = []
        if self._suppressor is not None:
            self._suppressor.reset()
        self._dc: float | None = None
        self._dc_clean: float | None = None
        # Each stream has its own gain: the clean one's noise floor is lower.
        self._agc_plain = Agc(self.config)
        self._agc_clean = Agc(self.config)

    def process(self, chunk: Int16Array) -> list[Frame]:
        """Frames completed by this chunk (possibly none); a partial frame waits for more."""
        buf = np.concatenate([self._pending, np.asarray(chunk, dtype=np.int16)])
        n = len(buf) // self.frame_samples
        raws = [buf[i * self.frame_samples : (i + 1) * self.frame_samples] for i in range(n)]
        self._pending = buf[n * self.frame_samples :]
        if self._suppressor is None:
            return [self._frame(raw, None) for raw in raws]
        frames = []
        for raw in raws:
            self._raw.append(raw)
            clean = self._suppressor.process(raw.astype(np.float64))
            if self._skip:  # after these, output sample i is input sample i suppressed
                cut = min(self._skip, len(clean))
                clean, self._skip = clean[cut:], self._skip - cut
            self._clean = np.concatenate([self._clean, clean])
            while len(self._clean) >= self.frame_samples:
                x, self._clean = (self._clean[: self.frame_samples],
                                  self._clean[self.frame_samples :])
                frames.append(self._frame(self._raw.pop(0), x))
        return frames

    def frames(self, chunks: Iterable[Int16Array]) -> Iterator[Frame]:
        """Every whole frame of a chunk stream; a trailing partial frame is dropped."""
        for chunk in chunks:
            yield from self.process(chunk)

    def _follow(self, dc: float | None, mean: float) -> float:
        """A DC estimate moved towards this frame's mean (the first frame's mean at first)."""
        return mean if dc is None else dc + self._dc_rate * (mean - dc)

    def _frame(self, raw: Int16Array, clean: FloatArray | None) -> Frame:
        """One frame from its raw samples and, when suppression is on, their clean version."""
        clipped = int(np.count_nonzero((raw >= 32767) | (raw <= -32768)))
        x = raw.astype(np.float64)
        self._dc = self._follow(self._dc, float(x.mean()))
        x -= self._dc
        if clean is not None:
            self._dc_clean = self._follow(self._dc_clean, float(clean.mean()))
            clean = clean - self._dc_clean
        heard = x if clean is None else clean
        level = 10 * math.log10(float(np.mean(heard * heard)) / FULL_SCALE**2 + 1e-10)
        if self.agc:
            x = x * self._agc_plain.ramp(x)
            heard = x if clean is None else clean * self._agc_clean.ramp(clean)
        out = _int16(heard)
        frame = Frame(out, self._index, self.frame_ms, clipped, level,
                      None if clean is None else _int16(x))
        self._index += 1
        return frame


class Agc:
    """The slow automatic gain control of one stream of frames."""

    def __init__(self, c: AudioConfig) -> None:
        self._target = FULL_SCALE * 10 ** (c.agc_target_dbfs / 20)
        self._max_gain = 10 ** (c.agc_max_gain_db / 20)
        self._min_gain = 10 ** (AGC_MIN_GAIN_DB / 20)
        self._attack = 1 - math.exp(-c.frame_ms / AGC_ATTACK_MS)
        self._release = 1 - math.exp(-c.frame_ms / AGC_RELEASE_MS)
        self._floor_rise = 1 - math.exp(-c.frame_ms / AGC_FLOOR_RISE_MS)
        n = SAMPLE_RATE_HZ * c.frame_ms // 1000
        self._ramp = np.arange(1, n + 1) / n
        self._level: float | None = None  # the talker's RMS level, once speech was heard
        self._floor: float | None = None
        self._gain = 1.0

    def ramp(self, x: FloatArray) -> FloatArray:
        """The gain for each sample of this frame (a ramp from the last frame's gain)."""
        rms = float(np.sqrt(np.mean(x * x))) + 1e-3
        # Noise floor: follows quiet frames at once, loud ones only slowly (minimum tracking).
        if self._floor is None or rms < self._floor:
            self._floor = rms
        else:
            self._floor += self._floor_rise * (rms - self._floor)
        # Only frames well above the floor say anything about the talker's level, so steady
        # noise alone never winds the gain up.
        if rms > AGC_SPEECH_OVER_FLOOR * self._floor:
            if self._level is None:
                self._level = rms
            else:
                rate = self._attack if rms > self._level else self._release
                self._level += rate * (rms - self._level)
        gain = 1.0 if self._level is None else self._target / self._level
        gain = min(self._max_gain, max(self._min_gain, gain))
        peak = float(np.abs(x).max())
        if peak * gain > FULL_SCALE:  # limit at once rather than clip a loud onset
            gain = FULL_SCALE / peak
        # Ramp across the frame from the previous gain so gain steps do not click.
        ramp = self._gain + (gain - self._gain) * self._ramp
        self._gain = gain
        return ramp


def _int16(x: FloatArray) -> Int16Array:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)
