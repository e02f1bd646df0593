#!/usr/bin/env python3
"""Golden fixture for max-pooling: a small pooled network in PyTorch.

Builds, in PyTorch float64, input 9x7x2 -> Conv2D(4, 3x3, stride 1, "same")
-> BatchNorm(eps 1e-3) -> MaxPool(2x2, stride 2, TensorFlow "same": 9x7 ->
5x4, the padding row/column at the bottom/right filled with -inf so it never
wins) -> ReLU -> Conv2D(5, 3x3, stride 1, "same") -> MaxPool(3x2, stride
(2, 1), "valid": 5x4 -> 2x3) -> flatten (NHWC order, as Keras) -> Dense(5) ->
softmax cross-entropy summed over the batch, in both BatchNorm modes (batch
statistics; moving statistics), and writes the inputs, parameters
(libreptile layouts: HWIO kernels, dense [in, out]), logits, softmax
probabilities, loss, the Keras moving-average update, the gradient of every
parameter, and the result of one SGD step (lr 2^-4, batch statistics): the
parameters after it and the probabilities the updated network (moving
statistics) gives, to tests/fixtures/nn/pooled_net.bin.

tests/unit/model/test_golden.c builds the network with the public builder
(reptile_model_add_maxpool2d), loads the parameters through the public API
and compares. Inputs and weights are random floats, so no window holds a
tie (the tie rule is checked by tests/unit/nn/test_maxpool.c); the script
asserts that every window's maximum is unique by a margin, so that rounding
cannot pick another winner than PyTorch's.

Run: /usr/bin/python3 tests/golden/make_pooled_fixture.py (needs torch and
numpy, Debian python3-torch; the C test only reads the file). File format:
tests/golden/fixture_io.py.
"""
import numpy as np
import torch
import torch.nn.functional as F

from fixture_io import Records, f32, same_pad

torch.set_default_dtype(torch.float64)
BATCH, H, W, C, WAYS, EPS, MOMENTUM = 6, 9, 7, 2, 5, 1e-3, 0.99
C1, C2 = 4, 5
STEP_LR = 2.0**-4
MIN_GAP = 1e-4  # smallest gap between a window's maximum and its runner-up

rng = np.random.default_rng(20250301)
records = Records()
add = records.add

x = f32(rng.uniform(0, 1, (BATCH, H, W, C)))
labels = rng.integers(0, WAYS, BATCH).astype(np.int32)
add("x", "f32", x)
add("labels", "i32", labels)
params = {
    "conv0/kernel": f32(rng.uniform(-0.4, 0.4, (3, 3, C, C1))),
    "conv0/bias": f32(rng.uniform(-0.1, 0.1, C1)),
    "bn0/gamma": f32(rng.uniform(0.5, 1.5, C1)),
    "bn0/beta": f32(rng.uniform(-0.3, 0.3, C1)),
    "conv1/kernel": f32(rng.uniform(-0.3, 0.3, (3, 3, C1, C2))),
    "conv1/bias": f32(rng.uniform(-0.1, 0.1, C2)),
    "dense/kernel": f32(rng.uniform(-0.3, 0.3, (2 * 3 * C2, WAYS))),
    "dense/bias": f32(rng.uniform(-0.1, 0.1, WAYS)),
}
state = {"bn0/moving_mean": f32(rng.uniform(-0.2, 0.2, C1)),
         "bn0/moving_var": f32(rng.uniform(0.05, 0.5, C1))}
for k, v in list(params.items()) + list(state.items()):
    add(k, "f32", v)


def check_no_near_ties(h, kh, kw, sh, sw):
    """Every window of h (NCHW, padded) has a unique maximum by MIN_GAP."""
    win = h.detach().unfold(2, kh, sh).unfold(3, kw, sw).reshape(*h.shape[:2], -1, kh * kw)
    top2 = torch.topk(win, 2, dim=-1).values
    gap = (top2[..., 0] - top2[..., 1]).min().item()
    assert gap > MIN_GAP, "a window's maximum is not unique: gap %g" % gap


