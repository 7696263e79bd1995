"""Takes a WAV file, stdin PCM, a microphone or pushed frames; yields 16 kHz mono int16 chunks.

Every source is an `AudioSource`: iterate `chunks()` to get numpy int16 arrays at
SAMPLE_RATE_HZ, mono, in the order the audio was captured. Files are read chunk by chunk,
never all at once, so a file behaves like a live stream. Unusable input raises AudioError
naming the file or device and why.
"""

from __future__ import annotations

import io
import logging
import queue
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import numpy as np

from assistant.errors import AudioError
from assistant.pcm import (
    SAMPLE_RATE_HZ,
    Int16Array,
    Resampler,
    WavFormat,
    decode_pcm,
    read_header,
    to_int16,
)

log = logging.getLogger(__name__)

DEFAULT_CHUNK_MS = 30
__all__ = ["SAMPLE_RATE_HZ", "AudioSource", "MicSource", "PcmStdinSource", "PushSource",
           "WavFrameDecoder", "WavSource", "decode_wav_bytes"]


class AudioSource:
    """A stream of 16 kHz mono int16 chunks; a context manager that releases what it holds."""

    name: str = "audio"  # shown in outcomes and errors: a path, "stdin", "mic:<device>"
    # Heard in the room as it happens (a microphone): it also hears what this board plays.
    live: bool = False

    def chunks(self) -> Iterator[Int16Array]:
        raise NotImplementedError

    def close(self) -> None:
        """Releases the file or device; safe to call twice."""

    def __enter__(self) -> AudioSource:
        return self

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Converter:
    """Mixes down and resamples decoded PCM to 16 kHz mono int16, across chunk boundaries."""

    def __init__(self, fmt: WavFormat) -> None:
        self.fmt = fmt
        self._resampler = (
            None if fmt.sample_rate_hz == SAMPLE_RATE_HZ else Resampler(fmt.sample_rate_hz,
                                                                         SAMPLE_RATE_HZ)
        )
        # 16-bit mono at the right rate passes through untouched: bit-exact and cheapest.
        self._passthrough = fmt.is_native(SAMPLE_RATE_HZ)

    def convert(self, data: bytes) -> Int16Array:
        if self._passthrough:
            return np.frombuffer(data, dtype="<i2").astype(np.int16)
        mono = decode_pcm(data, self.fmt).mean(axis=1)
        if self._resampler is not None:
            mono = self._resampler.process(mono)
        return to_int16(mono)

    def flush(self) -> Int16Array:
        if self._resampler is None:
            return np.zeros(0, dtype=np.int16)
        return to_int16(self._resampler.flush())


