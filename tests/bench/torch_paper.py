#!/usr/bin/python3
"""Independent PyTorch implementation of the Reptile paper's Omniglot protocol.

A BENCHMARK COMPANION, not a test: tests/bench/compare-torch-paper.sh runs this next
to `build/examples/reptile-eval --preset paper-omniglot-5way` (or -20way) and
compares their `time:` lines.  It follows the reference implementation
(openai/supervised-reptile: run_omniglot.py, supervised_reptile/omniglot.py,
reptile.py, models.py, train.py, eval.py) with the paper's Omniglot commands:

  --ways 5  (paper-omniglot-5way):  train_shots 10, inner_batch 10, inner_iters 5,
            meta_batch 5, meta_step 1 -> 0, Adam lr 0.001; evaluation 5 shots,
            eval_batch 5, eval_iters 50
  --ways 20 (paper-omniglot-20way): train_shots 10, inner_batch 20, inner_iters 10,
            meta_batch 5, meta_step 1 -> 0, Adam lr 0.0005; evaluation 5 shots,
            eval_batch 10, eval_iters 50

  * data: the paper split.  All 1,623 characters of images_background and
    images_evaluation pooled (alphabets sorted by name, characters by name, as the
    reference's read_dataset over one merged folder), shuffled with Python's
    random seeded with --seed (random.seed(seed); random.shuffle, as run_omniglot.py
    and split_dataset), the first 1,200 for training, each augmented with 90, 180
    and 270-degree rotations as 3 more classes (4,800 training classes, rotated
    counter-clockwise as PIL's Image.rotate), the other 423 for testing.  Images
    are loaded as tests/bench/torch_tutorial.py loads them (Pillow -> [0,1] ->
    grayscale weights -> bilinear 28x28 with half-pixel centres, no antialiasing;
    libreptile's reptile_image_options defaults), not with the reference's
    PIL resize; a quarter turn of the 28x28 image equals resizing the turned
    original, the resize being symmetric.
  * model: 4 x [Conv2d(64, 3x3, stride 2, TF 'same' padding via F.pad) ->
    BatchNorm(eps 1e-3, TF's default) in training mode: batch statistics always,
    no moving statistics (tf.layers.batch_normalization(training=True); the
    reference never runs the moving-average updates) -> ReLU] -> flatten in NHWC
    order -> Linear(256, ways).  Glorot-uniform kernels, zero biases (TF's
    defaults).
  * loss: mean softmax cross-entropy over the batch.
  * optimizer: ONE Adam (beta1 0, beta2 0.999, eps 1e-8) with TensorFlow's
    update rule (bias correction folded into the step size, eps added to
    sqrt(v)), whose moments and step count carry across tasks and
    meta-iterations as the reference's single tf.train.AdamOptimizer does: only
    the trainable weights are reset between the tasks of a meta-batch.
  * tasks: classes and images without replacement; the reference's
    shuffle-the-list-and-take-the-first-k draws as random.sample (the same
    distribution, cheaper than shuffling 4,800 classes).  Inner loop: the
    reference's _mini_batches (reshuffle at each pass, a batch may straddle two
    passes, stop after inner_iters batches).
  * meta-update: the average of the meta_batch adapted weights,
    w <- w + (mean - w) * eps_i, eps_i = (1 - i/N) * meta_step + (i/N) *
    meta_step_final over N = --meta-iters iterations; no evaluation during
    training (libreptile's paper presets: eval_interval 0).
  * --final-eval M: M test tasks (ways x (5 + 1) images, the first image drawn
    for each class is its query: _split_train_test), 50 Adam steps of the
    reference's _mini_batches over the 5-shot support set from the carried Adam
    state, then non-transductive prediction (each query in one batch with the
    support set, batch statistics; the query's row), then weights and Adam
    state restored (the reference's _full_state).

Prints `time: load_s=.. train_s=.. total_s=.. peak_rss_mb=..` (train_s = the
meta-training loop only), `it_per_s=..` (meta-iterations per second of train_s),
`work: ...` (the inner steps and images counted during training and the FLOPs per
image they imply, counted as docs/performance.md does), and with --final-eval M
`final: episodes=M ways=W shots=5 accuracy=.. ci95=..` (mean over M tasks, 95% CI
= 1.96 * sample sd / sqrt(M)), the formats of torch_tutorial.py.

Usage: /usr/bin/python3 tests/bench/torch_paper.py [--ways 5|20] [--meta-iters N]
       [--threads N] [--final-eval M] [--seed N] [--data DIR] [--quiet]
"""

