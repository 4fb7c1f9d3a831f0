"""Trainability maps: which pairs of per-layer learning rates train and which diverge.

Layer 1 is the first weight matrix and bias; "layer 2" is every later layer (for a one-hidden-
layer net, exactly the output layer). A run with rates :math:`(\\eta_1, \\eta_2)` applies the
optimizer's step to each layer scaled by that layer's rate: every optimizer of the registry
moves by the learning rate times a direction that does not depend on it, so this is exactly
per-layer learning rates (the schedule's shape, taken from ``cfg``, multiplies both).

Sohl-Dickstein (2024) found the boundary between the two regions to be fractal: zooming in
keeps revealing structure. `zoom_ranges` gives the ranges of a zoomed view.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from lrviz.engine.runtime import batch_slices, run_batches, usable_cores
from lrviz.engine.spec import step_bucket
from lrviz.nets.config import NetConfig
from lrviz.nets.data import load_dataset
from lrviz.nets.model import check_params, init_params
from lrviz.nets.train import Weights, batched_inputs, check_lrs, rate_rows, run_batch

CONVERGED_FRACTION = 0.5  # a run converged if it ended below this fraction of its start loss


@dataclass(frozen=True, eq=False)
class TrainabilityMap:
    """Grids of shape (len(lrs_layer2), len(lrs_layer1)): row i, column j is the run with
    layer-2 rate ``lrs_layer2[i]`` and layer-1 rate ``lrs_layer1[j]``."""

    config: NetConfig
    lrs_layer1: np.ndarray
    lrs_layer2: np.ndarray
    final_loss: np.ndarray
    mean_loss: np.ndarray  # mean training loss over the run (Sohl-Dickstein's shading)
    diverged: np.ndarray  # bool
    diverged_at: np.ndarray  # first step that blew up, -1 when none
    converged: np.ndarray  # bool: not diverged and final loss < CONVERGED_FRACTION x start
    initial_loss: float
    n_examples: int | None

    @property
    def trainable_fraction(self) -> float:
        return float(np.mean(~self.diverged))


def log_grid(lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` rates evenly spaced in log scale from ``lo`` to ``hi``."""
    if not (0 < lo < hi and math.isfinite(hi)) or n < 1:
        raise ValueError(f"a rate grid needs 0 < lo < hi and n >= 1, got {lo}, {hi}, {n}")
    return np.geomspace(lo, hi, int(n))


def zoom_ranges(range1: tuple[float, float], range2: tuple[float, float],
                center: tuple[float, float], factor: float = 4.0
                ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Ranges ``factor`` times narrower (in log scale) around ``center = (lr1, lr2)``.

    ``zoom_ranges((1e-2, 10), (1e-2, 10), (0.5, 2.0), 4)`` spans 3/4 of a decade around each
    centre rate; ``factor < 1`` zooms out.
    """
    if not (factor > 0 and math.isfinite(factor)):
        raise ValueError(f"the zoom factor must be a positive number, got {factor}")
    out = []
    for (lo, hi), c in zip((range1, range2), center, strict=True):
        if not (0 < lo < hi and c > 0):
            raise ValueError(f"zoom needs positive ranges and centre, got {(lo, hi)} and {c}")
        half = math.log10(hi / lo) / (2 * factor)
        mid = math.log10(c)
        out.append((10 ** (mid - half), 10 ** (mid + half)))
    return out[0], out[1]


def trainability_map(cfg: NetConfig, lrs_layer1: Sequence[float], lrs_layer2: Sequence[float],
                     params: Weights | None = None, n_examples: int | None = None,
                     chunk: int = 256, progress: Callable[[float], None] | None = None,
                     workers: int | None = None) -> TrainabilityMap:
    """Train ``cfg``'s network full batch once per pair of per-layer rates, in vmapped batches
    of ``chunk`` runs from the same initial weights, run on ``workers`` threads at once
    (default: one per usable core; see `runtime.run_batches`); ``progress(fraction)`` after each
    batch. ``n_examples`` trains on the first training examples only (Sohl-Dickstein used a
    handful, which keeps a 128x128 map to seconds). ``cfg.lr`` only sets the schedule's shape.
    The default ``chunk`` of 256 runs was the fastest measured for the 2-8-2 map net (the
    batch's working set stays in cache; 4096 was 2x slower).
    """
    if not cfg.full_batch:
        raise ValueError("the trainability map trains full batch: set batch_size=None")
    n_train = load_dataset(cfg.dataset).n_train
    if n_examples is not None and not 1 <= int(n_examples) <= n_train:
        raise ValueError(f"n_examples must be between 1 and {n_train}, got {n_examples}")
    lr1, lr2 = check_lrs(lrs_layer1, "layer-1 rate"), check_lrs(lrs_layer2, "layer-2 rate")
    cfg = cfg.with_(sharpness_every=0)
    params = init_params(cfg) if params is None else check_params(cfg, params)
    length = step_bucket(cfg.steps)
    shape = rate_rows(cfg, [cfg.lr], length)[0] / cfg.lr
    grid1, grid2 = np.meshgrid(lr1, lr2)  # (n2, n1)
    pairs = np.stack([grid1.ravel(), grid2.ravel()], axis=1)
    n_layers = len(params)
    workers = usable_cores() if workers is None else int(workers)
    parts = batch_slices(len(pairs), chunk, workers)
    size = 1 << max(0, (parts[0].stop - 1).bit_length())  # one padded batch shape for all

    def run_part(part: slice):
        rates = pairs[part]
        scales = np.concatenate([rates[:, :1], np.repeat(rates[:, 1:], n_layers - 1, axis=1)],
                                axis=1)
        rows = np.broadcast_to(shape, (len(rates), length))
        x = batched_inputs(cfg, params, rows, scales, size=size)
        return run_batch(cfg, x, len(rates), sharpness_every=0, curves=False,
                         n_examples=n_examples)

    outs = run_batches([functools.partial(run_part, part) for part in parts],
                       [part.stop - part.start for part in parts], workers, progress)
    losses = np.concatenate([out.train_loss[:, : cfg.steps + 1] for out in outs]).astype(float)
    ok = np.concatenate([out.ok[:, : cfg.steps] for out in outs])
    initial = float(losses[0, 0])
    grid = lambda a: a.reshape(grid1.shape)  # noqa: E731
    final = grid(losses[:, -1])
    diverged_at = grid(np.where(ok.all(axis=1), -1, np.argmin(ok, axis=1) + 1))
    diverged = (diverged_at >= 0) | (final > initial)
    return TrainabilityMap(
        config=cfg, lrs_layer1=lr1, lrs_layer2=lr2, final_loss=final,
        mean_loss=grid(losses.mean(axis=1)),
        diverged=diverged, diverged_at=diverged_at,
        converged=~diverged & (final < CONVERGED_FRACTION * initial), initial_loss=initial,
        n_examples=n_examples,
    )
