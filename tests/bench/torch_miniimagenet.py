#!/usr/bin/python3
"""Independent PyTorch implementation of the Reptile paper's Mini-ImageNet protocol.

A BENCHMARK COMPANION, not a test: tests/bench/compare-torch-miniimagenet.sh runs
this next to `build/examples/reptile-eval --preset paper-miniimagenet-5way` on the
same folder (the generated colour set of tests/colour_set.h, or a real
Mini-ImageNet laid out as docs/data.md says) and compares their `time:` lines.
It follows the reference implementation (openai/supervised-reptile:
run_miniimagenet.py, models.MiniImageNetModel, reptile.py) with the paper's
5-shot 5-way Mini-ImageNet command: train_shots 15, inner_batch 10, inner_iters 8,
meta_batch 5, meta_step 1 -> 0, Adam lr 0.001 with beta1 0 carried across tasks;
evaluation 5 shots, eval_batch 15, eval_iters 50.

  * data: DIR/train and DIR/test, folders of class folders of PNG or JPEG files,
    each image decoded with Pillow to RGB in [0, 1] and resized to 84x84
    bilinearly with half-pixel centres and no antialiasing (libreptile's
    reptile_image_options filter; the reference's files are pre-resized).
  * model: 4 x [Conv2d(32, 3x3, stride 1, 'same') -> BatchNorm(eps 1e-3) on
    batch statistics -> max-pool 2x2 stride 2, TF 'same' (the odd row/column
    padded with -inf at the bottom/right) -> ReLU] -> flatten in NHWC order ->
    Linear(1152, 5); Glorot-uniform kernels, zero biases.
  * the rest (one carried TF-style Adam, the reference's _mini_batches, the
    meta-update and the non-transductive evaluation) is torch_paper.py's, imported.

Prints the lines torch_paper.py prints (`time:`, `it_per_s=`, `work:`, and
`final:` with --final-eval M).

Usage: /usr/bin/python3 tests/bench/torch_miniimagenet.py --data DIR [--meta-iters N]
       [--threads N] [--final-eval M] [--seed N] [--quiet]
"""

import time

_T0 = time.monotonic()  # total_s counts from here, torch import included

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch_paper import BN_EPS, Classes, Reptile, same_pad, train_and_report  # noqa: E402

try:
    from PIL import Image
except ImportError:  # pragma: no cover
    sys.stderr.write("torch_miniimagenet.py: Pillow missing (apt-get install -y python3-pil)\n")
    sys.exit(77)

PRESET = dict(name="paper-miniimagenet-5way", train_shots=15, inner_batch=10, inner_iters=8,
              meta_batch=5, meta_step=1.0, meta_step_final=0.0, lr=0.001,
              eval_shots=5, eval_batch=15, eval_iters=50)
SIDE = 84
IMAGE_EXT = (".png", ".jpg", ".jpeg")


def log(msg):
    sys.stderr.write("torch_miniimagenet: %s\n" % msg)
    sys.stderr.flush()


def load_image(path):
    with Image.open(path) as im:
        v = np.asarray(im.convert("RGB"), dtype=np.float32) / np.float32(255.0)
    t = torch.from_numpy(v).permute(2, 0, 1).unsqueeze(0)
    return F.interpolate(t, size=(SIDE, SIDE), mode="bilinear", align_corners=False,
                         antialias=False)[0]


def load_folder(root):
    """Classes of root/CLASS/IMAGE, class and file names in byte order."""
    classes = []
    for name in sorted(os.listdir(root)):
        cdir = os.path.join(root, name)
        if name.startswith(".") or not os.path.isdir(cdir):
            continue
        files = sorted(f for f in os.listdir(cdir)
                       if not f.startswith(".") and f.lower().endswith(IMAGE_EXT))
        if files:
            classes.append([os.path.join(cdir, f) for f in files])
    out = Classes((len(paths) for paths in classes), shape=(3, SIDE, SIDE))
    for c, paths in enumerate(classes):
        out.put(c, torch.stack([load_image(p) for p in paths]))
    return out


class MiniImageNetNet(nn.Module):
    """models.MiniImageNetModel: BatchNorm on batch statistics, always."""

    def __init__(self, ways):
        super().__init__()
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        self.pool_pads = []
        size, cin = SIDE, 3
        self.mac_per_image = []
        for _ in range(4):
            conv = nn.Conv2d(cin, 32, 3, stride=1, padding=1)  # 'same' for 3x3 stride 1
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)
            self.convs.append(conv)
            self.bns.append(nn.BatchNorm2d(32, eps=BN_EPS, affine=True,
                                           track_running_stats=False))
            self.mac_per_image.append(size * size * 32 * 9 * cin)
            size, (lo, hi) = same_pad(size, k=2, s=2)
            assert lo == 0  # TF: the odd padding goes to the bottom/right
            self.pool_pads.append((0, hi, 0, hi))
            cin = 32
        assert size == 6, size  # 84 -> 42 -> 21 -> 11 -> 6
        self.fc = nn.Linear(6 * 6 * 32, ways)
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
        self.mac_per_image.append(6 * 6 * 32 * ways)

    def forward(self, x):
        for conv, bn, pad in zip(self.convs, self.bns, self.pool_pads):
            x = bn(conv(x))
            if pad[1]:
                x = F.pad(x, pad, value=float("-inf"))
            x = F.relu(F.max_pool2d(x, 2, 2))
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # flatten NHWC, as TF
        return self.fc(x)

    def step_flop_per_image(self):
        """Forward + backward of one step, per image (pooling and BatchNorm not counted)."""
        fwd = sum(self.mac_per_image)
        return 2 * (3 * fwd - self.mac_per_image[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="folder with train/ and test/")
    ap.add_argument("--meta-iters", type=int, default=20,
                    help="meta-iterations, also the length of the meta-step schedule")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--final-eval", type=int, default=0, metavar="M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    if a.meta_iters < 1 or a.threads < 1 or a.final_eval < 0:
        ap.error("--meta-iters and --threads must be >= 1, --final-eval >= 0")

    torch.set_num_threads(a.threads)
    rng = random.Random(a.seed)
    torch.manual_seed(a.seed)

    t = time.monotonic()
    train = load_folder(os.path.join(a.data, "train"))
    test = load_folder(os.path.join(a.data, "test"))
    load_s = time.monotonic() - t
    if not a.quiet:
        log("%d train classes, %d test classes (%.1f s)" % (len(train), len(test), load_s))

    model = MiniImageNetNet(5)
    model.train()
    rep = Reptile(model, PRESET, rng)
    if not a.quiet:
        log("%s: %d trainable parameters, %d iterations, %d threads" %
            (PRESET["name"], sum(w.numel() for w in rep.params), a.meta_iters, a.threads))

    train_and_report(rep, model, train, test, a, PRESET, load_s, _T0, log, 10)


if __name__ == "__main__":
    main()
