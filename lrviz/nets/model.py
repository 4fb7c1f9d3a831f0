"""The network: a fully connected MLP, its initial weights, loss and accuracy.

Parameters are a tuple of ``(W, b)`` pairs, one per layer, with ``W`` of shape
``(fan_in, fan_out)`` so a layer computes :math:`h \\mapsto h W + b` (PyTorch's ``nn.Linear``
stores the transpose, ``weight = W.T``). Hidden layers apply ``tanh`` or ``relu``; the last layer
is linear and outputs one score (logit) per class.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np

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
    target = jax.nn.one_hot(y, out.shape[1], dtype=out.dtype)
    if loss == "cross_entropy":
        return jnp.mean(jax.nn.logsumexp(out, axis=1) - jnp.sum(out * target, axis=1))
    return jnp.mean((out - target) ** 2)


def accuracy(out: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean((jnp.argmax(out, axis=1) == y).astype(jnp.float32))


def data_loss(params: Params, X: jax.Array, y: jax.Array, activation: str, loss: str
              ) -> jax.Array:
    return loss_from_outputs(forward(params, X, activation), y, loss)


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
