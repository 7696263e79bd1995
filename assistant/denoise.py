"""Steady background noise taken out of the audio before anything listens to it.

A short-time spectral suppressor: 40 ms windows every 10 ms, a noise spectrum learned from
the first 100 ms and then from the quiet parts of each frequency, and a Wiener gain from a
smoothed ("decision-directed") estimate of each frequency's speech-to-noise ratio. Fans,
hum and hiss lose up to 10 dB; speech passes almost untouched.

Two rules keep the recognizer's acoustic model at home with the result, measured on the
benchmark sets (docs/benchmarks.md):
- noise is never pushed below a quiet room's own floor (`COMFORT_DBFS`): a spectrum with
  deep holes in it decodes as badly as digital silence, and quiet noise is left alone;
- each frequency's gain is averaged with its neighbours', so no lone tones ("musical
  noise") flicker where the noise was.

The output is the input delayed by `DELAY_SAMPLES` (30 ms), sample for sample whatever the
sizes of the pieces it is fed in.
"""

from __future__ import annotations

import numpy as np

from assistant.pcm import FloatArray

WINDOW = 640  # samples (40 ms at 16 kHz): 25 Hz per frequency step, fine enough for hum
HOP = 160  # 10 ms
DELAY_SAMPLES = WINDOW - HOP
LEARN_HOPS = 10  # the first 100 ms of a stream teach the noise spectrum
NOISE_SMOOTHING = 0.99  # per hop, for frequencies judged quiet (about 1 s to follow a change)
SPEECH_OVER_NOISE = 2.0  # a frequency this far above its noise estimate is not learned from
NOISE_CREEP = 1.002  # per hop: a louder steady noise is still learned while someone talks
XI_SMOOTHING = 0.98  # decision-directed smoothing of the speech-to-noise estimate
MAX_SUPPRESSION_DB = 10.0
COMFORT_DBFS = -50.0  # white noise at this level is left as it is
GAIN_SPREAD = 7  # frequencies averaged for each gain (175 Hz)
FULL_SCALE = 32767.0


class NoiseSuppressor:
    """Feed int16-range samples in order with `process`; get as many samples back, delayed."""

    def __init__(self) -> None:
        self._window = np.sqrt(np.hanning(WINDOW + 1)[:WINDOW])  # periodic: sums flat
        power = float(np.sum(self._window**2))
        self._ola = HOP / power  # analysis and synthesis windows overlap-add to this
        self._floor_gain = 10 ** (-MAX_SUPPRESSION_DB / 20)
        self._comfort = (FULL_SCALE * 10 ** (COMFORT_DBFS / 20)) ** 2 * power
        self._spread = np.ones(GAIN_SPREAD) / GAIN_SPREAD
        self.reset()

    def reset(self) -> None:
        self._in = np.zeros(WINDOW)
        self._out = np.zeros(WINDOW)
        self._pending = np.zeros(0)
        self._hops = 0
        self._learned = np.zeros(WINDOW // 2 + 1)
        self._noise = np.zeros(WINDOW // 2 + 1)
        self._last: FloatArray | None = None  # last hop's speech power over noise

    def process(self, samples: FloatArray) -> FloatArray:
        """The processed signal `DELAY_SAMPLES` behind the input, one sample per sample in."""
        buf = np.concatenate([self._pending, samples])
        n = len(buf) // HOP
        out = [self._hop(buf[i * HOP:(i + 1) * HOP]) for i in range(n)]
        self._pending = buf[n * HOP:]
        # Input not yet a whole hop is held back; its output comes with the next call.
        return np.concatenate(out) if out else np.zeros(0)

    def _hop(self, x: FloatArray) -> FloatArray:
        self._in = np.concatenate([self._in[HOP:], x])
        spec = np.fft.rfft(self._in * self._window)
        power = spec.real**2 + spec.imag**2 + 1e-6
        self._hops += 1
        if self._hops <= LEARN_HOPS:
            self._learned += power
            self._noise = self._learned / self._hops
        else:
            quiet = power < SPEECH_OVER_NOISE * self._noise
            self._noise = np.where(
                quiet, NOISE_SMOOTHING * self._noise + (1 - NOISE_SMOOTHING) * power,
                self._noise * NOISE_CREEP)
        snr_post = power / self._noise
        fresh = np.maximum(snr_post - 1, 0.0)
        snr_prior = fresh if self._last is None else (
            XI_SMOOTHING * self._last + (1 - XI_SMOOTHING) * fresh)
        floor = np.clip(np.sqrt(self._comfort / self._noise), self._floor_gain, 1.0)
        gain = np.maximum(snr_prior / (1 + snr_prior), floor)
        half = GAIN_SPREAD // 2
        gain = np.convolve(np.pad(gain, half, mode="edge"), self._spread, mode="valid")
        self._last = gain**2 * snr_post
        y = np.fft.irfft(spec * gain, WINDOW) * self._window * self._ola
        self._out = np.concatenate([self._out[HOP:], np.zeros(HOP)]) + y
        return self._out[:HOP].copy()
