"""Takes a trained MicroLM and returns one int8 ONNX file with the KV-cache step signature.

    tokens  int64   (1, T)                 new tokens (a word, or a chosen token + forced ones)
    past    float32 (L, 2, 1, H, P, Dh)    keys and values of the P tokens before them
 -> logits  float32 (1, V)                 next-token scores after the last new token
    present float32 (L, 2, 1, H, P+T, Dh)  the grown cache

Weights of every MatMul are quantized to int8 (dynamic quantization). The parity check
compares torch with onnxruntime on the float graph, then the int8 graph's top choices.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from assistant.train.model import MicroLM, StepModule

log = logging.getLogger(__name__)

OPSET = 17
FORMAT_KEY = "hey_house_lm_format"  # metadata key in the ONNX file; the value is the version


@dataclass(frozen=True)
class Parity:
    float_max_abs_diff: float  # torch vs onnxruntime float32 logits
    int8_top1_agreement: float  # share of positions where int8 and torch agree on argmax


def empty_past(model: MicroLM, length: int = 0) -> torch.Tensor:
    c = model.cfg
    return torch.zeros(c.n_layer, 2, 1, c.n_head, length, c.d_model // c.n_head)


def export_float(model: MicroLM, path: Path, format_version: int) -> None:
    """The float32 step graph, with dynamic T and P."""
    step = StepModule(model).eval()
    tokens = torch.tensor([[1, 2, 3]], dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            step, (tokens, empty_past(model, 4)), str(path), dynamo=False,
            input_names=["tokens", "past"], output_names=["logits", "present"],
            dynamic_axes={"tokens": {1: "new"}, "past": {4: "past_len"},
                          "present": {4: "total_len"}},
            opset_version=OPSET, do_constant_folding=True)
    proto = onnx.load(str(path))
    meta = proto.metadata_props.add()
    meta.key, meta.value = FORMAT_KEY, str(format_version)
    onnx.save(proto, str(path))


def quantize(float_path: Path, out_path: Path) -> None:
    quantize_dynamic(str(float_path), str(out_path), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Gemm"])
    # quantize_dynamic drops custom metadata: copy it back
    src, dst = onnx.load(str(float_path)), onnx.load(str(out_path))
    del dst.metadata_props[:]
    dst.metadata_props.extend(src.metadata_props)
    onnx.save(dst, str(out_path))


def _session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def parity(model: MicroLM, float_path: Path, int8_path: Path,
           sequences: list[list[int]]) -> Parity:
    """Feed each sequence in chunks of 1-3 tokens through torch and both ONNX graphs."""
    f_sess, q_sess = _session(float_path), _session(int8_path)
    max_diff, agree, total = 0.0, 0, 0
    for seq in sequences:
        past_t = empty_past(model)
        past_f = past_q = past_t.numpy()
        i = 0
        while i < len(seq):
            chunk = seq[i:i + 1 + (i % 3)]
            i += len(chunk)
            tok = np.array([chunk], dtype=np.int64)
            with torch.no_grad():
                logits_t, past_t = model.step(torch.from_numpy(tok), past_t)
            logits_f, past_f = f_sess.run(None, {"tokens": tok, "past": past_f})
            logits_q, past_q = q_sess.run(None, {"tokens": tok, "past": past_q})
            ref = logits_t.numpy()
            max_diff = max(max_diff, float(np.abs(ref - logits_f).max()))
            agree += int(ref.argmax() == logits_q.argmax())
            total += 1
    return Parity(max_diff, agree / max(1, total))


def export(model: MicroLM, out_path: Path, format_version: int,
           sequences: list[list[int]]) -> Parity:
    """Write the int8 model to out_path and return the parity figures."""
    with tempfile.TemporaryDirectory() as tmp:
        float_path = Path(tmp) / "float.onnx"
        export_float(model, float_path, format_version)
        quantize(float_path, out_path)
        result = parity(model, float_path, out_path, sequences)
    log.info("exported %s (%d bytes): float diff %.2e, int8 top-1 agreement %.3f",
             out_path, out_path.stat().st_size, result.float_max_abs_diff,
             result.int8_top1_agreement)
    return result
