"""Audio sources, WAV decoding, resampling and the frontend, on the committed speech fixtures."""

from __future__ import annotations

import io
import itertools
import struct
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.audio import MicSource, PcmStdinSource, PushSource, WavSource, decode_wav_bytes
from assistant.config import AudioConfig
from assistant.denoise import DELAY_SAMPLES, NoiseSuppressor
from assistant.errors import AudioError
from assistant.frontend import Frontend
from assistant.pcm import Resampler

FIXTURES = Path(__file__).parent / "fixtures" / "audio"
CMD = FIXTURES / "cmd_kitchen_off_us.wav"


def read_reference(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)


def wav_bytes(samples: np.ndarray, rate: int, bits: int, code: int = 1,
              extensible: bool = False) -> bytes:
    """A WAV file in memory; samples are floats in [-1, 1], shape (frames, channels)."""
    _, channels = samples.shape
    if code == 3:
        data = samples.astype("<f4").tobytes()
    elif bits == 8:
        data = np.round(samples * 127 + 128).astype(np.uint8).tobytes()
    elif bits == 16:
        data = np.round(samples * 32767).astype("<i2").tobytes()
    elif bits == 24:
        v = np.round(samples * (2**23 - 1)).astype("<i4").reshape(-1)
        data = np.stack([v & 255, (v >> 8) & 255, (v >> 16) & 255], axis=1).astype(
            np.uint8).tobytes()
    else:
        data = np.round(samples * (2**31 - 1)).astype("<i4").tobytes()
    block = channels * bits // 8
    if extensible:
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits, 22,
                          bits, 0) + struct.pack("<H", code) + guid_tail
    else:
        fmt = struct.pack("<HHIIHH", code, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def all_samples(source: WavSource) -> np.ndarray:
    with source:
        return np.concatenate(list(source.chunks()))


def test_native_wav_passes_through_bit_exact_in_chunks() -> None:
    source = WavSource(CMD, chunk_ms=30)
    with source:
        chunks = list(source.chunks())
    assert all(len(c) == 480 for c in chunks[:-1])
    assert np.array_equal(np.concatenate(chunks), read_reference(CMD))


@pytest.mark.parametrize(
    ("rate", "bits", "channels", "code", "extensible"),
    [(44100, 16, 2, 1, False), (48000, 24, 1, 1, True), (8000, 8, 1, 1, False),
     (22050, 32, 2, 3, False), (32000, 32, 1, 1, False), (16000, 24, 6, 1, True)],
)
def test_common_formats_are_converted_to_16k_mono(
    tmp_path: Path, rate: int, bits: int, channels: int, code: int, extensible: bool
) -> None:
    t = np.arange(rate) / rate  # one second of a 440 Hz tone in every channel
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path / "tone.wav"
    path.write_bytes(wav_bytes(np.repeat(tone[:, None], channels, axis=1), rate, bits, code,
                               extensible))
    out = all_samples(WavSource(path)).astype(np.float64) / 32768
    assert len(out) == 16000
    ref = 0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    err = out[100:-100] - ref[100:-100]
    snr_db = 10 * np.log10(np.mean(ref**2) / np.mean(err**2))
    assert snr_db > (35 if bits == 8 else 60)


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"", "empty"), (b"hello, this is text", "not a WAV"),
     (b"RIFF\x10\x00\x00\x00WAVEfmt ", "no 'fmt ' chunk")],
)
def test_unusable_files_name_the_file_and_why(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=f"bad.wav: .*{why}"):
        WavSource(path)


def test_truncated_file_is_rejected(tmp_path: Path) -> None:
    data = CMD.read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match=r"cut\.wav: truncated"):
        WavSource(path)


