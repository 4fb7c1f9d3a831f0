"""The learning-rate range test (Smith 2017, fastai's ``lr_find``) in one training run.

The rate grows exponentially from ``lr_min`` to ``lr_max`` over ``steps`` updates,
:math:`\\eta_t = \\eta_{min}(\\eta_{max}/\\eta_{min})^{t/(T-1)}`. After each update the training
loss is recorded and smoothed with a bias-corrected exponential moving average (fastai's
:math:`\\beta = 0.98`):

.. math:: s_t = \\beta s_{t-1} + (1-\\beta) L_t,\\qquad \\hat L_t = s_t / (1 - \\beta^{t+1}).

The test stops at the first update whose smoothed loss exceeds 4 times the lowest one so far, or
that blew up. Two suggestions are read off the smoothed curve against :math:`\\log\\eta`:

- ``steepest``: the rate where the smoothed loss falls fastest per decade (the most negative
  slope :math:`d\\hat L/d\\log_{10}\\eta`), fastai's "steep" suggestion. This is `suggestion`.
- ``min_over_10``: a tenth of the rate at the lowest smoothed loss, fastai's "minimum": at the
  minimum itself the rate already sits at the edge of instability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from lrviz.engine.spec import step_bucket
from lrviz.nets.config import NetConfig
from lrviz.nets.model import check_params, init_params
from lrviz.nets.train import Weights, first_bad, inputs_for, run_batch

BETA = 0.98
STOP_FACTOR = 4.0


@dataclass(frozen=True, eq=False)
class RangeTest:
    """One range-test run, cut where it stopped.

    ``losses[t]`` is the training loss after update ``t``, which used rate ``lrs[t]``.
    """

    config: NetConfig
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    stopped_at: int | None  # the update that triggered the stop (None: ran to lr_max)
    steepest: float | None
    min_over_10: float | None
    lr_at_min: float | None

    @property
    def suggestion(self) -> float | None:
        return self.steepest


def ema_smooth(losses: np.ndarray, beta: float = BETA) -> np.ndarray:
    """The bias-corrected exponential moving average of ``losses`` (see the module text)."""
    out = np.empty(len(losses))
    s = 0.0
    for t, loss in enumerate(np.asarray(losses, float)):
        s = beta * s + (1 - beta) * loss
        out[t] = s / (1 - beta ** (t + 1))
    return out


def stop_index(smoothed: np.ndarray, diverged_at: int | None,
               factor: float = STOP_FACTOR) -> int | None:
    """First update whose smoothed loss exceeds ``factor`` x the lowest so far, or that blew
    up (update ``diverged_at - 1``); None when neither happens."""
    over = np.flatnonzero(smoothed > factor * np.minimum.accumulate(smoothed))
    candidates = [int(over[0])] if over.size else []
    if diverged_at is not None:
        candidates.append(diverged_at - 1)
    return min(candidates) if candidates else None


def suggestions(lrs: np.ndarray, smoothed: np.ndarray) -> tuple[float | None, float | None,
                                                                 float | None]:
    """(steepest, min_over_10, lr_at_min) from a curve already cut at its stop."""
    if len(lrs) < 3:
        return None, None, None
    slope = np.gradient(smoothed, np.log10(lrs))
    steepest = float(lrs[int(np.argmin(slope))]) if np.min(slope) < 0 else None
    at_min = float(lrs[int(np.argmin(smoothed))])
    return steepest, at_min / 10.0, at_min


def range_test(cfg: NetConfig, lr_min: float = 1e-4, lr_max: float = 10.0, steps: int = 200,
               params: Weights | None = None) -> RangeTest:
    """Run the range test with ``cfg``'s network, data, optimizer and batch size (its rate and
    schedule are replaced by the exponential ramp)."""
    lr_min, lr_max, steps = float(lr_min), float(lr_max), int(steps)
    if not (math.isfinite(lr_min) and math.isfinite(lr_max) and 0 < lr_min < lr_max):
        raise ValueError(f"the range test needs 0 < lr_min < lr_max, got {lr_min} and {lr_max}")
    if steps < 3:
        raise ValueError(f"the range test needs at least 3 steps, got {steps}")
    cfg = cfg.with_(lr=lr_min, schedule="constant", schedule_params={}, steps=steps,
                    sharpness_every=0)
    params = init_params(cfg) if params is None else check_params(cfg, params)
    length = step_bucket(steps)
    ramp = np.full(length, lr_max, np.float32)
    ramp[:steps] = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    x = inputs_for(cfg, params, ramp)
    out = run_batch(cfg, jax.tree.map(lambda a: jnp.asarray(a)[None], x), 1, curves=False)
    losses = out.train_loss[0, 1 : steps + 1].astype(float)
    smoothed = ema_smooth(losses)
    stop = stop_index(smoothed, first_bad(out.ok[0], steps))
    end = steps if stop is None else stop
    lrs = ramp[:end].astype(float)
    steepest, min_over_10, at_min = suggestions(lrs, smoothed[:end])
    return RangeTest(config=cfg, lrs=lrs, losses=losses[:end], smoothed=smoothed[:end],
                     stopped_at=stop, steepest=steepest, min_over_10=min_over_10,
                     lr_at_min=at_min)
