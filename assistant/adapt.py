"""Adapting the acoustic model to a household's voices and microphone (`assistant adapt`).

The recognizer's acoustic model was trained on other people, other microphones and other
rooms. A few minutes of the household reading known sentences move it a long way towards
them: each recording is aligned with its sentence by the model itself, every frame is
shared among the Gaussians of the sound it was aligned to, and the model's means are then
moved in two steps:

1. one linear transform per feature stream for all Gaussians (MLLR), which needs little
   speech and carries every sound along, heard or not;
2. each Gaussian a further step towards the frames it explained (MAP), weighed against
   `prior_frames` frames' worth of the step-1 mean, so a Gaussian heard rarely stays put.

Only the new means are written (a 0.8 MB file in the folder given, with a summary beside
it); no audio, no transcript and no feature is stored. The recognizer uses the folder when
`asr.adaptation` names it.

The model files are read here in pocketsphinx's own formats: the Gaussian parameter files
(`means`, `variances`), the quantised mixture weights (`sendump`), and the phone list at the
head of the binary model definition (`mdef`). Only the PTM layout of the wheel's English
model (42 phone codebooks of 128 Gaussians, three 13-dimensional streams) is supported.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import AssistantError, ModelError

MEANS = "means"
SUMMARY = "adaptation.json"
BYTE_ORDER_MAGIC = 0x11223344
LOG_BASE = 1.0001  # pocketsphinx's log base; sendump weights are -log, shifted by 10 bits
WEIGHT_SHIFT = 10
VAR_FLOOR = 1e-4  # pocketsphinx's default variance floor
SILENT_PHONES = ("SIL", "+NSN+", "+SPN+")
# A minute of aligned speech: less is refused. 32 s of the test fixtures already moved the
# model enough that the wake phrase's double check turned down a clip it had passed.
MIN_FRAMES = 6000
# Measured on assistant/enrol.txt (120 recordings, 4 voices; benchmarks/voice.py asr):
# a Gaussian's own frames outweigh the transformed mean from PRIOR_FRAMES on (5, 10 and 20
# gave the same within noise), and three rounds of realigning gained 2-5 points over one.
PRIOR_FRAMES = 5.0
ITERATIONS = 3


class AdaptError(AssistantError):
    """The recordings cannot be adapted on (the message says why)."""


# --- pocketsphinx model files ---------------------------------------------------------------

def _layout(data: bytes) -> tuple[str, tuple[int, int, int, int], int]:
    """Byte order, [codebook][stream][gaussian][dim] shape and data offset of a Gaussian
    parameter file, from its first bytes."""
    off = data.index(b"endhdr\n") + len(b"endhdr\n")
    order = "<" if struct.unpack_from("<I", data, off)[0] == BYTE_ORDER_MAGIC else ">"
    if struct.unpack_from(f"{order}I", data, off)[0] != BYTE_ORDER_MAGIC:
        raise ValueError("no byte-order mark after the header")
    off += 4
    n_cb, n_streams, n_gauss = struct.unpack_from(f"{order}3i", data, off)
    off += 12
    dims = struct.unpack_from(f"{order}{n_streams}i", data, off)
    off += 4 * n_streams
    (n,) = struct.unpack_from(f"{order}i", data, off)
    if len(set(dims)) != 1 or n != n_cb * n_gauss * sum(dims):
        raise ValueError(f"streams of {dims} dimensions are not supported")
    return order, (n_cb, n_streams, n_gauss, dims[0]), off + 4


def param_shape(path: Path) -> tuple[int, int, int, int]:
    """The shape of a Gaussian parameter file, read from its header only."""
    try:
        with open(path, "rb") as f:
            return _layout(f.read(4096))[1]
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"{path}: not a readable Gaussian parameter file ({exc})") from exc


def read_params(path: Path) -> np.ndarray:
    """A Gaussian parameter file (means or variances) as [codebook][stream][gaussian][dim]."""
    try:
        data = Path(path).read_bytes()
        order, shape, off = _layout(data)
        values = np.frombuffer(data, f"{order}f4", count=int(np.prod(shape)), offset=off)
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"{path}: not a readable Gaussian parameter file ({exc})") from exc
    return values.astype(np.float64).reshape(shape)


def write_params(path: Path, values: np.ndarray) -> None:
    """Writes [codebook][stream][gaussian][dim] in the format `read_params` reads."""
    n_cb, n_streams, n_gauss, dim = values.shape
    with open(path, "wb") as f:
        f.write(b"s3\nversion 1.0\nendhdr\n")
        f.write(struct.pack("<I3i", BYTE_ORDER_MAGIC, n_cb, n_streams, n_gauss))
        f.write(struct.pack(f"<{n_streams}i", *[dim] * n_streams))
        f.write(struct.pack("<i", values.size))
        f.write(values.astype("<f4").tobytes())


def read_sendump(path: Path) -> np.ndarray:
    """The quantised weights of a `sendump`, [stream][gaussian][senone].

    A weight w is stored as -log(w) in pocketsphinx's log base, shifted down by 10 bits.
    """
    try:
        data = Path(path).read_bytes()
        off = 0

        def i32() -> int:
            nonlocal off
            (v,) = struct.unpack_from("<i", data, off)
            off += 4
            return int(v)

        # A title, a header, then strings until an empty one; some of them name the sizes.
        for _ in range(2):
            n = i32()
            off += n
        info: dict[str, str] = {}
        while (n := i32()) != 0:
            key, _, value = data[off:off + n].rstrip(b"\0").decode("latin-1").partition(" ")
            info[key] = value
            off += n
        n_streams = int(info.get("feature_count", "1"))
        if int(info.get("cluster_count", "0")) != 0:
            raise ValueError("clustered weights are not supported")
        rows, cols = i32(), i32()
        raw = np.frombuffer(data, np.uint8, count=n_streams * rows * cols, offset=off)
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"{path}: not a readable sendump ({exc})") from exc
    return raw.reshape(n_streams, rows, cols)


WEIGHT_SCALE = float((1 << WEIGHT_SHIFT) * np.log(LOG_BASE))


def read_phones(path: Path) -> list[str]:
    """The base phones of a binary model definition, in codebook order."""
    try:
        data = Path(path).read_bytes()
        if not data.startswith(b"BMDF"):
            raise ValueError("not a binary model definition")
        mark = b"END FILE FORMAT DESCRIPTION\n"
        off = data.index(mark) + len(mark)
        off += -off % 4
        n_phones = struct.unpack_from("<i", data, off)[0]
        off += 40  # ten counts; the phone names follow
        phones = []
        for _ in range(n_phones):
            end = data.index(b"\0", off)
            phones.append(data[off:end].decode("ascii"))
            off = end + 1
    except (OSError, ValueError, struct.error, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: not a readable model definition ({exc})") from exc
    return phones


def read_mfc(path: Path, dim: int = 13) -> np.ndarray:
    """A cepstra file as pocketsphinx logs them (a count, then floats; either byte order)."""
    data = Path(path).read_bytes()
    for order in (">", "<"):
        (n,) = struct.unpack_from(f"{order}i", data, 0)
        if n * 4 + 4 == len(data) and n % dim == 0:
            return np.frombuffer(data, f"{order}f4", offset=4).astype(np.float64).reshape(-1, dim)
    raise ModelError(f"{path}: not a cepstra file")


def features(cepstra: np.ndarray) -> np.ndarray:
    """The model's features from cepstra, [frame][stream][dim]: the cepstra less their mean,
    their deltas over +-2 frames and their double deltas (pocketsphinx's `1s_c_d_dd`)."""
    c = cepstra - cepstra.mean(axis=0)
    n = len(c)
    p = np.pad(c, ((3, 3), (0, 0)), mode="edge")

    def at(k: int) -> np.ndarray:
        return p[3 + k:3 + k + n]

    return np.stack([c, at(2) - at(-2), (at(3) - at(-1)) - (at(1) - at(-3))], axis=1)


@dataclass
class AcousticModel:
    """What adaptation needs of a model: its Gaussians, weights and phones."""

    folder: Path
    means: np.ndarray  # [codebook][stream][gaussian][dim]
    variances: np.ndarray
    log_weights: np.ndarray  # [stream][gaussian][senone]
    phones: list[str]  # codebook index -> base phone

    @classmethod
    def load(cls, folder: Path) -> AcousticModel:
        folder = Path(folder)
        params = (folder / "feat.params").read_text() if (folder / "feat.params").exists() else ""
        if "1s_c_d_dd" not in params or "ptm" not in params:
            raise ModelError(f"{folder}: adaptation supports a PTM model with 1s_c_d_dd "
                             "features (the pocketsphinx wheel's English model)")
        means = read_params(folder / "means")
        variances = np.maximum(read_params(folder / "variances"), VAR_FLOOR)
        log_weights = -read_sendump(folder / "sendump").astype(np.float64) * WEIGHT_SCALE
        phones = read_phones(folder / "mdef")
        if (means.shape != variances.shape or means.shape[0] != len(phones)
                or log_weights.shape[:2] != means.shape[1:3]):
            raise ModelError(f"{folder}: means, variances, weights and phones disagree in size")
        return cls(folder, means, variances, log_weights, phones)


# --- statistics and estimation ----------------------------------------------------------------

@dataclass
class Statistics:
    """Per Gaussian: how many frames it explained (occupancy), and their sum."""

    occupancy: np.ndarray  # [codebook][stream][gaussian]
    sums: np.ndarray  # [codebook][stream][gaussian][dim]
    frames: int = 0
    log_likelihood: float = 0.0  # of the aligned frames, summed

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> Statistics:
        return cls(np.zeros(shape[:3]), np.zeros(shape))

    def add(self, model: AcousticModel, means: np.ndarray, feats: np.ndarray,
            codebook: int, senone: int) -> None:
        """Shares `feats` (frames aligned to one senone) among its codebook's Gaussians."""
        var = model.variances[codebook]
        for s in range(means.shape[1]):
            x = feats[:, s]  # [frame][dim]
            ll = (-0.5 * np.sum(np.log(2 * np.pi * var[s]), axis=-1)[None]
                  - 0.5 * np.sum((x[:, None] - means[codebook, s][None]) ** 2 / var[s][None],
                                 axis=-1)
                  + model.log_weights[s, :, senone][None])
            top = ll.max(axis=1, keepdims=True)
            post = np.exp(ll - top)
            total = post.sum(axis=1, keepdims=True)
            self.log_likelihood += float(np.sum(top + np.log(total)))
            post /= total
            self.occupancy[codebook, s] += post.sum(axis=0)
            self.sums[codebook, s] += post.T @ x
        self.frames += len(feats)

    @property
    def mean_log_likelihood(self) -> float:
        return self.log_likelihood / max(1, self.frames)


def mllr(means: np.ndarray, variances: np.ndarray, stats: Statistics) -> np.ndarray:
    """The means after one global mean transform per stream (diagonal-covariance MLLR)."""
    n_cb, n_streams, n_gauss, dim = means.shape
    out = means.copy()
    for s in range(n_streams):
        ext = np.concatenate([means[:, s], np.ones((n_cb, n_gauss, 1))], axis=-1)
        w = np.zeros((dim, dim + 1))
        for i in range(dim):
            inv = 1.0 / variances[:, s, :, i]
            g = np.einsum("cg,cgj,cgk->jk", stats.occupancy[:, s] * inv, ext, ext)
            k = np.einsum("cg,cgj->j", stats.sums[:, s, :, i] * inv, ext)
            w[i] = np.linalg.solve(g + 1e-6 * np.eye(dim + 1), k)
        out[:, s] = ext @ w.T
    return out


def map_means(prior: np.ndarray, stats: Statistics, prior_frames: float) -> np.ndarray:
    """Each mean moved towards its frames, against `prior_frames` frames of the prior."""
    moved: np.ndarray = ((prior_frames * prior + stats.sums)
                         / (prior_frames + stats.occupancy[..., None]))
    return moved


# --- recordings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recording:
    wav: Path
    text: str


def find_recordings(folder: Path) -> list[Recording]:
    """The recordings of a folder: `NAME.wav` beside `NAME.txt`, or a `manifest.json` listing
    `{"file": ..., "text": ...}` (as benchmarks/make_speech.py writes)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AdaptError(f"{folder}: not a folder of recordings")
    manifest = folder / "manifest.json"
    if manifest.exists():
        try:
            entries = json.loads(manifest.read_text(encoding="utf-8"))
            found = [Recording(folder / e["file"], str(e["text"])) for e in entries
                     if str(e.get("text") or "").strip()]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise AdaptError(f"{manifest}: expected a list of {{\"file\", \"text\"}} objects "
                             f"({exc})") from exc
    else:
        found = []
        for wav in sorted(folder.glob("*.wav")):
            txt = wav.with_suffix(".txt")
            if not txt.exists():
                raise AdaptError(f"{wav}: no transcript ({txt.name} beside it, with the words "
                                 "said)")
            found.append(Recording(wav, txt.read_text(encoding="utf-8").strip()))
    if not found:
        raise AdaptError(f"{folder}: no recordings (NAME.wav with NAME.txt, or manifest.json)")
    return found


def words_of(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]+", " ", text.lower().replace("-", " ")).split()


# --- alignment --------------------------------------------------------------------------------

class Aligner:
    """Aligns recordings to their words with the model as it stands, logging the cepstra."""

    def __init__(self, model: AcousticModel, means_file: Path | None, words: Iterable[str],
                 workdir: Path, non_rhotic: bool = True) -> None:
        from pocketsphinx import Decoder

        from assistant.lexicon import pronounce

        wanted = sorted(set(words))
        prons = pronounce(wanted, non_rhotic_variants=non_rhotic)
        self.unknown = {w for w in wanted if w not in prons}
        self._mfc = workdir / "mfc"
        self._mfc.mkdir(exist_ok=True)
        dict_path = workdir / "words.dict"
        with open(dict_path, "w", encoding="utf-8") as f:
            for w in wanted:
                for i, p in enumerate(prons.get(w, [])):
                    f.write(f"{w if i == 0 else f'{w}({i + 1})'} {p}\n")
        extra = {"mean": str(means_file)} if means_file else {}
        # bestpath off: a lattice's word times can give a phone fewer frames than it has
        # states, and the state alignment fails: a third of our enrolment clips with it
        # on, 5 % with it off.
        self._decoder = Decoder(hmm=str(model.folder), dict=str(dict_path), lm=None,
                                mfclogdir=str(self._mfc), loglevel="FATAL", bestpath=False,
                                **extra)

    def align(self, pcm: bytes, words: Sequence[str]) -> tuple[np.ndarray, list[Any]] | None:
        """(features, [(phone, senone, first frame, frames)]) or None if it did not align."""
        for f in self._mfc.iterdir():
            f.unlink()
        d = self._decoder
        try:
            d.set_align_text(" ".join(words))
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            d.set_alignment()  # the word alignment just made, refined down to states
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            alignment = d.get_alignment()
        except RuntimeError:
            return None
        logged = sorted(self._mfc.iterdir())  # named by utterance number: the last is ours
        if alignment is None or not logged:
            return None
        feats = features(read_mfc(logged[-1]))
        phones = [(p.name, p.start, p.start + p.duration) for p in alignment.phones()]
        states = []
        i = 0
        for st in alignment.states():
            while i < len(phones) - 1 and not phones[i][1] <= st.start < phones[i][2]:
                i += 1
            states.append((phones[i][0], int(st.name), st.start, st.duration))
        return feats, states


# --- the whole job ---

def shipped_model() -> Path:
    """The English acoustic model in the pocketsphinx wheel."""
    from pocketsphinx import get_model_path

    return Path(get_model_path(), "en-us", "en-us")


@dataclass
class AdaptReport:
    recordings: int
    aligned: int
    frames: int
    log_likelihood_before: float  # per aligned frame
    log_likelihood_after: float
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _pcm(recording: Recording, audio: Any) -> bytes:
    """The audio the recognizer would hear: the service's own frontend."""
    from assistant.audio import WavSource
    from assistant.frontend import Frontend

    with WavSource(recording.wav) as source:
        return b"".join(f.pcm() for f in Frontend(audio).frames(source.chunks()))


def _gather(model: AcousticModel, means: np.ndarray, pcms: list[bytes],
            recordings: list[Recording], workdir: Path, non_rhotic: bool,
            skipped: list[str] | None = None) -> tuple[Statistics, int]:
    means_file = None
    if means is not model.means:
        means_file = workdir / "means.current"
        write_params(means_file, means)
    all_words = [w for r in recordings for w in words_of(r.text)]
    aligner = Aligner(model, means_file, all_words, workdir, non_rhotic)
    stats = Statistics.empty(means.shape)
    codebook = {p: i for i, p in enumerate(model.phones)}
    aligned = 0
    for rec, pcm in zip(recordings, pcms, strict=True):
        words = words_of(rec.text)
        unknown = [w for w in words if w in aligner.unknown]
        result = None if unknown or not words else aligner.align(pcm, words)
        if result is None:
            if skipped is not None:
                why = (f"no pronunciation for {', '.join(unknown)}" if unknown else
                       "no words" if not words else "did not align with its words")
                skipped.append(f"{rec.wav}: {why}")
            continue
        feats, states = result
        aligned += 1
        for phone, senone, start, n in states:
            if phone in SILENT_PHONES:
                continue  # the room, not the voice: silence keeps the model's own noise
            chunk = feats[start:start + n]
            if len(chunk):
                stats.add(model, means, chunk, codebook[phone], senone)
    return stats, aligned


def adapt(recordings: list[Recording], out: Path, audio: Any, model_folder: Path | None = None,
          prior_frames: float = PRIOR_FRAMES, iterations: int = ITERATIONS,
          non_rhotic: bool = True, min_frames: int = MIN_FRAMES,
          progress: Callable[[str], None] = lambda _: None) -> AdaptReport:
    """Estimates adapted means from the recordings into `out` (a folder); returns a report."""
    started = time.perf_counter()
    model_folder = Path(model_folder or shipped_model())
    model = AcousticModel.load(model_folder)
    pcms = []
    for rec in recordings:
        try:
            pcms.append(_pcm(rec, audio))
        except AssistantError as exc:
            raise AdaptError(str(exc)) from exc
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="adapt-") as tmp:
        work = Path(tmp)
        progress(f"aligning {len(recordings)} recordings with the model as shipped")
        stats, aligned = _gather(model, model.means, pcms, recordings, work, non_rhotic,
                                 skipped)
        if stats.frames < min_frames:
            raise AdaptError(
                f"only {stats.frames / 100:.0f} s of speech aligned with its words "
                f"({aligned} of {len(recordings)} recordings); at least {min_frames / 100:.0f} "
                "s are needed. Check that each transcript holds exactly the words said."
                + "".join(f"\n  {s}" for s in skipped[:10])
                + (f"\n  ... and {len(skipped) - 10} more" if len(skipped) > 10 else ""))
        before, speech_frames = stats.mean_log_likelihood, stats.frames
        progress(f"{aligned} aligned, {stats.frames / 100:.0f} s of speech; "
                 "one transform for all sounds")
        transformed = mllr(model.means, model.variances, stats)
        means = transformed
        for i in range(iterations):
            progress(f"aligning again ({i + 1} of {iterations}); each sound towards its frames")
            stats, _ = _gather(model, means, pcms, recordings, work, non_rhotic)
            means = map_means(transformed, stats, prior_frames)
        after_stats, _ = _gather(model, means, pcms, recordings, work, non_rhotic)
    out.mkdir(parents=True, exist_ok=True)
    write_params(out / (MEANS + ".tmp"), means)
    os.replace(out / (MEANS + ".tmp"), out / MEANS)
    report = AdaptReport(len(recordings), aligned, speech_frames, round(before, 2),
                         round(after_stats.mean_log_likelihood, 2), skipped,
                         round(time.perf_counter() - started, 1))
    summary = {"model": str(model_folder), "recordings": report.recordings,
               "aligned": report.aligned, "speech_s": round(report.frames / 100, 1),
               "prior_frames": prior_frames, "iterations": iterations,
               "log_likelihood_per_frame": {"before": report.log_likelihood_before,
                                            "after": report.log_likelihood_after},
               "written": time.strftime("%Y-%m-%d %H:%M:%S")}
    (out / SUMMARY).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return report


