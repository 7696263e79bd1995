"""Takes WAV bytes and PCM samples; returns parsed formats, float samples and resampled streams.

The low-level half of the audio sources: a RIFF/WAVE header reader that accepts any common
integer or float PCM layout (including WAVE_FORMAT_EXTENSIBLE, which Python 3.11's `wave`
module rejects) and explains exactly why it refuses anything else, plus a streaming
windowed-sinc resampler whose output does not depend on how its input was chunked.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from assistant.errors import AudioError

SAMPLE_RATE_HZ = 16000  # what every stage after the sources works at

FloatArray = NDArray[np.float64]
Int16Array = NDArray[np.int16]

FORMAT_PCM = 0x0001
FORMAT_FLOAT = 0x0003
FORMAT_EXTENSIBLE = 0xFFFE
UNKNOWN_SIZE = 0xFFFFFFFF  # written by recorders that stream to a pipe
COMPRESSED_NAMES = {
    0x0002: "MS ADPCM", 0x0006: "A-law", 0x0007: "mu-law", 0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10", 0x0055: "MP3",
}


@dataclass(frozen=True)
class WavFormat:
    """Where a WAV file's samples are and how they are laid out."""

    sample_rate_hz: int
    channels: int
    bits_per_sample: int
    is_float: bool
    data_offset: int  # byte position of the first sample
    data_bytes: int  # whole frames only

    @property
    def block_align(self) -> int:
        return self.channels * self.bits_per_sample // 8

    @property
    def frames(self) -> int:
        return self.data_bytes // self.block_align

    @property
    def duration_ms(self) -> float:
        return 1000.0 * self.frames / self.sample_rate_hz

    def is_native(self, rate_hz: int) -> bool:
        return (self.sample_rate_hz == rate_hz and self.channels == 1
                and self.bits_per_sample == 16 and not self.is_float)


def read_header(f: BinaryIO, name: str) -> WavFormat:
    """Parses the RIFF header of an open file; AudioError names the file and the reason."""
    f.seek(0, 2)
    file_bytes = f.tell()
    f.seek(0)
    head = f.read(12)
    if len(head) == 0:
        raise AudioError(f"{name}: the file is empty")
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        raise AudioError(f"{name}: not a WAV file (no RIFF/WAVE header)")
    if head[:4] == b"RIFX":
        raise AudioError(f"{name}: big-endian (RIFX) WAV files are not supported")
    fmt: tuple[int, int, int, int] | None = None  # (code, channels, rate, bits)
    pos = 12
    while True:
        f.seek(pos)
        chunk = f.read(8)
        if len(chunk) < 8:
            what = "no 'data' chunk" if fmt else "no 'fmt ' chunk"
            raise AudioError(f"{name}: not a usable WAV file ({what}; truncated or corrupt)")
        cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if cid == b"fmt ":
            fmt = _parse_fmt(f.read(min(size, 64)), name)
        elif cid == b"data":
            if fmt is None:
                raise AudioError(f"{name}: corrupt WAV file ('data' before 'fmt ')")
            return _data_format(fmt, pos + 8, size, file_bytes, name)
        pos += 8 + size + (size & 1)  # chunks are padded to even length
        if pos > file_bytes:
            raise AudioError(f"{name}: corrupt WAV file (chunk '{cid!r}' runs past the end)")


def _parse_fmt(body: bytes, name: str) -> tuple[int, int, int, int]:
    if len(body) < 16:
        raise AudioError(f"{name}: corrupt WAV file ('fmt ' chunk too short)")
    code, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
    if code == FORMAT_EXTENSIBLE and len(body) >= 26:
        code = struct.unpack("<H", body[24:26])[0]  # first two bytes of the sub-format GUID
    if code not in (FORMAT_PCM, FORMAT_FLOAT):
        label = COMPRESSED_NAMES.get(code, f"format code 0x{code:04x}")
        raise AudioError(f"{name}: compressed audio ({label}) is not PCM; convert it to "
                         "PCM WAV, e.g. sox in.wav -b 16 out.wav")
    if channels < 1:
        raise AudioError(f"{name}: corrupt WAV file (0 channels)")
    if not 4000 <= rate <= 384000:
        raise AudioError(f"{name}: unusable sample rate {rate} Hz")
    allowed = (32, 64) if code == FORMAT_FLOAT else (8, 16, 24, 32)
    if bits not in allowed:
        kind = "float" if code == FORMAT_FLOAT else "integer"
        raise AudioError(f"{name}: unsupported sample width {bits} bits ({kind} PCM)")
    return code, channels, rate, bits