import time

_T0 = time.monotonic()  # total_s counts from here, torch import included

import argparse
import math
import os
import random
import resource
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from PIL import Image
except ImportError:  # pragma: no cover
    sys.stderr.write("torch_paper.py: Pillow missing (apt-get install -y python3-pil)\n")
    sys.exit(77)

# supervised-reptile's README commands for 5-shot 5-way and 5-shot 20-way Omniglot,
# as libreptile's presets paper-omniglot-5way and paper-omniglot-20way
# (lib/meta/options.c, docs/options.md).
PRESETS = {
    5: dict(name="paper-omniglot-5way", train_shots=10, inner_batch=10, inner_iters=5,
            meta_batch=5, meta_step=1.0, meta_step_final=0.0, lr=0.001,
            eval_shots=5, eval_batch=5, eval_iters=50),
    20: dict(name="paper-omniglot-20way", train_shots=10, inner_batch=20, inner_iters=10,
             meta_batch=5, meta_step=1.0, meta_step_final=0.0, lr=0.0005,
             eval_shots=5, eval_batch=10, eval_iters=50),
}
BETA1 = 0.0
BETA2 = 0.999
ADAM_EPS = 1e-8
BN_EPS = 1e-3
TRAIN_CHARACTERS = 1200


def log(msg):
    sys.stderr.write("torch_paper: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Data


def list_characters(root):
    """Image paths of every character of both folders, in read_dataset's order."""
    alphabets = []
    for folder in ("images_background", "images_evaluation"):
        fdir = os.path.join(root, folder)
        for alphabet in os.listdir(fdir):
            adir = os.path.join(fdir, alphabet)
            if os.path.isdir(adir):
                alphabets.append((alphabet, folder, adir))
    alphabets.sort()  # one merged folder: alphabets by name
    chars = []
    for _, _, adir in alphabets:
        for ch in sorted(os.listdir(adir)):
            cdir = os.path.join(adir, ch)
            if not ch.startswith("character") or not os.path.isdir(cdir):
                continue
            files = sorted(f for f in os.listdir(cdir) if f.endswith(".png"))
            if files:
                chars.append([os.path.join(cdir, f) for f in files])
    return chars


_WR, _WG, _WB = np.float32(0.2989), np.float32(0.5870), np.float32(0.1140)


def load_character(paths):
    """[n, 1, 28, 28] float32: torch_tutorial.py's decoding and resize."""
    raw = []
    for p in paths:
        with Image.open(p) as im:
            # 1-bit PNG -> 8-bit gives R == G == B in {0, 255}: one channel suffices.
            raw.append(np.asarray(im.convert("L"), dtype=np.uint8))
    v = np.stack(raw).astype(np.float32) / np.float32(255.0)
    gray = (v * _WR + v * _WG) + v * _WB  # rgb_to_grayscale with R == G == B
    t = torch.from_numpy(gray).unsqueeze(1)
    t = F.interpolate(t, size=(28, 28), mode="bilinear", align_corners=False, antialias=False)
    return t.contiguous()


class Classes:
    """A split's images in one [n, C, H, W] tensor (one allocation: no heap
    fragmentation from thousands of small tensors); class c is rows
    start[c] .. start[c] + count[c] - 1."""

    def __init__(self, counts, shape=(1, 28, 28)):
        self.count = list(counts)
        self.start = [0] * len(self.count)
        for c in range(1, len(self.count)):
            self.start[c] = self.start[c - 1] + self.count[c - 1]
        self.images = torch.empty(sum(self.count), *shape)

    def __len__(self):
        return len(self.count)

    def put(self, c, images):
        self.images[self.start[c]:self.start[c] + self.count[c]].copy_(images)


def load_paper_split(root, rng):
    """(train, test) Classes: 4 x 1,200 rotated training classes, 423 test classes."""
    chars = list_characters(root)
    if len(chars) <= TRAIN_CHARACTERS:
        raise SystemExit("torch_paper.py: the paper split needs more than %d characters under "
                         "%s, found %d" % (TRAIN_CHARACTERS, root, len(chars)))
    rng.shuffle(chars)  # split_dataset
    train = Classes(len(paths) for paths in chars[:TRAIN_CHARACTERS] for _ in range(4))
    test = Classes(len(paths) for paths in chars[TRAIN_CHARACTERS:])
    for i, paths in enumerate(chars):
        images = load_character(paths)
        if i < TRAIN_CHARACTERS:
            # augment_dataset: rotations 0, 90, 180, 270 as consecutive classes;
            # torch.rot90 over (H, W) turns counter-clockwise, as PIL's rotate.
            for k in range(4):
                train.put(4 * i + k, images if k == 0 else torch.rot90(images, k, (2, 3)))
        else:
            test.put(i - TRAIN_CHARACTERS, images)
    return train, test


def sample_task(classes, ways, shots, rng):
    """_sample_mini_dataset: `ways` distinct classes, `shots` distinct images each,
    class-major; labels are the classes' positions in the draw."""
    rows = []
    for c in rng.sample(range(len(classes)), ways):
        start = classes.start[c]
        rows.extend(start + j for j in rng.sample(range(classes.count[c]), shots))
    labels = torch.arange(ways).repeat_interleave(shots)
    return classes.images[torch.tensor(rows)], labels


def mini_batches(n_samples, batch_size, num_batches, rng):
    """The reference's _mini_batches without replacement, over sample indices."""
    samples = list(range(n_samples))
    cur, count = [], 0
    while True:
        rng.shuffle(samples)
        for s in samples:
            cur.append(s)
            if len(cur) < batch_size:
                continue
            yield torch.tensor(cur)
            cur = []
            count += 1
            if count == num_batches:
                return


# ---------------------------------------------------------------------------
# Model and optimizer


def same_pad(size, k=3, s=2):
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return out, (total // 2, total - total // 2)


class PaperNet(nn.Module):
    """models.OmniglotModel: BatchNorm on batch statistics, always."""

    def __init__(self, ways):
        super().__init__()
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        self.pads = []
        size, cin = 28, 1
        self.mac_per_image = []  # multiply-adds per image, per layer (FLOP accounting)
        for _ in range(4):
            conv = nn.Conv2d(cin, 64, 3, stride=2, padding=0)
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)
            self.convs.append(conv)
            self.bns.append(nn.BatchNorm2d(64, eps=BN_EPS, affine=True,
                                           track_running_stats=False))
            size, (lo, hi) = same_pad(size)
            self.pads.append((lo, hi, lo, hi))
            self.mac_per_image.append(size * size * 64 * 9 * cin)
            cin = 64
        assert size == 2, size  # 28 -> 14 -> 7 -> 4 -> 2
        self.fc = nn.Linear(2 * 2 * 64, ways)
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
        self.mac_per_image.append(2 * 2 * 64 * ways)

    def forward(self, x):
        for conv, bn, pad in zip(self.convs, self.bns, self.pads):
            x = F.relu(bn(conv(F.pad(x, pad))))
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # flatten NHWC, as TF
        return self.fc(x)

    def step_flop_per_image(self):
        """Forward + backward of one training step, per image: 2 x (3 x forward MACs -
        the first layer's input-gradient MACs, never computed)."""
        fwd = sum(self.mac_per_image)
        return 2 * (3 * fwd - self.mac_per_image[0])


class TFAdam:
    """tf.train.AdamOptimizer's update: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t),
    w -= lr_t m / (sqrt(v) + eps); t counts every step ever applied."""

    def __init__(self, params, lr, beta1, beta2, eps):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self, params, grads):
        self.t += 1
        lr_t = self.lr * math.sqrt(1.0 - self.beta2 ** self.t) / (1.0 - self.beta1 ** self.t)
        torch._foreach_mul_(self.m, self.beta1)
        torch._foreach_add_(self.m, grads, alpha=1.0 - self.beta1)
        torch._foreach_mul_(self.v, self.beta2)
        torch._foreach_addcmul_(self.v, grads, grads, value=1.0 - self.beta2)
        denom = torch._foreach_sqrt(self.v)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(params, self.m, denom, value=-lr_t)

    def state(self):
        return ([m.clone() for m in self.m], [v.clone() for v in self.v], self.t)

    @torch.no_grad()
    def load(self, state):
        ms, vs, t = state
        for m, s in zip(self.m, ms):
            m.copy_(s)
        for v, s in zip(self.v, vs):
            v.copy_(s)
        self.t = t