def adapted_files(folder: Path, model_folder: Path) -> dict[str, str]:
    """The decoder options that load an adaptation folder, checked against the model;
    raises ModelError."""
    folder = Path(folder)
    means = folder / MEANS
    if not means.is_file():
        raise ModelError(f"{folder}: no adapted means here (run `assistant adapt` first)")
    theirs = param_shape(means)
    ours = param_shape(Path(model_folder) / "means")
    if theirs != ours:
        raise ModelError(f"{means}: made for another acoustic model ({theirs} against {ours})")
    return {"mean": str(means)}


# --- recording the household ------------------------------------------------------------------

PROMPTS = Path(__file__).with_name("enrol.txt")  # 20 commands and 20 read sentences
RECORD_MARGIN_MS = 300  # of the room kept before and after each recorded sentence
RECORD_TRIES = 3


def read_prompts(path: Path = PROMPTS) -> list[str]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AdaptError(f"{path}: cannot read the sentences to say ({exc.strerror})") from exc
    prompts = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not prompts:
        raise AdaptError(f"{path}: no sentences in it (one per line)")
    return prompts


def check_speaker(speaker: str) -> None:
    """A speaker's name starts file names: letters, digits, - and _ only."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", speaker):
        raise AdaptError(f"speaker name '{speaker}': use letters, digits, - and _ only")


def record(source: Any, prompts: Sequence[str], folder: Path, speaker: str, audio: Any,
           vad: Any, say: Callable[[str], None] = print) -> list[Recording]:
    """Shows each sentence and records the next thing said from `source` (a microphone) as
    `folder/SPEAKER-NN.wav`, with the sentence in `SPEAKER-NN.txt` beside it.

    The audio saved is the source's own, untouched (adaptation runs it through the
    frontend as the service does), from a little before the speech to a little after.
    Returns what was recorded; stops early when the source ends.
    """
    import wave

    from assistant.frontend import Frontend
    from assistant.vad import Endpointer, EventKind

    check_speaker(speaker)
    folder.mkdir(parents=True, exist_ok=True)
    heard: list[np.ndarray] = []
    dropped = 0  # samples before heard[0]

    def tee() -> Any:
        for chunk in source.chunks():
            heard.append(chunk)
            yield chunk

    frames = Frontend(audio).frames(tee())
    endpointer = Endpointer(vad, audio.frame_ms)
    number = 1
    saved: list[Recording] = []
    for i, text in enumerate(prompts, 1):
        for attempt in range(RECORD_TRIES):
            say(f"[{i}/{len(prompts)}] say: {text}" if attempt == 0 else
                f"[{i}/{len(prompts)}] nothing heard; say again: {text}")
            endpointer.reset(timeout=True)
            span = None
            for frame in frames:
                kinds = {e.kind for e in endpointer.process(frame)}
                if EventKind.TIMEOUT in kinds:
                    span = (-1, -1)
                    break
                if EventKind.END in kinds:
                    span = (endpointer.command_start_ms, frame.end_ms)
                    break
            if span is None:
                return saved  # the source ended
            if span[0] < 0:
                continue
            rate = 16  # samples per ms
            everything = np.concatenate(heard) if heard else np.zeros(0, np.int16)
            first = max(0, (span[0] - RECORD_MARGIN_MS) * rate - dropped)
            last = max(first, (span[1] + RECORD_MARGIN_MS) * rate - dropped)
            clip = everything[first:last]
            while (folder / f"{speaker}-{number:02d}.wav").exists():
                number += 1
            wav = folder / f"{speaker}-{number:02d}.wav"
            with wave.open(str(wav), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(16000)
                w.writeframes(clip.astype("<i2").tobytes())
            wav.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
            saved.append(Recording(wav, text))
            # Keep only what a later sentence's margin can still reach.
            keep_from = max(0, span[1] * rate - dropped)
            heard[:] = [everything[keep_from:]]
            dropped += keep_from
            break
        else:
            say(f"[{i}/{len(prompts)}] skipped")
    return saved
