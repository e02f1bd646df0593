"""What the golden-fixture scripts share: the fixture file format, how a
network's outputs are recorded, and TensorFlow's "same" padding.

File format: ASCII header lines "name dtype count\\n" ending with "end\\n",
then the payloads in header order, little-endian (f32 / i32 / i8).
tests/unit/model/test_golden.c reads it.
"""
import os

import numpy as np
import torch

NP_TYPES = {"f32": "<f4", "i32": "<i4", "i8": "i1"}
FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "nn")


class Records:
    """Named tensors in the order they are added."""

    def __init__(self):
        self.records = []  # (name, dtype, flat ndarray)

    def add(self, name, dtype, arr):
        self.records.append((name, dtype, np.ascontiguousarray(arr).ravel()))

    def add_outputs(self, prefix, logits, loss):
        """A network's logits, softmax probabilities and loss (torch tensors)."""
        self.add(prefix + "logits", "f32", logits.detach().numpy())
        self.add(prefix + "probs", "f32", torch.nn.functional.softmax(logits, dim=1).detach().numpy())
        self.add(prefix + "loss", "f32", [loss.item()])

    def write(self, filename):
        out = os.path.join(FIXTURE_DIR, filename)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            for name, dt, a in self.records:
                f.write(("%s %s %d\n" % (name, dt, a.size)).encode())
            f.write(b"end\n")
            for name, dt, a in self.records:
                f.write(a.astype(NP_TYPES[dt]).tobytes())
        print("wrote %s (%d bytes, %d tensors)" % (out, os.path.getsize(out), len(self.records)))


def f32(a):
    return np.asarray(a, dtype=np.float32)


def same_pad(n, k, s):
    """TensorFlow "same" padding of one axis: (before, after), the odd one after."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2
