"""The public training API: `train` one network and `lr_sweep` many rates in one batch.

Both build the traced inputs of `core.train_batch` from a `NetConfig`; runs that differ only
in numbers (rates, per-layer factors) share one compiled program.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from lrviz.engine import runtime
from lrviz.engine.diagnose import Regime
from lrviz.engine.optimizers import get_optimizer
from lrviz.engine.runtime import batch_slices, run_batches, usable_cores
from lrviz.engine.schedules import base_values, get_schedule
from lrviz.engine.simulate import largest_rate_before_divergence
from lrviz.engine.spec import batch_bucket, step_bucket
from lrviz.engine.theory import suggest_lr
from lrviz.nets import core, diagnose
from lrviz.nets.config import NetConfig
from lrviz.nets.data import load_dataset
from lrviz.nets.model import check_params, init_params

Weights = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, eq=False)
class NetRun:
    """One finished training run.

    ``train_loss[t]`` is the full training loss before update ``t`` (``train_loss[0]`` at the
    initial weights, ``train_loss[steps]`` after the last update); ``lrs[t]`` the rate update
    ``t`` used. ``train_acc``, ``val_loss`` and ``val_acc`` are measured at ``eval_steps``, and
    ``sharpness`` (top Hessian eigenvalue of the training objective) at ``sharpness_steps``.
    After a blow-up the weights stay at their last finite values and ``diverged_at`` is the
    first step that blew up.
    """

    config: NetConfig
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_acc: np.ndarray
    val_acc: np.ndarray
    eval_steps: np.ndarray
    lrs: np.ndarray
    sharpness: np.ndarray
    sharpness_steps: np.ndarray
    diverged_at: int | None
    regime: Regime
    explanation: str
    params: Weights
    facts: dict = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        return float(self.train_loss[-1])

    @property
    def stability_limit(self) -> np.ndarray | None:
        """c/eta_t for every update: the sharpness above which update t is unstable on a
        quadratic (2/eta for gradient descent); None for adaptive optimizers."""
        return stability_limit(self.config, self.lrs)


def stability_limit(cfg: NetConfig, lrs: np.ndarray) -> np.ndarray | None:
    factor = get_optimizer(cfg.optimizer).stability_factor(cfg.optimizer_values())
    if factor is None:
        return None
    return factor / np.maximum(np.asarray(lrs, float), 1e-30)


# --- building inputs -----------------------------------------------------------------------------


def eval_every(length: int) -> int:
    """Evaluation cadence for a run padded to ``length`` updates: about 100 evaluations."""
    return max(1, length // 100)


TRACK_STRETCHES = 8  # a run with sharpness trains in about this many stretches
SNAPSHOT_BYTES = 32 * 2**20  # at most this much stored weights per stretch of a batch


def stretch_for(cfg: NetConfig, length: int, sharpness_every: int, batch: int = 1) -> int:
    """Updates per stretch of ``batch`` runs of ``cfg`` padded to ``length`` updates, with the
    sharpness measured every ``sharpness_every`` (S) updates: about ``length /``
    `TRACK_STRETCHES`, a multiple of S, and small enough that a stretch's stored weights
    (float32, batch x (stretch/S + 1) x parameters) stay under `SNAPSHOT_BYTES`. 0 when S = 0."""
    if not sharpness_every:
        return 0
    sizes = cfg.layer_sizes
    n_params = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    rows = -(-length // (TRACK_STRETCHES * sharpness_every))
    rows = max(1, min(rows, SNAPSHOT_BYTES // (4 * n_params * batch) - 1))
    return sharpness_every * rows


def static_for(cfg: NetConfig, length: int, sharpness_every: int | None = None,
               curves: bool = True, batch: int = 1) -> core.Static:
    """The compile-time structure of ``batch`` runs of ``cfg``; ``curves=False`` evaluates
    accuracy and validation loss only at the end (sweeps and maps need nothing else)."""
    S = cfg.sharpness_every if sharpness_every is None else sharpness_every
    return core.Static(
        activation=cfg.activation, loss=cfg.loss, optimizer=cfg.optimizer,
        plateau=get_schedule(cfg.schedule).needs_loss, full_batch=cfg.full_batch,
        eval_every=eval_every(length) if curves else length, sharpness_every=S,
        stretch=stretch_for(cfg, length, S, batch),
    )


def minibatch_indices(cfg: NetConfig, length: int) -> np.ndarray:
    """Example indices (length, batch_size) of every update: a fresh seeded permutation per
    epoch, cut into whole batches (the incomplete tail of each epoch is dropped)."""
    if cfg.full_batch:
        return np.zeros((length, 0), np.int32)
    n, B = load_dataset(cfg.dataset).n_train, int(cfg.batch_size)
    per_epoch = n // B
    rng = np.random.default_rng([cfg.seed, 1])
    epochs = -(-length // per_epoch)
    rows = [rng.permutation(n)[: per_epoch * B].reshape(per_epoch, B) for _ in range(epochs)]
    return np.concatenate(rows)[:length].astype(np.int32)


def shared_data(cfg: NetConfig, length: int, n_examples: int | None = None) -> core.Data:
    """The data every run of a batch shares; ``n_examples`` keeps only the first training
    examples (for full-batch maps of many thousand runs)."""
    d = load_dataset(cfg.dataset)
    keep = slice(None) if n_examples is None else slice(0, int(n_examples))
    return core.Data(
        X_train=jnp.asarray(d.X_train[keep]), y_train=jnp.asarray(d.y_train[keep]),
        X_val=jnp.asarray(d.X_val), y_val=jnp.asarray(d.y_val),
        batches=jnp.asarray(minibatch_indices(cfg, length)), steps=jnp.int32(cfg.steps),
    )


def rate_rows(cfg: NetConfig, lrs: Sequence[float], length: int) -> np.ndarray:
    """The scheduled rate of each update (B, length) for base rates ``lrs`` (padding repeats
    the last real rate; it is never used)."""
    rows = np.stack([base_values(cfg.schedule, float(lr), cfg.steps, length,
                                 cfg.schedule_params) for lr in lrs])
    rows[:, cfg.steps :] = rows[:, cfg.steps - 1 : cfg.steps]
    return rows.astype(np.float32)


def inputs_for(cfg: NetConfig, params: Weights, lrs_row: np.ndarray,
               layer_scales: np.ndarray | None = None) -> core.Inputs:
    f32 = np.float32
    plateau = get_schedule("reduce_on_plateau").resolve(
        cfg.schedule_params if get_schedule(cfg.schedule).needs_loss else {})
    rng = np.random.default_rng([cfg.seed, 2])
    probe = rng.standard_normal(sum(W.size + b.size for W, b in params)).astype(f32)
    return core.Inputs(
        params=tuple((np.asarray(W, f32), np.asarray(b, f32)) for W, b in params),
        optimizer_params={k: f32(v) for k, v in cfg.optimizer_values().items()},
        lrs=np.asarray(lrs_row, f32),
        layer_scales=(np.ones(len(params), f32) if layer_scales is None
                      else np.asarray(layer_scales, f32)),
        weight_decay=f32(cfg.weight_decay),
        plateau_params={k: f32(v) for k, v in plateau.items()},
        probe=probe,
    )


def batched_inputs(cfg: NetConfig, params: Weights, lr_rows: np.ndarray,
                   layer_scales: np.ndarray | None = None, size: int | None = None
                   ) -> core.Inputs:
    """Inputs of B runs from the same weights that differ in their rates ``lr_rows`` (B, N)
    and per-layer factors ``layer_scales`` (B, L), padded with copies of the first run to
    ``size`` (default: the next power of two, so a few batch shapes serve every sweep)."""
    B = len(lr_rows)
    size = batch_bucket(B) if size is None else size
    base = inputs_for(cfg, params, lr_rows[0])
    tile = lambda a: jnp.broadcast_to(jnp.asarray(a), (size, *np.shape(a)))  # noqa: E731
    batch = jax.tree.map(tile, base)
    pad = lambda a: np.concatenate([a, np.repeat(a[:1], size - B, axis=0)])  # noqa: E731
    rows = pad(np.asarray(lr_rows, np.float32))
    scales = (np.ones((size, len(params)), np.float32) if layer_scales is None
              else pad(np.asarray(layer_scales, np.float32)))
    return batch._replace(lrs=jnp.asarray(rows), layer_scales=jnp.asarray(scales))


def run_batch(cfg: NetConfig, inputs: core.Inputs, count: int,
              sharpness_every: int | None = None, curves: bool = True,
              n_examples: int | None = None) -> core.Outputs:
    """Train the batched ``inputs`` (structure of ``cfg``); NumPy outputs of the first
    ``count`` runs."""
    length = step_bucket(cfg.steps)
    data = shared_data(cfg, length, n_examples)
    batch = jax.tree.leaves(inputs)[0].shape[0]
    width = core.vmap_width(data.X_train.shape[0], cfg.layer_sizes, batch)
    runtime.keep_mappings_in_check()
    static = static_for(cfg, length, sharpness_every, curves, batch)
    if static.sharpness_every:
        out = train_and_track(static, data, inputs, width)
    else:
        out = core.train_batch(static, data, inputs, width)
    return jax.tree.map(lambda a: np.asarray(a)[:count], out)


def train_and_track(static: core.Static, data: core.Data, inputs: core.Inputs,
                    width: int) -> core.Outputs:
    """`core.train_batch` with the sharpness measured on a second thread while training goes
    on: the updates run in stretches of `Static.stretch` (see `stretch_for`), and as each one
    ends, the measurements at the weights it stored start on the other thread while this one
    trains the next stretch. A measurement never feeds back into training, so the outputs are
    those of the one-program `core.train_batch`; only the last stretch's measurements are left
    to wait for. A measurement (a few Hessian-vector products, each about one gradient) costs
    several updates, and one run's small matmuls keep about one core busy, so on a machine
    with two cores this hides most of it."""
    S, L = static.sharpness_every, static.stretch
    state = core.start_batch(static, data, inputs, width)
    batch, length = inputs.lrs.shape
    tracked = (jnp.zeros((batch, length // S + 1), jnp.float32), inputs.probe)

    def track(snapshots: jax.Array, t0: int, t1: int) -> None:
        nonlocal tracked
        tracked = jax.block_until_ready(core.track_batch(
            static, data, inputs, width, snapshots, t0, t1, *tracked))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lrviz-sharpness") as tracker:
        jobs = []
        for t0 in range(0, int(data.steps), L):
            state = jax.block_until_ready(
                core.advance_batch(static, data, inputs, width, state, t0, t0 + L))
            jobs.append(tracker.submit(track, state.snapshots, t0, t0 + L))
        out = core.finish_batch(static, data, inputs, width, state)
        for job in jobs:
            job.result()  # re-raises a measurement's error here
    return out._replace(sharpness=tracked[0])


# --- turning outputs into runs ---------------------------------------------------------------


def _row(out: core.Outputs, k: int) -> core.Outputs:
    return jax.tree.map(lambda a: a[k], out)


def first_bad(ok: np.ndarray, steps: int) -> int | None:
    bad = np.flatnonzero(~ok[:steps])
    return int(bad[0]) + 1 if bad.size else None


def eval_steps_for(steps: int, length: int) -> np.ndarray:
    E = eval_every(length)
    return np.concatenate([np.arange(0, steps, E), [steps]]).astype(int)


def build_run(cfg: NetConfig, out: core.Outputs) -> NetRun:
    """A `NetRun` from one run's outputs (no batch axis)."""
    n, length = cfg.steps, step_bucket(cfg.steps)
    ev = eval_steps_for(n, length)
    k = len(ev) - 1  # evaluations before the final one
    val_loss = np.append(out.eval_val_loss[:k], out.final_val_loss).astype(float)
    val_acc = np.append(out.eval_val_acc[:k], out.final_val_acc).astype(float)
    train_acc = np.append(out.eval_train_acc[:k], out.final_train_acc).astype(float)
    S = cfg.sharpness_every
    if S:
        sharp_steps = np.arange(0, n + 1, S)
        sharpness = out.sharpness[: len(sharp_steps)].astype(float)
    else:
        sharp_steps, sharpness = np.zeros(0, int), np.zeros(0)
    train_loss = out.train_loss[: n + 1].astype(float)
    lrs = out.lrs[:n].astype(float)
    diverged_at = first_bad(out.ok, n)
    if diverged_at is not None and sharp_steps.size:  # drop measurements at frozen weights
        keep = sharp_steps < diverged_at
        sharp_steps, sharpness = sharp_steps[keep], sharpness[keep]
    epoch = 1 if cfg.full_batch else max(1, load_dataset(cfg.dataset).n_train // cfg.batch_size)
    regime, facts = diagnose.classify(train_loss, diverged_at, epoch)
    limits = stability_limit(cfg, lrs)
    limit_name = {"sgd": "2/η", "momentum": "(2+2μ)/η",
                  "nesterov": "2(1+μ)/((1+2μ)η)"}.get(cfg.optimizer, "c/η")
    text, sharp_facts = diagnose.sharpness_story(
        sharpness, sharp_steps, None if limits is None else float(limits[-1]), train_loss,
        diverged_at, limit_name)
    facts.update(sharp_facts)
    explanation = diagnose.explain(regime, facts, n, float(val_acc[-1]), float(train_acc[-1]),
                                   diverged_at, text)
    params = [(np.asarray(W, np.float32), np.asarray(b, np.float32)) for W, b in out.params]
    return NetRun(
        config=cfg, train_loss=train_loss, val_loss=val_loss, train_acc=train_acc,
        val_acc=val_acc, eval_steps=ev, lrs=lrs, sharpness=sharpness,
        sharpness_steps=sharp_steps, diverged_at=diverged_at, regime=regime,
        explanation=explanation, params=params, facts=facts,
    )


def train(cfg: NetConfig, params: Weights | None = None) -> NetRun:
    """Train the network ``cfg`` describes, from ``params`` (default `init_params(cfg)`)."""
    params = init_params(cfg) if params is None else check_params(cfg, params)
    length = step_bucket(cfg.steps)
    x = inputs_for(cfg, params, rate_rows(cfg, [cfg.lr], length)[0])
    out = run_batch(cfg, jax.tree.map(lambda a: jnp.asarray(a)[None], x), 1)
    return build_run(cfg, _row(out, 0))


# --- sweeps ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NetSweep:
    """Independent runs of one config that differ only in the base learning rate."""

    config: NetConfig
    lrs: np.ndarray
    train_loss: np.ndarray  # (R, steps+1)
    final_loss: np.ndarray  # (R,)
    final_val_loss: np.ndarray
    final_val_acc: np.ndarray
    diverged_at: list[int | None]
    regimes: list[Regime]
    best_lr: float | None  # lowest final training loss among runs that did not diverge
    suggested_lr: float | None  # `lrviz.engine.theory.suggest_lr`: middle of the good stretch

    @property
    def max_stable_lr(self) -> float | None:
        """The largest rate below the smallest one that diverged (None if none diverged)."""
        return largest_rate_before_divergence(self.lrs, self.regimes)


def check_lrs(lrs, what: str = "learning rate") -> np.ndarray:
    lrs = np.asarray(lrs, dtype=float).ravel()
    if lrs.size == 0:
        raise ValueError(f"give at least one {what}")
    if not np.all(np.isfinite(lrs) & (lrs > 0)):
        raise ValueError(f"every {what} must be a positive finite number")
    return lrs


def lr_sweep(cfg: NetConfig, lrs: Sequence[float], params: Weights | None = None,
             chunk: int = 64, progress: Callable[[float], None] | None = None,
             workers: int | None = None) -> NetSweep:
    """One run per base rate in ``lrs`` (everything else as in ``cfg``, same initial weights),
    in compiled batches of at most ``chunk`` runs (vmapped, so that layer 1 of all of a batch's
    runs is one wide matmul; or one by one inside the program for nets too big to hold a whole
    batch's layer outputs: see `core.vmap_width`), run on ``workers`` threads at once (default:
    one per usable core; see `run_batches`), the rates split evenly between them;
    ``progress(fraction)`` is called after each batch.

    No sharpness is measured here (use `train` for that).
    """
    lrs = check_lrs(lrs)
    params = init_params(cfg) if params is None else check_params(cfg, params)
    length = step_bucket(cfg.steps)
    rows = rate_rows(cfg, lrs, length)
    workers = usable_cores() if workers is None else int(workers)
    parts = batch_slices(len(lrs), chunk, workers)

    def run_part(part: slice) -> core.Outputs:
        x = batched_inputs(cfg, params, rows[part])
        return run_batch(cfg, x, part.stop - part.start, sharpness_every=0, curves=False)

    outs = run_batches([functools.partial(run_part, part) for part in parts],
                       [part.stop - part.start for part in parts], workers, progress)
    out = jax.tree.map(lambda *a: np.concatenate(a), *outs)
    n = cfg.steps
    losses = out.train_loss[:, : n + 1].astype(float)
    diverged = [first_bad(out.ok[k], n) for k in range(len(lrs))]
    epoch = 1 if cfg.full_batch else max(1, load_dataset(cfg.dataset).n_train // cfg.batch_size)
    regimes = [diagnose.classify(losses[k], diverged[k], epoch)[0] for k in range(len(lrs))]
    final = losses[:, -1]
    usable = np.array([g is not Regime.DIVERGED for g in regimes])
    best = float(lrs[usable][np.argmin(final[usable])]) if usable.any() else None
    # The same rule as the 2-D sweeps: the log-middle of the longest stretch of rates whose
    # runs ended close (on a log scale) to the best one; a network's loss floor is 0.
    suggested = suggest_lr(lrs, final, usable, float(losses[0, 0]), floor=0.0)
    return NetSweep(
        config=cfg, lrs=lrs, train_loss=losses, final_loss=final,
        final_val_loss=out.final_val_loss.astype(float),
        final_val_acc=out.final_val_acc.astype(float), diverged_at=diverged, regimes=regimes,
        best_lr=best, suggested_lr=suggested,
    )


def sharpness(cfg: NetConfig, params: Weights | None = None, iters: int = 40) -> float:
    """Top Hessian eigenvalue of the training objective (loss + L2 term of ``weight_decay``) at
    ``params`` (default: the initial weights), by ``iters`` Lanczos steps on Hessian-vector
    products (see `lanczos.lanczos_top`)."""
    if iters < 1:
        raise ValueError(f"iters must be at least 1, got {iters}")
    params = init_params(cfg) if params is None else check_params(cfg, params)
    x = inputs_for(cfg, params, np.zeros(1, np.float32))
    data = shared_data(cfg.with_(batch_size=None), 1)
    return float(core.top_eigenvalue(cfg.activation, cfg.loss, data, x.params, int(iters),
                                     x.probe, x.weight_decay))