def _data_format(fmt: tuple[int, int, int, int], offset: int, size: int, file_bytes: int,
                 name: str) -> WavFormat:
    code, channels, rate, bits = fmt
    available = file_bytes - offset
    if size in (UNKNOWN_SIZE, 0) and available > 0:
        size = available  # a streamed recording whose header was never finished
    elif size > available:
        raise AudioError(f"{name}: truncated (header promises {size} bytes of audio, "
                         f"the file holds {available})")
    block = channels * bits // 8
    size -= size % block
    if size == 0:
        raise AudioError(f"{name}: contains no audio samples")
    return WavFormat(rate, channels, bits, code == FORMAT_FLOAT, offset, size)


def decode_pcm(data: bytes, fmt: WavFormat) -> FloatArray:
    """Interleaved PCM bytes (whole frames) to floats in [-1, 1], shape (frames, channels)."""
    bits = fmt.bits_per_sample
    if fmt.is_float:
        x = np.frombuffer(data, dtype="<f4" if bits == 32 else "<f8").astype(np.float64)
        x = np.clip(np.nan_to_num(x), -1.0, 1.0)
    elif bits == 8:  # 8-bit WAV is unsigned
        x = (np.frombuffer(data, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif bits == 16:
        x = np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0
    elif bits == 24:
        b = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = np.where(v >= 1 << 23, v - (1 << 24), v).astype(np.float64) / float(1 << 23)
    else:
        x = np.frombuffer(data, dtype="<i4").astype(np.float64) / float(1 << 31)
    return x.reshape(-1, fmt.channels)


def to_int16(samples: FloatArray) -> Int16Array:
    """Floats in [-1, 1] to int16, saturating rather than wrapping."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


class Resampler:
    """Streams floats from one rate to another through a Hann-windowed sinc polyphase filter.

    Output sample k sits at input time k * in/out. It is computed once every input sample its
    filter needs has arrived, so chunking the input differently never changes the output.
    """

    ZERO_CROSSINGS = 16  # filter half-length in output-rate periods: ~-60 dB stopband
    BLOCK = 4096  # outputs computed per numpy step, bounding memory for huge chunks

    def __init__(self, in_rate_hz: int, out_rate_hz: int) -> None:
        g = math.gcd(in_rate_hz, out_rate_hz)
        self.up, self.down = out_rate_hz // g, in_rate_hz // g
        # Downsampling: cut off a little below the output's Nyquist so aliasing stays out.
        scale = min(1.0, out_rate_hz / in_rate_hz) * (0.94 if out_rate_hz < in_rate_hz else 1.0)
        self.half = math.ceil(self.ZERO_CROSSINGS / scale)
        self.offsets = np.arange(-self.half + 1, self.half + 1)
        dist = self.offsets[None, :] - (np.arange(self.up) / self.up)[:, None]  # (up, taps)
        taps = scale * np.sinc(scale * dist) * (0.5 + 0.5 * np.cos(np.pi * dist / self.half))
        self.taps = taps / taps.sum(axis=1, keepdims=True)  # exact unity gain at DC
        # The stream starts with silence before sample 0 so early outputs have full support.
        self._buf = np.zeros(self.half - 1)
        self._buf_start = -(self.half - 1)  # absolute input index of _buf[0]
        self._next = 0  # next output index
        self._seen = 0  # input samples received

    def process(self, samples: FloatArray) -> FloatArray:
        self._buf = np.concatenate([self._buf, samples])
        self._seen += len(samples)
        last = self._buf_start + len(self._buf) - 1
        # The last output whose filter window ends at or before `last`.
        k_end = ((last - self.half + 1) * self.up - 1) // self.down + 1 if last >= self.half else 0
        return self._emit(k_end)

    def flush(self) -> FloatArray:
        """The remaining outputs, with silence after the last input; then the stream is done."""
        self._buf = np.concatenate([self._buf, np.zeros(self.half)])
        k_end = -(-self._seen * self.up // self.down)  # ceil: outputs covering the input
        return self._emit(k_end)

    def _emit(self, k_end: int) -> FloatArray:
        outs: list[FloatArray] = []
        while self._next < k_end:
            ks = np.arange(self._next, min(k_end, self._next + self.BLOCK))
            pos = ks * self.down
            base, phase = pos // self.up, pos % self.up
            idx = base[:, None] + self.offsets[None, :] - self._buf_start
            outs.append(np.einsum("ij,ij->i", self._buf[idx], self.taps[phase]))
            self._next = int(ks[-1]) + 1
        keep_from = (self._next * self.down) // self.up - self.half + 1 - self._buf_start
        if keep_from > 0:
            self._buf = self._buf[keep_from:]
            self._buf_start += keep_from
        return np.concatenate(outs) if outs else np.zeros(0)