def test_compressed_and_sampleless_files_are_rejected(tmp_path: Path) -> None:
    mulaw = wav_bytes(np.zeros((100, 1)), 8000, 8).replace(
        struct.pack("<HH", 1, 1), struct.pack("<HH", 7, 1), 1)
    (tmp_path / "mulaw.wav").write_bytes(mulaw)
    with pytest.raises(AudioError, match=r"mulaw.wav: compressed audio \(mu-law\) is not PCM"):
        WavSource(tmp_path / "mulaw.wav")
    (tmp_path / "none.wav").write_bytes(wav_bytes(np.zeros((0, 1)), 16000, 16))
    with pytest.raises(AudioError, match=r"none\.wav: contains no audio samples"):
        WavSource(tmp_path / "none.wav")
    with pytest.raises(AudioError, match=r"missing\.wav: cannot open"):
        WavSource(tmp_path / "missing.wav")


def test_stdin_pcm_reassembles_odd_byte_reads() -> None:
    ref = read_reference(CMD)

    class Trickle(io.RawIOBase):  # a pipe that returns odd byte counts
        def __init__(self, data: bytes) -> None:
            self.data, self.pos = data, 0

        def read(self, n: int = -1) -> bytes:
            take = min(n, 333, len(self.data) - self.pos)
            out = self.data[self.pos : self.pos + take]
            self.pos += take
            return out

    source = PcmStdinSource(Trickle(ref.tobytes()))  # type: ignore[arg-type]
    assert np.array_equal(np.concatenate(list(source.chunks())), ref)


def test_pushed_wav_frames_arrive_in_order() -> None:
    ref = read_reference(CMD)
    source = PushSource("satellite")
    for i in range(0, 4800, 1600):  # Hermes satellites send small WAVs, here stereo
        piece = ref[i : i + 1600].astype(np.float64) / 32768
        source.push_wav(wav_bytes(np.stack([piece, piece], axis=1), 16000, 16))
    source.push_wav(b"garbage")  # skipped with a warning, not fatal
    source.end()
    out = np.concatenate(list(source.chunks()))
    assert np.abs(out.astype(int) - ref[:4800]).max() <= 1
    assert len(decode_wav_bytes(wav_bytes(np.zeros((441, 1)), 44100, 16))) == 160


def test_missing_microphone_lists_available_devices() -> None:
    with pytest.raises(AudioError, match="no recording device named 'no-such-mic' "
                                         r"\(available: "):
        MicSource("no-such-mic")


def frames_of(samples: np.ndarray, cuts: list[int], config: AudioConfig) -> list[np.ndarray]:
    frontend = Frontend(config)
    bounds = [0, *sorted(c % (len(samples) + 1) for c in cuts), len(samples)]
    chunks = [samples[a:b] for a, b in itertools.pairwise(bounds)]
    return [f.samples for f in frontend.frames(chunks)]


REFERENCE = read_reference(CMD)
REFERENCE_FRAMES = frames_of(REFERENCE, [], AudioConfig())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=60))
def test_frontend_output_does_not_depend_on_chunk_sizes(cuts: list[int]) -> None:
    frames = frames_of(REFERENCE, cuts, AudioConfig())
    # The noise suppressor holds back its 30 ms of delay.
    assert len(frames) == len(REFERENCE_FRAMES) == (len(REFERENCE) - DELAY_SAMPLES) // 480
    assert all(np.array_equal(a, b) for a, b in zip(frames, REFERENCE_FRAMES, strict=True))
    plain = frames_of(REFERENCE, cuts, AudioConfig(noise_suppression=False))
    assert len(plain) == len(REFERENCE) // 480


def test_frames_also_carry_the_plain_audio_for_the_wake_detector() -> None:
    frames = list(Frontend().frames([REFERENCE]))
    plain = list(Frontend(AudioConfig(noise_suppression=False)).frames([REFERENCE]))
    assert all(f.plain is not None and np.array_equal(f.plain, p.samples)
               for f, p in zip(frames, plain, strict=False))
    assert len(plain) - len(frames) == 1  # the suppressor's delay holds back a frame
    assert plain[-1].plain is None and plain[-1].plain_pcm() == plain[-1].pcm()
    assert not np.array_equal(frames[3].samples, frames[3].plain)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=2000), min_size=1, max_size=40))
