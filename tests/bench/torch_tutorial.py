#!/usr/bin/python3
"""Independent PyTorch port of the Keras "Few-Shot learning with Reptile" tutorial.

A BENCHMARK COMPANION, not a test: tests/bench/compare-torch.sh runs this next to
build/examples/reptile-omniglot and compares their `time:` lines.  It reproduces the
tutorial *as coded* (docs: /work/shared/reference/keras-reptile-tutorial.md), quirks
included:

  * data: both TFDS-equivalent splits (images_background = train,
    images_evaluation = test), grouped by character (ALPHABET/characterNN);
    RGB -> float32 [0,1] -> gray 0.2989 R + 0.5870 G + 0.1140 B -> bilinear resize
    28x28 with half-pixel centres and no antialiasing (tf.image.resize ==
    F.interpolate(bilinear, align_corners=False, antialias=False)).  No inversion.
    PNG decoding: Pillow (python3-pil).  The PNGs are 1-bit, so R == G == B and the
    grayscale sum is computed from one channel with the three weights added in the
    same float32 order (r*0.2989 + g*0.5870) + b*0.1140 -- same numbers, 3x less
    memory than materialising RGB.
  * model: 4 x [Conv2d(64, 3x3, stride 2, TF 'same' padding via F.pad) ->
    BatchNorm(eps 1e-3) in inference mode on its never-updated moving stats (mean 0,
    var 1: a learned per-channel scale and shift; gradients still flow to gamma and
    beta) -> ReLU] -> flatten in NHWC order (as Keras) -> Linear(256, classes) ->
    softmax.  Keras init: Glorot-uniform kernels, zero biases.
  * loss: sparse categorical cross-entropy on softmax probabilities clipped to
    [1e-7, 1 - 1e-7], SUMMED over the batch (Keras differentiates the per-sample
    vector, i.e. its sum); plain SGD lr 0.003.
  * Reptile: meta step 0.25 annealed linearly to 0 over meta_iters;
    weights = old + (new - old) * eps.
  * tasks: classes and images drawn WITH replacement (random.choices); training task
    5-way 20-shot, shuffled (tf.data shuffle(100) reshuffles every repetition),
    batches of 25, 4 repetitions -> 16 SGD steps.
  * every meta-iteration: one train-split and one test-split evaluation task
    (5-way 5-shot + 1 query per class; 5 SGD steps of batch 25 from the current
    weights; predict the 5 queries; restore weights).  Accuracy uses the per-image
    argmax by default; --keras-argmax scores as the tutorial's code does (argmax over
    the query axis, tf.argmax(preds) with the default axis 0).

Prints `time: load_s=.. train_s=.. total_s=.. peak_rss_mb=..` (train_s = the
meta-training loop including its per-iteration evaluations, as the C program) and,
with --final-eval N, `final: episodes=N ways=5 shots=5 accuracy=.. ci95=..` (mean over
N test tasks, 95% CI = 1.96 * sample sd / sqrt(N)), the same formats as
reptile-omniglot.

Usage: /usr/bin/python3 tests/bench/torch_tutorial.py [--meta-iters N] [--threads N]
       [--final-eval N] [--seed N] [--data DIR] [--log-interval N] [--quiet]
"""

import time

_T0 = time.monotonic()  # total_s counts from here, torch import included

import argparse
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
    sys.stderr.write("torch_tutorial.py: Pillow missing (apt-get install -y python3-pil)\n")
    sys.exit(77)

# Tutorial hyperparameters.
LEARNING_RATE = 0.003
META_STEP_SIZE = 0.25
INNER_BATCH_SIZE = 25
EVAL_BATCH_SIZE = 25
INNER_ITERS = 4
EVAL_ITERS = 5
EVAL_INTERVAL = 1
TRAIN_SHOTS = 20
SHOTS = 5
CLASSES = 5


