"""Takes 16 kHz mono int16 chunks of any size; returns fixed frames, DC removed, level evened.

Chunks are first cut into frames of `frame_ms`; all processing then runs frame by frame, so
the frames out are bit-identical whatever chunk sizes the source delivered. The level
control is a slow AGC: the speech level estimate rises within a few hundred milliseconds
and falls over seconds, so a quiet microphone is lifted and a loud one tamed without
pumping within a command; a per-frame peak limit keeps the gain from clipping.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from assistant.config import AudioConfig
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

    @property
    def start_ms(self) -> int:
        return self.index * self.duration_ms

    @property
    def end_ms(self) -> int:
        return (self.index + 1) * self.duration_ms

    def pcm(self) -> bytes:
        """Little-endian 16-bit bytes, as webrtcvad and pocketsphinx take them."""
        return self.samples.astype("<i2").tobytes()


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
        self._target = FULL_SCALE * 10 ** (c.agc_target_dbfs / 20)
        self._max_gain = 10 ** (c.agc_max_gain_db / 20)
        self._min_gain = 10 ** (AGC_MIN_GAIN_DB / 20)
        self._attack = 1 - math.exp(-c.frame_ms / AGC_ATTACK_MS)
        self._release = 1 - math.exp(-c.frame_ms / AGC_RELEASE_MS)
        self._dc_rate = 1 - math.exp(-c.frame_ms / DC_TIME_CONSTANT_MS)
        self._floor_rise = 1 - math.exp(-c.frame_ms / AGC_FLOOR_RISE_MS)
        self._ramp = np.arange(1, self.frame_samples + 1) / self.frame_samples
        self.reset()

    def reset(self) -> None:
        """Forgets everything: the next sample starts frame 0 of a new stream."""
        self._pending = np.zeros(0, dtype=np.int16)
        self._index = 0
        self._dc: float | None = None
        self._level: float | None = None  # the talker's RMS level, once speech was heard
        self._floor: float | None = None
        self._gain = 1.0

    @property
    def gain_db(self) -> float:
        return 20 * math.log10(self._gain)

    def process(self, chunk: Int16Array) -> list[Frame]:
        """Frames completed by this chunk (possibly none); a partial frame waits for more."""
        buf = np.concatenate([self._pending, np.asarray(chunk, dtype=np.int16)])
        n = len(buf) // self.frame_samples
        frames = [self._frame(buf[i * self.frame_samples : (i + 1) * self.frame_samples])
                  for i in range(n)]
        self._pending = buf[n * self.frame_samples :]
        return frames

    def frames(self, chunks: Iterable[Int16Array]) -> Iterator[Frame]:
        """Every whole frame of a chunk stream; a trailing partial frame is dropped."""
        for chunk in chunks:
            yield from self.process(chunk)

    def _frame(self, raw: Int16Array) -> Frame:
        clipped = int(np.count_nonzero((raw >= 32767) | (raw <= -32768)))
        x = raw.astype(np.float64)
        mean = float(x.mean())
        self._dc = mean if self._dc is None else self._dc + self._dc_rate * (mean - self._dc)
        x -= self._dc
        level = 10 * math.log10(float(np.mean(x * x)) / FULL_SCALE**2 + 1e-10)
        if self.agc:
            x = self._agc(x)
        out = np.clip(np.round(x), -32768, 32767).astype(np.int16)
        frame = Frame(out, self._index, self.frame_ms, clipped, level)
        self._index += 1
        return frame

    def _agc(self, x: FloatArray) -> FloatArray:
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
        y = x * (self._gain + (gain - self._gain) * self._ramp)
        self._gain = gain
        return y
