"""Probe: the acoustic model's means moved towards the room's noise (parallel model combination).

The recognizer hears commands in pink noise at 10 dB right about a third of the time: its
acoustic model was trained on cleaner speech. Instead of cleaning the audio (the frontend's
suppressor does that), this moves the model towards the noise: each Gaussian's mean is taken
to the log-mel domain, the noise heard before the speech is added to it there, and the sum
comes back as a cepstrum (the static stream); the delta streams are scaled by each channel's
share of speech, averaged per codebook. `--var` does the same for the variances. `--gate-db`
leaves the model alone when the noise is not steady (babble: other people talking), judged by
how much its log-mel energy varies from frame to frame.

Each clip gets a decoder built with its own means; `--off` builds the same decoders with the
means as shipped, so the two runs differ only in the means. The cepstral mean is carried
from clip to clip as one service would. Not built into the service: see docs/benchmarks.md.

    python benchmarks/noise_model_probe.py var/speech/human1 [--off] [--gate-db 4] [--var]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from voice import ActionJudge, grammar_for, recognize

from assistant.adapt import MEANS, read_params, shipped_model, write_params
from assistant.asr import Recognizer
from assistant.audio import WavSource
from assistant.config import load_config
from assistant.frontend import Frontend

# pocketsphinx's front end for the wheel's model (its feat.params and the library's defaults)
RATE, FFT, WINDOW, SHIFT, FILTERS, CEPSTRA, LIFTER = 16000, 512, 410, 160, 25, 13, 22
LOWER_HZ, UPPER_HZ = 130.0, 6800.0
NOISE_FRAMES = 40  # the clips' first 0.4 s: noise only (make_speech.py pads with 0.5 s)
FLOOR = 0.1  # spectral subtraction keeps at least this share of a frame's power


def _mel(hz: float) -> float:
    return 2595.0 * float(np.log10(1.0 + hz / 700.0))


def _hz(mel: float) -> float:
    return 700.0 * (10 ** (mel / 2595.0) - 1.0)


def _filterbank() -> np.ndarray:
    """Triangular filters of unit area, edges rounded to FFT bins, as pocketsphinx builds them."""
    bank = np.zeros((FILTERS, FFT // 2 + 1))
    lo = _mel(LOWER_HZ)
    width = (_mel(UPPER_HZ) - lo) / (FILTERS + 1)
    step = RATE / FFT
    for i in range(FILTERS):
        left, mid, right = (int(_hz(lo + (i + j) * width) / step + 0.5) * step for j in range(3))
        for k in range(FFT // 2):
            hz = k * step
            if left <= hz <= right:
                area = 2 / (right - left)
                bank[i, k] = min((hz - left) / (mid - left), (right - hz) / (right - mid)) * area
    return bank


BANK = _filterbank()
# The unitary DCT-II's first 13 rows: cepstrum = DCT @ log-mel; its transpose goes back.
DCT = np.array([np.cos(np.pi / FILTERS * i * (np.arange(FILTERS) + 0.5))
                * np.sqrt((1 if i == 0 else 2) / FILTERS) for i in range(CEPSTRA)])
LIFT = 1 + LIFTER / 2 * np.sin(np.arange(CEPSTRA) * np.pi / LIFTER)
HAMMING = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(WINDOW) / (WINDOW - 1))


def mel_power(samples: np.ndarray) -> np.ndarray:
    """Mel filterbank power per 10 ms frame, [frames, 25]."""
    x = samples.astype(np.float64)
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    n = 1 + max(0, (len(x) - WINDOW) // SHIFT)
    frames = x[np.arange(WINDOW)[None, :] + SHIFT * np.arange(n)[:, None]]
    spectrum = np.abs(np.fft.rfft(frames * HAMMING, FFT)) ** 2
    return np.asarray(np.maximum(spectrum @ BANK.T, 1e-4))


def noise_varies_db(power: np.ndarray) -> float:
    """How much the noise's energy varies from frame to frame (mean per-channel std, dB)."""
    return float((10 * np.log10(power[:NOISE_FRAMES])).std(axis=0).mean())