class Reptile:
    def __init__(self, model, preset, rng):
        self.model = model
        self.p = preset
        self.rng = rng
        self.params = list(model.parameters())
        self.opt = TFAdam(self.params, preset["lr"], BETA1, BETA2, ADAM_EPS)
        self.steps = 0  # inner steps taken in training
        self.images = 0  # images through them

    def snapshot(self):
        return [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def restore(self, snap):
        for p, s in zip(self.params, snap):
            p.copy_(s)

    def adam_step(self, images, labels):
        loss = F.cross_entropy(self.model(images), labels)  # mean over the batch
        grads = torch.autograd.grad(loss, self.params)
        self.opt.step(self.params, grads)

    def train_step(self, classes, meta_step):
        """Reptile.train_step: meta_batch tasks from the same weights, each adapted
        with the carried Adam, then a step toward their mean."""
        p = self.p
        old = self.snapshot()
        acc = [torch.zeros_like(w) for w in old]
        for _ in range(p["meta_batch"]):
            images, labels = sample_task(classes, self.ways, p["train_shots"], self.rng)
            for idx in mini_batches(int(labels.shape[0]), p["inner_batch"], p["inner_iters"],
                                    self.rng):
                self.adam_step(images[idx], labels[idx])
                self.steps += 1
                self.images += int(idx.shape[0])
            with torch.no_grad():
                torch._foreach_add_(acc, self.params)
            self.restore(old)  # the weights only: Adam's state carries on
        with torch.no_grad():
            inv = 1.0 / p["meta_batch"]
            for w, o, a in zip(self.params, old, acc):
                w.copy_(o + (a * inv - o) * meta_step)

    def evaluate(self, classes):
        """Reptile.evaluate, non-transductive: the number of correct queries."""
        p = self.p
        ways, shots = self.ways, p["eval_shots"]
        images, labels = sample_task(classes, ways, shots + 1, self.rng)
        # _split_train_test: each class's first image is its query.
        first = torch.arange(ways) * (shots + 1)
        keep = torch.ones(labels.shape[0], dtype=torch.bool)
        keep[first] = False
        sx, sy = images[keep], labels[keep]
        qx, qy = images[first], labels[first]
        saved = (self.snapshot(), self.opt.state())  # _full_state
        for idx in mini_batches(int(sy.shape[0]), p["eval_batch"], p["eval_iters"], self.rng):
            self.adam_step(sx[idx], sy[idx])
        correct = 0
        with torch.no_grad():
            for q in range(ways):
                logits = self.model(torch.cat([sx, qx[q:q + 1]]))
                correct += int(int(logits[-1].argmax()) == int(qy[q]))
        self.restore(saved[0])
        self.opt.load(saved[1])
        return correct

    @property
    def ways(self):
        return self.model.fc.out_features


def train_and_report(rep, model, train, test, a, preset, load_s, t0, log, every):
    """Meta-trains a.meta_iters iterations (the meta-step annealed over them),
    scores a.final_eval test tasks, and prints the `final:`, `work:`, `it_per_s=`
    and `time:` lines (total_s from t0). Shared with torch_miniimagenet.py."""
    t = time.monotonic()
    for i in range(a.meta_iters):
        frac = i / a.meta_iters
        meta_step = frac * preset["meta_step_final"] + (1 - frac) * preset["meta_step"]
        rep.train_step(train, meta_step)
        if not a.quiet and (i + 1) % every == 0:
            log("iteration %d: %.3f it/s" % (i + 1, (i + 1) / (time.monotonic() - t)))
    train_s = time.monotonic() - t

    if a.final_eval > 0:
        if not a.quiet:
            log("evaluating %d test tasks" % a.final_eval)
        acc = np.array([rep.evaluate(test) / rep.ways for _ in range(a.final_eval)])
        mu = float(acc.mean())
        sd = float(acc.std(ddof=1)) if a.final_eval > 1 else 0.0
        print("final: episodes=%d ways=%d shots=%d accuracy=%f ci95=%f" %
              (a.final_eval, rep.ways, preset["eval_shots"], mu,
               1.96 * sd / np.sqrt(a.final_eval)))

    flop = model.step_flop_per_image()
    print("work: tasks_per_it=%d steps_per_it=%g images_per_step=%g images_per_it=%g "
          "step_mflop_per_image=%.2f gflop_per_it=%.3f" %
          (preset["meta_batch"], rep.steps / a.meta_iters, rep.images / max(rep.steps, 1),
           rep.images / a.meta_iters, flop / 1e6, rep.images / a.meta_iters * flop / 1e9))
    print("it_per_s=%.4f" % (a.meta_iters / train_s if train_s > 0 else float("inf")))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("time: load_s=%.3f train_s=%.3f total_s=%.3f peak_rss_mb=%.1f" %
          (load_s, train_s, time.monotonic() - t0, peak), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/omniglot")
    ap.add_argument("--ways", type=int, choices=sorted(PRESETS), default=5,
                    help="5: paper-omniglot-5way, 20: paper-omniglot-20way")
    ap.add_argument("--meta-iters", type=int, default=200,
                    help="meta-iterations, also the length of the meta-step schedule")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--final-eval", type=int, default=0, metavar="M",
                    help="score M test tasks after training (the reference's evaluation)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    if a.meta_iters < 1 or a.threads < 1 or a.final_eval < 0:
        ap.error("--meta-iters and --threads must be >= 1, --final-eval >= 0")
    preset = PRESETS[a.ways]

    torch.set_num_threads(a.threads)
    rng = random.Random(a.seed)  # run_omniglot.py's random.seed(args.seed): one stream
    torch.manual_seed(a.seed)

    t = time.monotonic()
    train, test = load_paper_split(a.data, rng)
    load_s = time.monotonic() - t
    if not a.quiet:
        log("paper split: %d train classes (%d characters x 4 rotations), %d test classes "
            "(%.1f s)" % (len(train), len(train) // 4, len(test), load_s))

    model = PaperNet(a.ways)
    model.train()  # batch statistics (the BatchNorm layers keep no running statistics)
    rep = Reptile(model, preset, rng)
    if not a.quiet:
        log("%s: %d trainable parameters, %d iterations, %d threads" %
            (preset["name"], sum(w.numel() for w in rep.params), a.meta_iters, a.threads))

    train_and_report(rep, model, train, test, a, preset, load_s, _T0, log, 100)


if __name__ == "__main__":
    main()
