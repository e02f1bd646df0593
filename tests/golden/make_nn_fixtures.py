#!/usr/bin/env python3
"""Golden fixture for the model: the tutorial's Omniglot network in PyTorch.

Builds, in PyTorch float64, input 28x28x1 -> 4 x [Conv2D(64, 3x3, stride 2,
TensorFlow "same" padding) -> BatchNorm(eps 1e-3) -> ReLU] -> flatten (NHWC
order, as Keras) -> Dense(5) -> softmax cross-entropy summed over the batch,
in both BatchNorm modes (batch statistics; moving statistics), and writes the
inputs, parameters (libreptile layouts: HWIO kernels, dense [in, out]),
logits, softmax probabilities, loss, Keras moving-average updates, and the
gradient of every parameter to tests/fixtures/nn/omniglot_net.bin.

tests/unit/model/test_golden.c loads the parameters into a libreptile model
through the public API (reptile_model_set_params / set_state), compares
reptile_model_predict's probabilities with probs and logits, and recovers the
gradients from the parameter change of one plain SGD step
(reptile_model_train_step). The gradient of the input is not stored: no
public function exposes it, and the library never computes it.

File format: tests/golden/fixture_io.py. Big 3x3x64x64 kernels are stored as
int8 q with weight = q * 2^-11 (exact in float32) and their gradients as
every 13th element (stride coprime to 64, so all taps and channels are
covered) plus the float64 dot product of the full gradient with a fixed +-1
pattern, to keep the file small.

Run: /usr/bin/python3 tests/golden/make_nn_fixtures.py (needs torch and numpy,
Debian python3-torch; the C test only reads the file). The output is the same
bytes on every run (torch 1.13.1, numpy 1.24.2); another torch build (Debian
12's 1.13.0a0) changes only the float noise of the conv bias gradients under
batch statistics (~1e-14, analytically zero, checked as such).
"""
import numpy as np
import torch
import torch.nn.functional as F

from fixture_io import Records, f32, same_pad

torch.set_default_dtype(torch.float64)
BATCH, WAYS, CH, EPS, MOMENTUM = 6, 5, 64, 1e-3, 0.99
SUBSAMPLE = 13

rng = np.random.default_rng(20240611)
records = Records()
add = records.add


def sign_pattern(n):
    """Fixed +-1 pattern the C test regenerates: bit 16 of (i * 2654435761) mod 2^32."""
    i = np.arange(n, dtype=np.uint64)
    h = (i * np.uint64(2654435761)) % np.uint64(2**32)
    return np.where((h >> np.uint64(16)) & np.uint64(1), 1.0, -1.0)


# ---- inputs and parameters (float32 values, used exactly in float64) ----
x = f32(rng.uniform(0, 1, (BATCH, 28, 28, 1)))
labels = rng.integers(0, WAYS, BATCH).astype(np.int32)
add("x", "f32", x)
add("labels", "i32", labels)

kernels, kernels_q, cbias, gamma, beta, mmean, mvar = [], [], [], [], [], [], []
for l in range(4):
    cin = 1 if l == 0 else CH
    if l == 0:
        k = f32(rng.uniform(-0.3, 0.3, (3, 3, cin, CH)))
        add("conv0/kernel", "f32", k)
    else:
        q = rng.integers(-128, 128, (3, 3, cin, CH)).astype(np.int8)
        k = f32(q.astype(np.float64) * 2.0**-11)
        add("conv%d/kernel_q" % l, "i8", q)
    kernels.append(k)
    for lst, name, lo, hi in ((cbias, "bias", -0.1, 0.1), (gamma, "gamma", 0.5, 1.5), (beta, "beta", -0.3, 0.3),
                              (mmean, "moving_mean", -0.2, 0.2), (mvar, "moving_var", 0.05, 0.5)):
        v = f32(rng.uniform(lo, hi, CH))
        lst.append(v)
        add("conv%d/%s" % (l, name), "f32", v)
dense_w = f32(rng.uniform(-0.15, 0.15, (2 * 2 * CH, WAYS)))
dense_b = f32(rng.uniform(-0.1, 0.1, WAYS))
add("dense/kernel", "f32", dense_w)
add("dense/bias", "f32", dense_b)


def run(train):
    t = lambda a: torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
    xt = torch.tensor(np.asarray(x, dtype=np.float64))  # no gradient: not observable
    ks = [t(k) for k in kernels]
    bs = [t(b) for b in cbias]
    gs = [t(g) for g in gamma]
    bts = [t(b) for b in beta]
    dw, db = t(dense_w), t(dense_b)
    h = xt.permute(0, 3, 1, 2)  # NCHW for torch
    stats = []
    for l in range(4):
        top, bottom = same_pad(h.shape[2], 3, 2)
        left, right = same_pad(h.shape[3], 3, 2)
        h = F.pad(h, (left, right, top, bottom))
        h = F.conv2d(h, ks[l].permute(3, 2, 0, 1), bs[l], stride=2)
        if train:
            mean = h.mean(dim=(0, 2, 3))
            var = h.var(dim=(0, 2, 3), unbiased=False)
            stats.append((mean.detach().numpy(), var.detach().numpy()))
            h = F.batch_norm(h, None, None, gs[l], bts[l], training=True, eps=EPS)
        else:
            h = F.batch_norm(h, torch.tensor(mmean[l], dtype=torch.float64), torch.tensor(mvar[l], dtype=torch.float64),
                             gs[l], bts[l], training=False, eps=EPS)
        h = F.relu(h)
    flat = h.permute(0, 2, 3, 1).reshape(BATCH, -1)  # NHWC flatten, as Keras
    logits = flat @ dw + db
    loss = F.cross_entropy(logits, torch.tensor(labels, dtype=torch.long), reduction="sum")
    loss.backward()
    mode = "train" if train else "infer"
    records.add_outputs(mode + "/", logits, loss)
    for l in range(4):
        g = ks[l].grad.numpy().ravel()
        if l == 0:
            add("%s/conv0/dkernel" % mode, "f32", g)
        else:
            add("%s/conv%d/dkernel_sub" % (mode, l), "f32", g[::SUBSAMPLE])
            add("%s/conv%d/dkernel_proj" % (mode, l), "f32", [float(np.dot(g, sign_pattern(g.size)))])
            add("%s/conv%d/dkernel_norm" % (mode, l), "f32", [float(np.linalg.norm(g))])
        add("%s/conv%d/dbias" % (mode, l), "f32", bs[l].grad.numpy())
        add("%s/conv%d/dgamma" % (mode, l), "f32", gs[l].grad.numpy())
        add("%s/conv%d/dbeta" % (mode, l), "f32", bts[l].grad.numpy())
        if train:
            mean, var = stats[l]
            add("%s/conv%d/new_moving_mean" % (mode, l), "f32", mmean[l] * MOMENTUM + mean * (1 - MOMENTUM))
            add("%s/conv%d/new_moving_var" % (mode, l), "f32", mvar[l] * MOMENTUM + var * (1 - MOMENTUM))
    add(mode + "/dense/dkernel", "f32", dw.grad.numpy())
    add(mode + "/dense/dbias", "f32", db.grad.numpy())


run(True)
run(False)

records.write("omniglot_net.bin")