def log(msg):
    sys.stderr.write("torch_tutorial: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Data


def load_split(root):
    """Return a list of float32 tensors [n_images, 28, 28, 1], one per character."""
    chars = []  # list of list of paths
    for alphabet in sorted(os.listdir(root)):
        adir = os.path.join(root, alphabet)
        if not os.path.isdir(adir):
            continue
        for ch in sorted(os.listdir(adir)):
            cdir = os.path.join(adir, ch)
            if not os.path.isdir(cdir):
                continue
            files = sorted(f for f in os.listdir(cdir) if f.endswith(".png"))
            if files:
                chars.append([os.path.join(cdir, f) for f in files])
    if not chars:
        raise SystemExit("torch_tutorial.py: no characters under %s" % root)
    wr = np.float32(0.2989)
    wg = np.float32(0.5870)
    wb = np.float32(0.1140)
    out = []
    for paths in chars:
        raw = []
        for p in paths:
            with Image.open(p) as im:
                # 1-bit PNG -> 8-bit RGB gives R == G == B in {0, 255}; take one channel.
                raw.append(np.asarray(im.convert("L"), dtype=np.uint8))
        v = np.stack(raw).astype(np.float32) / np.float32(255.0)  # convert_image_dtype
        gray = (v * wr + v * wg) + v * wb  # rgb_to_grayscale with R == G == B
        t = torch.from_numpy(gray).unsqueeze(1)  # N,1,105,105
        t = F.interpolate(t, size=(28, 28), mode="bilinear", align_corners=False,
                          antialias=False)
        out.append(t.contiguous())  # N,1,28,28 (NCHW for torch)
    return out


class Split:
    def __init__(self, data):
        self.data = data  # list of [n,1,28,28] tensors
        self.labels = list(range(len(data)))
        self.num_images = sum(int(d.shape[0]) for d in data)

    def get_mini_dataset(self, batch_size, repetitions, shots, num_classes, split=False):
        """The tutorial's Dataset.get_mini_dataset, tf.data pipeline included."""
        label_subset = random.choices(self.labels, k=num_classes)
        imgs, labs, qimgs = [], [], []
        for class_idx, cls in enumerate(label_subset):
            n = int(self.data[cls].shape[0])
            if split:
                idx = random.choices(range(n), k=shots + 1)
                qimgs.append(self.data[cls][idx[-1]])
                idx = idx[:-1]
            else:
                idx = random.choices(range(n), k=shots)
            imgs.append(self.data[cls][idx])
            labs.extend([class_idx] * shots)
        images = torch.cat(imgs)
        labels = torch.tensor(labs, dtype=torch.int64)
        # shuffle(100).batch(batch_size).repeat(repetitions): the shuffle buffer (100)
        # covers the whole set (<= 100 images), reshuffled at every repetition.
        batches = []
        total = images.shape[0]
        for _ in range(repetitions):
            perm = list(range(total))
            random.shuffle(perm)
            perm = torch.tensor(perm)
            for s in range(0, total, batch_size):
                sel = perm[s:s + batch_size]
                batches.append((images[sel], labels[sel]))
        if split:
            return batches, torch.stack(qimgs), torch.arange(num_classes)
        return batches


# ---------------------------------------------------------------------------
# Model


def same_pad(size, k=3, s=2):
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return out, (total // 2, total - total // 2)


class TutorialNet(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        self.pads = []
        size, cin = 28, 1
        for _ in range(4):
            conv = nn.Conv2d(cin, 64, 3, stride=2, padding=0)
            nn.init.xavier_uniform_(conv.weight)  # fans = 9*cin / 9*64, as Keras
            nn.init.zeros_(conv.bias)
            self.convs.append(conv)
            self.bns.append(nn.BatchNorm2d(64, eps=1e-3, momentum=0.01))
            size, (lo, hi) = same_pad(size)
            self.pads.append((lo, hi, lo, hi))  # (left, right, top, bottom)
            cin = 64
        assert size == 2, size  # 28 -> 14 -> 7 -> 4 -> 2
        self.fc = nn.Linear(2 * 2 * 64, classes)
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        for conv, bn, pad in zip(self.convs, self.bns, self.pads):
            x = F.relu(bn(conv(F.pad(x, pad))))
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # Keras Flatten of NHWC
        return self.fc(x)  # logits; softmax applied in the loss / prediction


def keras_sparse_ce_sum(logits, labels):
    probs = torch.softmax(logits, dim=1)
    probs = probs.clamp(1e-7, 1.0 - 1e-7)
    return -torch.log(probs.gather(1, labels.unsqueeze(1))).sum()


class Trainer:
    def __init__(self, model):
        self.model = model
        self.params = [p for p in model.parameters()]

    def snapshot(self):
        return [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def restore(self, snap):
        for p, s in zip(self.params, snap):
            p.copy_(s)

    def sgd_step(self, images, labels):
        for p in self.params:
            p.grad = None
        loss = keras_sparse_ce_sum(self.model(images), labels)
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p.add_(p.grad, alpha=-LEARNING_RATE)

    @torch.no_grad()
    def reptile(self, old, eps):
        for p, o in zip(self.params, old):
            p.copy_(o + (p - o) * eps)

    def eval_task(self, split, keras_argmax=False):
        batches, qimgs, qlabels = split.get_mini_dataset(
            EVAL_BATCH_SIZE, EVAL_ITERS, SHOTS, CLASSES, split=True)
        keep = self.snapshot()
        for images, labels in batches:
            self.sgd_step(images, labels)
        with torch.no_grad():
            preds = torch.softmax(self.model(qimgs), dim=1)
        if keras_argmax:
            guess = preds.argmax(dim=0)  # tf.argmax default axis 0: the tutorial's quirk
        else:
            guess = preds.argmax(dim=1)
        correct = int((guess == qlabels).sum())
        self.restore(keep)
        return correct / CLASSES


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/omniglot")
    ap.add_argument("--meta-iters", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--final-eval", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keras-argmax", action="store_true",
                    help="score per-iteration evaluations with tf.argmax over the query axis")
    ap.add_argument("--log-interval", type=int, default=50,
                    help="print running mean accuracies every N iterations (0 = never)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()

    t_start = _T0
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    torch.manual_seed(a.seed)

    t = time.monotonic()
    train = Split(load_split(os.path.join(a.data, "images_background")))
    test = Split(load_split(os.path.join(a.data, "images_evaluation")))
    load_s = time.monotonic() - t
    if not a.quiet:
        log("loaded %d train and %d test characters (%d + %d images) in %.1f s" %
            (len(train.data), len(test.data), train.num_images, test.num_images, load_s))

    model = TutorialNet(CLASSES)
    model.eval()  # BatchNorm in inference mode (moving mean 0, var 1), as model(x) in Keras 3
    tr = Trainer(model)
    if not a.quiet:
        log("%d trainable parameters, %d-way, %d iterations, %d threads" %
            (sum(p.numel() for p in tr.params), CLASSES, a.meta_iters, a.threads))

    train_acc, test_acc = [], []
    t = time.monotonic()
    for meta_iter in range(a.meta_iters):
        frac_done = meta_iter / a.meta_iters
        cur_meta_step_size = (1 - frac_done) * META_STEP_SIZE
        old = tr.snapshot()
        for images, labels in train.get_mini_dataset(INNER_BATCH_SIZE, INNER_ITERS,
                                                     TRAIN_SHOTS, CLASSES):
            tr.sgd_step(images, labels)
        tr.reptile(old, cur_meta_step_size)
        if meta_iter % EVAL_INTERVAL == 0:
            accs = [tr.eval_task(s, a.keras_argmax) for s in (train, test)]
            train_acc.append(accs[0])
            test_acc.append(accs[1])
            if meta_iter % 100 == 0 and not a.quiet:
                print("batch %d: train=%f test=%f" % (meta_iter, accs[0], accs[1]), flush=True)
        n = meta_iter + 1
        if a.log_interval > 0 and n % a.log_interval == 0 and train_acc:
            w = a.log_interval
            print("iter %d: mean over last %d train=%.3f test=%.3f; all so far train=%.3f "
                  "test=%.3f; %.2f it/s" %
                  (n, min(w, len(train_acc)), float(np.mean(train_acc[-w:])),
                   float(np.mean(test_acc[-w:])), float(np.mean(train_acc)),
                   float(np.mean(test_acc)), n / (time.monotonic() - t)), flush=True)
    train_s = time.monotonic() - t

    if a.final_eval > 0:
        if not a.quiet:
            log("evaluating %d test tasks" % a.final_eval)
        acc = np.array([tr.eval_task(test, False) for _ in range(a.final_eval)])
        mu = float(acc.mean())
        sd = float(acc.std(ddof=1)) if a.final_eval > 1 else 0.0
        print("final: episodes=%d ways=%d shots=%d accuracy=%f ci95=%f" %
              (a.final_eval, CLASSES, SHOTS, mu, 1.96 * sd / np.sqrt(a.final_eval)))

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("time: load_s=%.3f train_s=%.3f total_s=%.3f peak_rss_mb=%.1f" %
          (load_s, train_s, time.monotonic() - t_start, peak), flush=True)


if __name__ == "__main__":
    main()
