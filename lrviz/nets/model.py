"""The network: a fully connected MLP, its initial weights, loss and accuracy.

Parameters are a tuple of ``(W, b)`` pairs, one per layer, with ``W`` of shape
``(fan_in, fan_out)`` so a layer computes :math:`h \\mapsto h W + b` (PyTorch's ``nn.Linear``
stores the transpose, ``weight = W.T``). Hidden layers apply ``tanh`` or ``relu``; the last layer
is linear and outputs one score (logit) per class.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import custom_vmap

from lrviz.nets.config import NetConfig

Params = tuple[tuple[jax.Array, jax.Array], ...]


def init_params(cfg: NetConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""PyTorch's default ``nn.Linear`` initialisation, seeded by ``cfg.seed``.

    Every weight and bias of a layer with ``fan_in`` inputs is drawn independently from
    :math:`U(-1/\sqrt{\text{fan\_in}},\ 1/\sqrt{\text{fan\_in}})` (NumPy's PCG64 generator), so
    a torch model loaded with these arrays starts exactly where the JAX one does.
    """
    rng = np.random.default_rng(cfg.seed)
    sizes = cfg.layer_sizes
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / np.sqrt(fan_in)
        W = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
        b = rng.uniform(-bound, bound, (fan_out,)).astype(np.float32)
        params.append((W, b))
    return params


def check_params(cfg: NetConfig, params) -> list[tuple[np.ndarray, np.ndarray]]:
    """``params`` as float32 NumPy pairs, or a ValueError naming the layer whose shape is off."""
    sizes = cfg.layer_sizes
    if len(params) != len(sizes) - 1:
        raise ValueError(f"expected {len(sizes) - 1} (W, b) layers for sizes {sizes}, "
                         f"got {len(params)}")
    out = []
    for k, ((W, b), fan_in, fan_out) in enumerate(zip(params, sizes[:-1], sizes[1:],
                                                      strict=True)):
        W, b = np.asarray(W, np.float32), np.asarray(b, np.float32)
        if W.shape != (fan_in, fan_out) or b.shape != (fan_out,):
            raise ValueError(f"layer {k + 1}: expected W {(fan_in, fan_out)} and b {(fan_out,)}, "
                             f"got W {W.shape} and b {b.shape}")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError(f"layer {k + 1}: the initial weights must be finite")
        out.append((W, b))
    return out


def forward(params: Params, X: jax.Array, activation: str) -> jax.Array:
    """Class scores (logits) of every row of ``X``."""
    act = jnp.tanh if activation == "tanh" else jax.nn.relu
    h = X
    for W, b in params[:-1]:
        h = act(h @ W + b)
    W, b = params[-1]
    return h @ W + b


def loss_from_outputs(out: jax.Array, y: jax.Array, loss: str) -> jax.Array:
    r"""Mean loss over the batch.

    cross_entropy: :math:`\frac1N\sum_i \big(\log\sum_c e^{z_{ic}} - z_{i y_i}\big)`;
    mse: :math:`\frac{1}{NC}\sum_{i,c} (z_{ic} - [c = y_i])^2` (PyTorch's ``MSELoss`` on one-hot
    targets).
    """
    # z_{i y_i} as a sum against the one-hot row rather than a gather: the gather's gradient is
    # a scatter-add, which XLA runs slowly on CPU (measured 5-25% of a digits training step).
    return loss_from_targets(out, jax.nn.one_hot(y, out.shape[1], dtype=out.dtype), loss)


def loss_from_targets(out: jax.Array, target: jax.Array, loss: str) -> jax.Array:
    """`loss_from_outputs` with the one-hot targets (N, C) given."""
    if loss == "cross_entropy":
        return jnp.mean(jax.nn.logsumexp(out, axis=1) - jnp.sum(out * target, axis=1))
    return jnp.mean((out - target) ** 2)