def test_suppressor_output_does_not_depend_on_piece_sizes(sizes: list[int]) -> None:
    x = REFERENCE[:16000].astype(np.float64)
    whole = NoiseSuppressor().process(x)
    ns, parts, pos, i = NoiseSuppressor(), [], 0, 0
    while pos < len(x):
        parts.append(ns.process(x[pos : pos + sizes[i % len(sizes)]]))
        pos += sizes[i % len(sizes)]
        i += 1
    out = np.concatenate(parts)
    assert len(out) == len(whole) == len(x) // 160 * 160
    assert np.array_equal(out, whole)


def suppressed(x: np.ndarray) -> np.ndarray:
    """The suppressor's output lined up with its input."""
    y = NoiseSuppressor().process(np.concatenate([x, np.zeros(DELAY_SAMPLES + 160)]))
    return y[DELAY_SAMPLES : DELAY_SAMPLES + len(x)]


def test_suppressor_takes_down_steady_noise_and_keeps_speech() -> None:
    hum = read_reference(FIXTURES / "noise_hum.wav").astype(np.float64)
    rng = np.random.default_rng(3)
    hiss = rng.standard_normal(len(hum)) * 300  # -41 dBFS of white noise
    for noise in (hum, hiss):
        tail = slice(len(noise) // 2, None)  # after it has learned the noise
        assert level_dbfs(suppressed(noise)[tail]) < level_dbfs(noise[tail]) - 6
    # A command over pink noise at 20 dB SNR: the half second of noise before the words
    # loses at least 4 dB, the words keep their level within 1 dB.
    speech = REFERENCE.astype(np.float64)
    out = suppressed(speech)
    lead, words = slice(2000, 7000), slice(8000, 32000)
    assert level_dbfs(out[lead]) < level_dbfs(speech[lead]) - 4
    assert abs(level_dbfs(out[words]) - level_dbfs(speech[words])) < 1
    # Noise already as quiet as a quiet room's is left alone.
    quiet = rng.standard_normal(48000) * 30  # -61 dBFS
    assert abs(level_dbfs(suppressed(quiet)[24000:]) - level_dbfs(quiet[24000:])) < 0.5


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=30),
       st.sampled_from([44100, 48000, 8000, 22050]))
def test_resampler_output_does_not_depend_on_chunk_sizes(sizes: list[int], rate: int) -> None:
    x = np.random.default_rng(1).standard_normal(rate // 2) * 0.2
    whole = Resampler(rate, 16000)
    ref = np.concatenate([whole.process(x), whole.flush()])
    r = Resampler(rate, 16000)
    parts, pos, i = [], 0, 0
    while pos < len(x):
        parts.append(r.process(x[pos : pos + sizes[i % len(sizes)]]))
        pos += sizes[i % len(sizes)]
        i += 1
    out = np.concatenate([*parts, r.flush()])
    assert len(out) == len(ref) == -(-len(x) * 16000 // rate)
    assert np.array_equal(out, ref)


def level_dbfs(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) / 32768))


def test_frontend_removes_dc_and_lifts_a_quiet_talker() -> None:
    quiet = (REFERENCE.astype(np.float64) * 0.05 + 2000).astype(np.int16)  # -26 dB, offset
    three = np.concatenate([quiet, quiet, quiet])  # the slow AGC needs a few seconds
    out = np.concatenate(frames_of(three, [], AudioConfig()))
    last = out[-len(quiet) :]
    assert abs(float(last.mean())) < 50
    assert level_dbfs(last) - level_dbfs(quiet - 2000) > 12
    plain = np.concatenate(frames_of(three, [], AudioConfig(agc=False)))
    assert abs(level_dbfs(plain[-len(quiet) :]) - level_dbfs(quiet - 2000)) < 0.5


def test_frontend_counts_clipping_and_steady_noise_is_not_amplified() -> None:
    clipped = read_reference(FIXTURES / "cmd_loud_clipped.wav")
    frames = list(Frontend().frames([clipped]))
    assert sum(f.clipped_samples for f in frames) > 1000
    hum = read_reference(FIXTURES / "noise_hum.wav")
    out = np.concatenate([f.samples for f in Frontend().frames([hum])])
    assert level_dbfs(out) < level_dbfs(hum) + 1.0