def forward(p, bn_train, mean_var=None):
    """Logits of the network; p maps names to tensors. Returns the logits and,
    with bn_train, the batch mean and biased variance of the BatchNorm input."""
    h = torch.tensor(np.asarray(x, dtype=np.float64)).permute(0, 3, 1, 2)  # NCHW
    top, bottom = same_pad(H, 3, 1)
    left, right = same_pad(W, 3, 1)
    h = F.conv2d(F.pad(h, (left, right, top, bottom)), p["conv0/kernel"].permute(3, 2, 0, 1), p["conv0/bias"])
    stats = None
    if bn_train:
        stats = (h.mean(dim=(0, 2, 3)).detach().numpy(), h.var(dim=(0, 2, 3), unbiased=False).detach().numpy())
        h = F.batch_norm(h, None, None, p["bn0/gamma"], p["bn0/beta"], training=True, eps=EPS)
    else:
        mean, var = mean_var
        h = F.batch_norm(h, torch.tensor(np.asarray(mean, dtype=np.float64)),
                         torch.tensor(np.asarray(var, dtype=np.float64)), p["bn0/gamma"], p["bn0/beta"],
                         training=False, eps=EPS)
    top, bottom = same_pad(h.shape[2], 2, 2)
    left, right = same_pad(h.shape[3], 2, 2)
    assert (top, bottom, left, right) == (0, 1, 0, 1)
    h = F.pad(h, (left, right, top, bottom), value=-np.inf)
    check_no_near_ties(h, 2, 2, 2, 2)
    h = F.relu(F.max_pool2d(h, (2, 2), stride=(2, 2)))
    assert tuple(h.shape[2:]) == (5, 4)
    top, bottom = same_pad(5, 3, 1)
    left, right = same_pad(4, 3, 1)
    h = F.conv2d(F.pad(h, (left, right, top, bottom)), p["conv1/kernel"].permute(3, 2, 0, 1), p["conv1/bias"])
    check_no_near_ties(h, 3, 2, 2, 1)
    h = F.max_pool2d(h, (3, 2), stride=(2, 1))
    assert tuple(h.shape[2:]) == (2, 3)
    flat = h.permute(0, 2, 3, 1).reshape(BATCH, -1)  # NHWC flatten, as Keras
    return flat @ p["dense/kernel"] + p["dense/bias"], stats


def leaves(values):
    return {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in values.items()}


def run(bn_train):
    p = leaves(params)
    logits, stats = forward(p, bn_train, (state["bn0/moving_mean"], state["bn0/moving_var"]))
    loss = F.cross_entropy(logits, torch.tensor(labels, dtype=torch.long), reduction="sum")
    loss.backward()
    mode = "train/" if bn_train else "infer/"
    records.add_outputs(mode, logits, loss)
    for k in params:
        add(mode + "d" + k, "f32", p[k].grad.numpy())
    if not bn_train:
        return None
    mean, var = stats
    new_mean = state["bn0/moving_mean"] * MOMENTUM + mean * (1 - MOMENTUM)
    new_var = state["bn0/moving_var"] * MOMENTUM + var * (1 - MOMENTUM)
    add(mode + "new_moving_mean", "f32", new_mean)
    add(mode + "new_moving_var", "f32", new_var)
    return {k: p[k].grad.numpy() for k in params}, (new_mean, new_var)


grads, moving = run(True)
run(False)

# One SGD step on batch statistics, then the updated network's predictions
# with its updated moving statistics (what an application sees next).
stepped = {k: params[k].astype(np.float64) - STEP_LR * grads[k] for k in params}
for k in params:
    add("step/" + k, "f32", stepped[k])
with torch.no_grad():
    logits, _ = forward(leaves(stepped), False, moving)
add("step/probs", "f32", F.softmax(logits, dim=1).numpy())

records.write("pooled_net.bin")