def accuracy(out: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean((jnp.argmax(out, axis=1) == y).astype(jnp.float32))


def data_loss(params: Params, X: jax.Array, y: jax.Array, activation: str, loss: str
              ) -> jax.Array:
    return loss_from_outputs(forward(params, X, activation), y, loss)


def loss_and_grad(params: Params, X: jax.Array, target: jax.Array, activation: str, loss: str,
                  XT: jax.Array | None = None) -> tuple[jax.Array, Params]:
    r"""`data_loss` and its gradient by explicit backpropagation (equal to
    ``jax.value_and_grad(data_loss)`` up to float32 rounding), for one-hot targets ``target``
    (N, C) (``jax.nn.one_hot(y, C)``). ``XT`` may give ``X.T`` already materialised.

    With :math:`h_0 = X`, :math:`a_l = h_{l-1} W_l + b_l`, :math:`h_l = \sigma(a_l)` and scores
    :math:`z = a_L`, the output error is :math:`\delta_L = (\mathrm{softmax}(z) - Y)/N` for
    cross-entropy and :math:`2(z - Y)/(NC)` for MSE (:math:`Y` one-hot); then
    :math:`\partial W_l = h_{l-1}^\top \delta_l`, :math:`\partial b_l = \sum_i \delta_{l,i}` and
    :math:`\delta_{l-1} = \delta_l W_l^\top \odot \sigma'(a_{l-1})` with
    :math:`\tanh' = 1 - h^2` and :math:`\mathrm{relu}' = [a > 0]`.

    Why by hand: the training loop spends nearly all its time here, and the hand-written form
    shares the softmax between loss and error, and a caller inside a loop can build the one-hot
    targets and the transposed data once outside it (XLA recomputes loop-invariant work like
    that every step, and runs ``X.T @ delta`` faster from a materialised ``X.T``: together about
    a third less CPU time per step on the digits net; re-measured against
    ``jax.value_and_grad`` given the same hoisted one-hot targets and ``X.T``: 500 steps of
    one 64-32-10 run took 0.21-0.25 s of CPU time by hand, 0.35-0.36 s by autodiff). It is
    made of differentiable operations
    only, so ``jax.jvp`` or ``jax.linearize`` of its gradient is the exact Hessian-vector
    product (Pearlmutter's R-operator), used for the sharpness.
    """
    act = jnp.tanh if activation == "tanh" else jax.nn.relu
    hs = [X]
    for W, b in params[:-1]:
        hs.append(act(hs[-1] @ W + b))
    W, b = params[-1]
    z = hs[-1] @ W + b
    n, c = z.shape
    if loss == "cross_entropy":
        m = jax.lax.stop_gradient(jnp.max(z, axis=1, keepdims=True))
        e = jnp.exp(z - m)
        s = jnp.sum(e, axis=1, keepdims=True)
        value = jnp.mean(m[:, 0] + jnp.log(s[:, 0]) - jnp.sum(z * target, axis=1))
        delta = (e / s - target) * (1.0 / n)
    else:
        diff = z - target
        value = jnp.mean(diff * diff)
        delta = diff * (2.0 / (n * c))
    grads = []
    for k in range(len(params) - 1, -1, -1):
        h_in = hs[k]
        h_in_T = XT if (k == 0 and XT is not None) else h_in.T
        grads.append((h_in_T @ delta, jnp.sum(delta, axis=0)))
        if k:
            back = delta @ params[k][0].T
            delta = back * (1.0 - h_in * h_in) if activation == "tanh" else jnp.where(
                h_in > 0, back, 0.0)
    return value, tuple(reversed(grads))


EXAMPLE_ALIGN = 16  # the batched path pads the examples to a multiple of this (see below)


def rates_loss_and_grad(params: Params, XT: jax.Array, target_T: jax.Array, activation: str,
                        loss: str) -> tuple[jax.Array, Params]:
    r"""`loss_and_grad` of R networks trained on the same data, at once: ``params`` carry a
    leading rate axis (``W`` of shape (R, fan_in, fan_out), ``b`` (R, fan_out)), ``XT`` is the
    data transposed (F, N) and ``target_T`` the one-hot targets transposed (C, N). Returns the
    R losses (R,) and the gradient of each network's loss with respect to its own weights.

    The same backpropagation as `loss_and_grad`, with every layer's values kept as
    (R, width, N) so that the two products holding most of the work are each ONE wide
    matmul for all R networks: layer 1's :math:`[W_1^{(1)} \dots W_1^{(R)}]^\top X^\top`,
    (R * width, F) @ (F, N), and its weight gradient :math:`\delta_1 X`, (R * width, N) @ (N, F).
    Later layers are matmuls batched over R that contract along N, the long minor axis (XLA's
    CPU batched matmul ran several times faster so than in the (R, N, width) layout). Sums
    over the examples (the bias gradients, the true-class scores of the loss) are written as
    products with a vector of ones or the one-hot targets: XLA's CPU reduction over N of a
    (R, width, N) array was slower than the whole weight-gradient product (measured on the
    64-32-10 digits net).

    The examples are padded with zero columns up to a multiple of `EXAMPLE_ALIGN` (16 float32
    lanes, one AVX-512 vector): XLA's CPU loops over the (R, width, N) arrays then have no
    ragged tail per row, which made the digits sweep (N = 1438 -> 1440) 9% faster (3.88 vs
    4.27 s of CPU time, measured side by side). A padded example has no target and its output
    error is multiplied by 0 (mask :math:`m_i = [i < N]`), so it adds nothing to any gradient
    (every later error is a product with it) or to the loss, whose mean still divides by N.
    """
    act = jnp.tanh if activation == "tanh" else jax.nn.relu
    n, c = XT.shape[1], target_T.shape[0]
    pad = (-n) % EXAMPLE_ALIGN
    XT = jnp.pad(XT, ((0, 0), (0, pad)))
    target_T = jnp.pad(target_T, ((0, 0), (0, pad)))
    mask = (jnp.arange(n + pad) < n).astype(XT.dtype)
    ones = jnp.ones((n + pad,), XT.dtype)
    W, b = params[0]
    z = jnp.einsum("rio,in->ron", W, XT) + b[:, :, None]
    hs = []  # the hidden layers' outputs, (R, width, N + pad) each
    for W, b in params[1:]:
        hs.append(act(z))
        z = jnp.einsum("rio,rin->ron", W, hs[-1]) + b[:, :, None]
    if loss == "cross_entropy":
        m = jax.lax.stop_gradient(jnp.max(z, axis=1, keepdims=True))
        e = jnp.exp(z - m)
        s = jnp.sum(e, axis=1, keepdims=True)
        log_norm = jnp.einsum("rn,n->r", m[:, 0] + jnp.log(s[:, 0]), mask)
        value = (log_norm - jnp.einsum("rcn,cn->r", z, target_T)) / n
        delta = (e / s - target_T) * (mask / n)
    else:
        diff = (z - target_T) * mask
        value = jnp.einsum("rcn,rcn->r", diff, diff) / (n * c)
        delta = diff * (2.0 / (n * c))
    grads = []
    for k in range(len(params) - 1, -1, -1):
        if k == 0:  # (R * width, N) @ (N, F), then the small result to (R, F, width)
            dW = jnp.swapaxes(jnp.einsum("ron,in->roi", delta, XT), 1, 2)
        else:
            dW = jnp.einsum("rin,ron->rio", hs[k - 1], delta)
        grads.append((dW, jnp.einsum("ron,n->ro", delta, ones)))
        if k:
            h_in = hs[k - 1]
            back = jnp.einsum("rio,ron->rin", params[k][0], delta)
            delta = back * (1.0 - h_in * h_in) if activation == "tanh" else jnp.where(
                h_in > 0, back, 0.0)
    return value, tuple(reversed(grads))


def rates_loss(params: Params, XT: jax.Array, target_T: jax.Array, activation: str, loss: str
               ) -> jax.Array:
    """The R losses of `rates_loss_and_grad` alone (the gradient's products are never used,
    so XLA drops them)."""
    return rates_loss_and_grad(params, XT, target_T, activation, loss)[0]


SHARED_MIN_MACS = 1_000  # layer-1 multiply-adds of one network below which plain vmap wins


def _share_data(plain, batched):
    """``plain(params, X, target, XT)`` whose vmap over the weights, with the data the same for
    every network, runs ``batched(params_with_rate_axis, XT, target_T)`` instead; with data
    that differs between networks, or a first layer under `SHARED_MIN_MACS` multiply-adds
    (where the ordinary vmap measured faster: a 2-8-2 net on 16 examples, 256 multiply-adds,
    ran its 128x128 trainability map in 1.5x the CPU time batched, while from 6,400 on, a
    2-8-2 net on 400 examples, the batched sweep took half the time), it is the ordinary
    vmap of ``plain``."""
    fn = custom_vmap(plain)

    @fn.def_vmap
    def rule(axis_size, in_batched, params, X, target, XT):
        params_batched, *data_batched = in_batched
        macs = X.shape[0] * params[0][0].shape[-2] * params[0][0].shape[-1]
        if any(jax.tree.leaves(data_batched)) or macs < SHARED_MIN_MACS:
            axes = jax.tree.map(lambda batched: 0 if batched else None, tuple(in_batched))
            out = jax.vmap(plain, in_axes=axes)(params, X, target, XT)
        else:
            params = jax.tree.map(
                lambda a, batched: a if batched else jnp.broadcast_to(a, (axis_size, *a.shape)),
                params, params_batched)
            out = batched(params, XT, jnp.transpose(target))
        return out, jax.tree.map(lambda _: True, out)

    return fn


@functools.cache
def shared_loss_and_grad(activation: str, loss: str):
    """`loss_and_grad` as ``f(params, X, target, XT)``, which under ``jax.vmap`` over the
    weights of many networks trained on the same data runs `rates_loss_and_grad` (one wide
    matmul per direction for layer 1 of all of them) instead of one small product each."""
    return _share_data(
        lambda p, X, target, XT: loss_and_grad(p, X, target, activation, loss, XT),
        lambda p, XT, target_T: rates_loss_and_grad(p, XT, target_T, activation, loss))


@functools.cache
def shared_loss(activation: str, loss: str):
    """`data_loss` as ``f(params, X, target, XT)`` for one-hot ``target``, batched over
    networks on the same data like `shared_loss_and_grad`."""

    def plain(p, X, target, XT):
        return loss_from_targets(forward(p, X, activation), target, loss)

    return _share_data(plain, lambda p, XT, target_T: rates_loss(p, XT, target_T, activation,
                                                                  loss))


def predict_proba(cfg: NetConfig, params, X: np.ndarray) -> np.ndarray:
    """Class probabilities (N, C) of the network ``params`` at the rows of ``X`` (already in
    the data set's standardised units), in NumPy: softmax of the scores for cross-entropy
    nets; for MSE nets the scores clipped at 0 and renormalised (they were fitted to one-hot
    targets, so they are not log-probabilities).
    """
    act = np.tanh if cfg.activation == "tanh" else (lambda z: np.maximum(z, 0.0))
    h = np.asarray(X, np.float32)
    if h.ndim != 2 or h.shape[1] != cfg.layer_sizes[0]:
        raise ValueError(f"X must have shape (N, {cfg.layer_sizes[0]}), got {h.shape}")
    for W, b in params[:-1]:
        h = act(h @ W + b)
    W, b = params[-1]
    z = (h @ W + b).astype(np.float64)
    if cfg.loss == "cross_entropy":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    z = np.clip(z, 0.0, None) + 1e-12
    return z / z.sum(axis=1, keepdims=True)