class WavSource(AudioSource):
    """A WAV file of any common rate, width and channel count, streamed chunk by chunk."""

    def __init__(self, path: str | Path, chunk_ms: int = DEFAULT_CHUNK_MS) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.chunk_ms = chunk_ms
        try:
            self._file: BinaryIO | None = open(self.path, "rb")  # noqa: SIM115 (closed in close)
        except OSError as e:
            raise AudioError(f"{self.name}: cannot open: {e.strerror or e}") from e
        try:
            self.format = read_header(self._file, self.name)
        except BaseException:
            self.close()
            raise

    def chunks(self) -> Iterator[Int16Array]:
        f = self._file
        if f is None:
            raise AudioError(f"{self.name}: already closed")
        fmt = self.format
        conv = _Converter(fmt)
        frames_per_chunk = max(1, fmt.sample_rate_hz * self.chunk_ms // 1000)
        remaining = fmt.data_bytes
        f.seek(fmt.data_offset)
        while remaining > 0:
            want = min(remaining, frames_per_chunk * fmt.block_align)
            data = f.read(want)
            if len(data) < want:
                raise AudioError(f"{self.name}: file ends early (truncated while reading)")
            remaining -= len(data)
            out = conv.convert(data)
            if out.size:
                yield out
        tail = conv.flush()
        if tail.size:
            yield tail

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class PcmStdinSource(AudioSource):
    """Raw signed 16-bit little-endian 16 kHz mono PCM from a byte stream (stdin by default)."""

    live = True  # what a capture program pipes in: a microphone that hears the board too

    def __init__(self, stream: BinaryIO | None = None, chunk_ms: int = DEFAULT_CHUNK_MS) -> None:
        self.stream = stream if stream is not None else sys.stdin.buffer
        self.name = "stdin"
        self.chunk_bytes = 2 * SAMPLE_RATE_HZ * chunk_ms // 1000

    def chunks(self) -> Iterator[Int16Array]:
        carry = b""
        while True:
            data = self.stream.read(self.chunk_bytes)
            if not data:
                break
            data = carry + data
            # Pipes deliver arbitrary byte counts: keep an odd byte for the next read.
            usable = len(data) - len(data) % 2
            carry = data[usable:]
            if usable:
                yield np.frombuffer(data[:usable], dtype="<i2").astype(np.int16)
        if carry:
            log.warning("stdin: dropped a trailing odd byte (input is not whole 16-bit samples)")


class PushSource(AudioSource):
    """Chunks pushed from another thread (e.g. Hermes audioFrame messages); `end()` stops it."""

    def __init__(self, name: str = "push", max_chunks: int = 1000) -> None:
        self.name = name
        self._queue: queue.Queue[Int16Array | None] = queue.Queue(maxsize=max_chunks)
        self._frames = WavFrameDecoder(name)

    def push(self, chunk: Int16Array) -> bool:
        """Adds a chunk; drops it (with a warning) rather than block a network thread."""
        try:
            self._queue.put_nowait(chunk)
            return True
        except queue.Full:
            log.warning("%s: audio consumer is behind; dropped %d samples", self.name, chunk.size)
            return False

    def push_wav(self, payload: bytes) -> bool:
        """Adds one WAV-encoded frame, as Hermes satellites send them; bad frames are skipped."""
        try:
            return self.push(self._frames.decode(payload))
        except AudioError as e:
            log.warning("%s", e)
            return False

    def end(self) -> None:
        self._queue.put(None)

    def chunks(self) -> Iterator[Int16Array]:
        while (chunk := self._queue.get()) is not None:
            yield chunk


class WavFrameDecoder:
    """A stream of small WAV files (one per satellite frame) to 16 kHz mono int16 chunks.

    Frames in one format share one converter, so a 44.1 kHz or stereo satellite is
    resampled as the continuous stream it is: no seam at every frame boundary.
    """

    def __init__(self, name: str = "wav frame") -> None:
        self.name = name
        self._converter: _Converter | None = None

    def decode(self, payload: bytes) -> Int16Array:
        """One frame's samples; AudioError (naming the stream and why) for an unusable one."""
        f = io.BytesIO(payload)
        fmt = read_header(f, self.name)
        conv = self._converter
        if conv is None or _layout(conv.fmt) != _layout(fmt):
            conv = self._converter = _Converter(fmt)
        f.seek(fmt.data_offset)
        return conv.convert(f.read(fmt.data_bytes))


def _layout(fmt: WavFormat) -> tuple[int, int, int, bool]:
    return fmt.sample_rate_hz, fmt.channels, fmt.bits_per_sample, fmt.is_float


def decode_wav_bytes(payload: bytes, name: str = "wav") -> Int16Array:
    """A whole small WAV in memory (one satellite frame) to 16 kHz mono int16."""
    f = io.BytesIO(payload)
    fmt = read_header(f, name)
    f.seek(fmt.data_offset)
    conv = _Converter(fmt)
    out = conv.convert(f.read(fmt.data_bytes))
    return np.concatenate([out, conv.flush()])


class MicSource(AudioSource):
    """A microphone through sounddevice (imported only here), chosen by name or index."""

    live = True

    def __init__(self, device: str | int | None = None, chunk_ms: int = DEFAULT_CHUNK_MS) -> None:
        sd = _import_sounddevice()
        self._sd = sd
        self.index, info = _find_input_device(sd, device)
        self.name = f"mic:{info['name']}"
        self.chunk_ms = chunk_ms
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=500)
        self._stream: Any = None
        self._rate_hz = SAMPLE_RATE_HZ
        self._open(sd)

    def _open(self, sd: Any) -> None:
        def callback(data: Any, frames: int, time: Any, status: Any) -> None:
            if status:
                log.debug("%s: %s", self.name, status)
            try:
                self._queue.put_nowait(bytes(data))
            except queue.Full:
                log.warning("%s: audio consumer is behind; dropped %d frames", self.name, frames)

        rates = [SAMPLE_RATE_HZ, int(sd.query_devices(self.index)["default_samplerate"])]
        last: Exception | None = None
        for rate in rates:  # many USB microphones offer 48 kHz only; resample those
            try:
                self._stream = sd.RawInputStream(
                    samplerate=rate, channels=1, dtype="int16", device=self.index,
                    blocksize=rate * self.chunk_ms // 1000, callback=callback,
                )
                self._stream.start()
                self._rate_hz = rate
                return
            except Exception as e:  # sounddevice raises PortAudioError, a plain Exception
                last = e
        raise AudioError(f"{self.name}: cannot open for recording: {last}")

    def chunks(self) -> Iterator[Int16Array]:
        resampler = None if self._rate_hz == SAMPLE_RATE_HZ else Resampler(self._rate_hz,
                                                                          SAMPLE_RATE_HZ)
        while self._stream is not None:
            try:
                data = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            chunk = np.frombuffer(data, dtype="<i2").astype(np.int16)
            if resampler is not None:
                chunk = to_int16(resampler.process(chunk.astype(np.float64) / 32768.0))
            if chunk.size:
                yield chunk

    def close(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.stop()
            stream.close()


def _import_sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as e:  # raised at import when libportaudio is missing
        raise AudioError(
            f"microphone: the PortAudio library is missing ({e}); "
            "install it (apt-get install libportaudio2) or use --wav / stdin input"
        ) from e
    except ImportError as e:
        raise AudioError("microphone: the sounddevice package is not installed") from e
    return sounddevice


def input_devices(sd: Any) -> list[tuple[int, dict[str, Any]]]:
    """(index, info) of every device that can record."""
    return [(i, dict(d)) for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]


def _find_input_device(sd: Any, device: str | int | None) -> tuple[int, dict[str, Any]]:
    devices = input_devices(sd)
    listing = "; ".join(f"{i}: {d['name']}" for i, d in devices) or "none found"
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device)
    if device is None:
        default = sd.default.device[0] if isinstance(sd.default.device, (list, tuple)) else -1
        for i, d in devices:
            if i == default:
                return i, d
        if devices:
            return devices[0]
        raise AudioError(f"microphone: no recording device available (devices: {listing})")
    if isinstance(device, int):
        for i, d in devices:
            if i == device:
                return i, d
        raise AudioError(f"microphone: no recording device with index {device} "
                         f"(available: {listing})")
    matches = [(i, d) for i, d in devices if device.lower() in str(d["name"]).lower()]
    if not matches:
        raise AudioError(f"microphone: no recording device named '{device}' "
                         f"(available: {listing})")
    return matches[0]
