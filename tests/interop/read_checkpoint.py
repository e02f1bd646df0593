#!/usr/bin/env python3
"""Read a libreptile checkpoint with nothing but the standard library and
NumPy, and reproduce the model's outputs.

    read_checkpoint.py FILE                 list metadata and tensors
    read_checkpoint.py --dump-logits EXE [ARG]
                                            run EXE (tests/interop/dump_logits.c)
                                            in a temporary folder (with ARG:
                                            miniimagenet for that network),
                                            load the checkpoint it saves, run
                                            the network's forward pass in NumPy
                                            and compare with libreptile's output

The file is safetensors: an 8-byte little-endian header length N, N bytes of
JSON, then raw little-endian C-order tensor data (docs/checkpoints.md). The
forward pass follows the stored architecture: TF "same"/"valid" convolutions
in NHWC (HWIO kernels), BatchNorm in inference mode (moving statistics),
TF "same"/"valid" max-pooling (padding never wins), ReLU, NHWC flatten,
dense. It checks that the probabilities match within
1e-5 and that the logits do too, up to the per-row constant softmax
discards (logits minus their mean against log-probabilities minus theirs).
Exit status 0 on success, 1 on a mismatch, 77 (skip) without NumPy.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

try:
    import numpy as np
except ImportError:
    print("numpy is not installed: skipping (apt-get install python3-numpy)")
    sys.exit(77)

TOLERANCE = 1e-5
DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "u1"}


def read_safetensors(path):
    """Returns (metadata dict, {name: ndarray}) after checking the checksums."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]])
        tensors[name] = arr.reshape(info["shape"]).astype(arr.dtype.newbyteorder("="))
    # CRC-32 (zlib) of the data section, and of the sorted metadata entries.
    want = "crc32:%08x" % (zlib.crc32(data) & 0xFFFFFFFF)
    if meta.get("data_checksum") != want:
        raise ValueError(f"{path}: data checksum {meta.get('data_checksum')} != {want}")
    crc = 0
    for key in sorted(meta, key=lambda k: k.encode("utf-8")):
        if key != "metadata_checksum":
            crc = zlib.crc32(key.encode() + b"\0" + meta[key].encode() + b"\0", crc)
    if meta.get("metadata_checksum") != "crc32:%08x" % (crc & 0xFFFFFFFF):
        raise ValueError(f"{path}: metadata checksum mismatch")
    return meta, tensors


def tf_pad(x, kh, kw, strides, padding, value=0.0):
    """NHWC x padded as TensorFlow does for a kh x kw window (the extra
    row/column at the bottom/right), and the output size (oh, ow)."""
    sh, sw = strides
    _, h, w, _ = x.shape
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        ph = max((oh - 1) * sh + kh - h, 0)
        pw = max((ow - 1) * sw + kw - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)),
                   constant_values=value)
        return x, oh, ow
    return x, (h - kh) // sh + 1, (w - kw) // sw + 1


def conv2d(x, kernel, bias, strides, padding):
    """NHWC input, HWIO kernel, TF padding."""
    kh, kw, _, out_c = kernel.shape
    sh, sw = strides
    x, oh, ow = tf_pad(x, kh, kw, strides, padding)
    out = np.zeros((x.shape[0], oh, ow, out_c), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
            out += patch @ kernel[i, j]
    return out + bias


def maxpool2d(x, pool, strides, padding):
    """NHWC max-pooling, TF padding: padded cells are -inf, so they never win."""
    kh, kw = pool
    sh, sw = strides
    x, oh, ow = tf_pad(x, kh, kw, strides, padding, -np.inf)
    out = np.full((x.shape[0], oh, ow, x.shape[3]), -np.inf)
    for i in range(kh):
        for j in range(kw):
            out = np.maximum(out, x[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :])
    return out


def forward(meta, t, x):
    """Logits of the stored network for NHWC images x (float64)."""
    arch = json.loads(meta["architecture"])
    h, w, c = arch["input"]
    x = x.reshape(-1, h, w, c).astype(np.float64)
    for i, layer in enumerate(arch["layers"]):
        kind = layer["type"]
        p = {k.split(".")[-1]: v.astype(np.float64) for k, v in t.items()
             if k.startswith(f"layers.{i}.")}
        if kind == "conv2d":
            x = conv2d(x, p["kernel"], p["bias"], layer["strides"], layer["padding"])
        elif kind == "batchnorm":
            eps = float(np.float32(layer["epsilon"]))
            x = (x - p["moving_mean"]) / np.sqrt(p["moving_variance"] + eps) * p["gamma"] + p["beta"]
        elif kind == "maxpool2d":
            x = maxpool2d(x, layer["pool"], layer["strides"], layer["padding"])
        elif kind == "relu":
            x = np.maximum(x, 0.0)
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)  # NHWC order, as Keras
        elif kind == "dense":
            x = x @ p["kernel"] + p["bias"]
        else:
            raise ValueError(f"unknown layer type {kind}")
    return x


def check_against_libreptile(exe, args):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([exe, tmp] + args, check=True)
        meta, tensors = read_safetensors(os.path.join(tmp, "model.safetensors"))
        with open(os.path.join(tmp, "io.txt")) as f:
            batch, h, w, c, classes = (int(v) for v in f.readline().split())
            values = np.array([float(line) for line in f], dtype=np.float64)
    assert meta["format"] == "libreptile" and meta["kind"] == "model", meta
    # Version 2 added maxpool2d layers; files without them stay version 1.
    pooled = '"maxpool2d"' in meta["architecture"]
    assert meta["format_version"] == ("2" if pooled else "1"), meta["format_version"]
    pixels = batch * h * w * c
    x = values[:pixels].astype(np.float32).reshape(batch, h, w, c)
    probs_c = values[pixels:].reshape(batch, classes)
    # The network must really have been trained (moving statistics moved).
    moving = [v for k, v in tensors.items() if k.endswith("moving_mean")]
    assert moving and max(float(np.abs(v).max()) for v in moving) > 1e-4, "untrained statistics"

    logits = forward(meta, tensors, x)
    z = logits - logits.max(axis=1, keepdims=True)
    probs_np = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    prob_diff = float(np.abs(probs_np - probs_c).max())
    centred_np = logits - logits.mean(axis=1, keepdims=True)
    logp_c = np.log(probs_c)
    centred_c = logp_c - logp_c.mean(axis=1, keepdims=True)
    logit_diff = float(np.abs(centred_np - centred_c).max())
    print(f"{len(tensors)} tensors, library {meta['library_version']}; "
          f"logit range {float(np.abs(centred_np).max()):.3f}")
    print(f"max |probability difference| = {prob_diff:.3g}, "
          f"max |centred logit difference| = {logit_diff:.3g} (tolerance {TOLERANCE})")
    ok = prob_diff <= TOLERANCE and logit_diff <= TOLERANCE
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


def main(argv):
    if len(argv) in (3, 4) and argv[1] == "--dump-logits":
        return check_against_libreptile(argv[2], argv[3:])
    if len(argv) == 2:
        meta, tensors = read_safetensors(argv[1])
        for key, value in meta.items():
            print(f"{key}: {value}")
        for name, arr in tensors.items():
            print(f"{name}: {arr.dtype} {list(arr.shape)}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