def compensate(means: np.ndarray, variances: np.ndarray, power: np.ndarray,
               with_variances: bool) -> tuple[np.ndarray, np.ndarray]:
    """Means (and variances) [codebook][stream][gaussian][dim] as heard in this clip's noise."""
    noise = np.log(power[:NOISE_FRAMES].mean(axis=0))
    speech = power[NOISE_FRAMES:-20] if len(power) > NOISE_FRAMES + 40 else power
    noisy_mean = np.log(speech).mean(axis=0)  # what the decoder's normalisation takes away
    clean_mean = np.log(np.maximum(speech - np.exp(noise), FLOOR * speech)).mean(axis=0)
    out_means, out_vars = means.copy(), variances.copy()
    logmel = (means[:, 0] / LIFT) @ DCT + clean_mean  # each static mean in the log-mel domain
    out_means[:, 0] = ((np.logaddexp(logmel, noise) - noisy_mean) @ DCT.T) * LIFT
    share = 1 / (1 + np.exp(noise - logmel))  # speech's share of each channel's power
    for cb in range(means.shape[0]):
        jac = DCT @ np.diag(share[cb].mean(axis=0)) @ DCT.T
        for stream in (1, 2):
            out_means[cb, stream] = ((means[cb, stream] / LIFT) @ jac.T) * LIFT
            if with_variances:
                v = variances[cb, stream] / LIFT**2
                out_vars[cb, stream] = np.einsum("ij,gj,ij->gi", jac, v, jac) * LIFT**2
    if with_variances:
        noise_var = np.log(power[:NOISE_FRAMES]).var(axis=0)
        cov = np.einsum("ci,kgc,cj->kgij", DCT, variances[:, 0] / LIFT**2, DCT)
        cov = share[..., :, None] * cov * share[..., None, :] \
            + np.eye(FILTERS) * ((1 - share) ** 2 * noise_var)[..., None, :]
        out_vars[:, 0] = np.einsum("ci,kgij,cj->kgc", DCT, cov, DCT) * LIFT**2
    return out_means, np.maximum(out_vars, 1e-3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", type=Path, help="a folder made by make_speech.py bench")
    ap.add_argument("--off", action="store_true", help="the means as shipped (the baseline)")
    ap.add_argument("--gate-db", type=float, default=0.0,
                    help="leave the model alone when the noise varies more than this")
    ap.add_argument("--var", action="store_true", help="compensate the variances too")
    ap.add_argument("--only", default="", help="only clips whose file name starts with this")
    args = ap.parse_args(argv)

    import pocketsphinx

    cfg = load_config(Path(__file__).resolve().parent.parent / "config.yaml")
    graph = grammar_for(cfg)
    judge = ActionJudge(cfg)
    shipped = Path(shipped_model())
    means, variances = read_params(shipped / "means"), read_params(shipped / "variances")
    folder = Path(tempfile.mkdtemp(prefix="noise-model-"))
    var_file: list[str] = []  # the variances the next decoder loads, if any
    decoder = pocketsphinx.Decoder

    def with_variances(*a: object, **kw: object) -> object:
        if var_file:
            kw["var"] = var_file[0]
        return decoder(*a, **kw)

    pocketsphinx.Decoder = with_variances  # type: ignore[misc,assignment]
    clips = [m for m in json.loads((args.set / "manifest.json").read_text())
             if m["file"].startswith(args.only)]
    right, total = Counter[str](), Counter[str]()
    wrong = ood_left = gated = 0
    cmn = None
    for clip in clips:
        path = args.set / clip["file"]
        asr = cfg.asr
        var_file.clear()
        if not args.off:
            frontend = Frontend(cfg.audio)
            with WavSource(path) as source:
                samples = np.concatenate([f.samples for f in frontend.frames(source.chunks())])
            power = mel_power(samples)
            if args.gate_db and noise_varies_db(power) > args.gate_db:
                gated += 1
            else:
                m, v = compensate(means, variances, power, args.var)
                write_params(folder / MEANS, m)
                asr = replace(asr, adaptation=str(folder))
                if args.var:
                    write_params(folder / "variances", v)
                    var_file.append(str(folder / "variances"))
        rec = Recognizer(graph, asr)
        if cmn is not None:
            rec.restore_cmn(cmn)
        heard = recognize(path, rec, cfg.audio, cfg.vad)[0].text
        cmn = rec.save_cmn()
        if clip["kind"] != "command":
            total["out of domain"] += 1
            ood_left += not judge.acts(heard)
            continue
        ok = judge.same(clip["text"], heard)
        for key in (f"{clip['snr_db']:g} dB", clip["noise"]):
            total[key] += 1
            right[key] += ok
        wrong += bool(heard) and not ok and judge.acts(heard)
    for key in sorted(k for k in total if k != "out of domain"):
        print(f"right actions, {key:10s} {100 * right[key] / total[key]:5.1f} %  "
              f"({right[key]}/{total[key]})")
    print(f"commands with a wrong action   {wrong}")
    print(f"out of domain, nothing done    {ood_left}/{total['out of domain']}")
    print(f"clips left alone (noise not steady) {gated}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
