"""The public simulation API: `simulate`, `simulate_many` and `lr_sweep`.

Configs are grouped by structure (surface, optimizer, loss-driven schedule or not, step bucket);
each group runs as one padded, vmapped batch through `core.run_batch`, then every run is cut to
its own length, diagnosed and explained.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from lrviz.engine import core, diagnose
from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Regime
from lrviz.engine.schedules import base_values, get_schedule
from lrviz.engine.spec import batch_bucket, check_lr, step_bucket
from lrviz.engine.surfaces import get_surface
from lrviz.engine.theory import suggest_lr


def largest_rate_before_divergence(lrs: Sequence[float] | np.ndarray,
                                   regimes: Sequence[Regime]) -> float | None:
    """Going up the swept rates, the last one before the first divergence (None: none diverged;
    also None when the smallest rate already diverged)."""
    last = None
    for k in np.argsort(np.asarray(lrs)):
        if regimes[k] is Regime.DIVERGED:
            return last
        last = float(lrs[k])
    return None


@dataclass(frozen=True, eq=False)
class Run:
    """One finished trajectory.

    ``points[t]`` is the parameter vector before update ``t`` (``points[0]`` is the start),
    ``losses[t] = f(points[t])``, ``lrs[t]`` the learning rate update ``t`` used. After a blow-up
    the run stays at its last good point and ``diverged_at`` is the first step that blew up; a run
    can also be classified ``diverged`` with ``diverged_at = None`` when its loss is still finite
    but growing geometrically. ``lambda_max[t]`` is the largest Hessian eigenvalue at
    ``points[t]`` (the stability meter plots ``lrs * lambda_max[:-1]``).
    """

    config: RunConfig
    points: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    regime: Regime
    diverged_at: int | None
    explanation: str
    lambda_max: np.ndarray | None = None
    facts: dict = field(default_factory=dict)

    @property
    def final_point(self) -> tuple[float, float]:
        return (float(self.points[-1, 0]), float(self.points[-1, 1]))

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    @property
    def stability_ratio(self) -> np.ndarray | None:
        """lr_t x lambda_max(p_t) for every update (compare with the optimizer's limit)."""
        if self.lambda_max is None:
            return None
        return self.lrs * self.lambda_max[:-1]


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Independent runs that differ only in the learning rate (see `theory.suggest_lr`)."""

    config: RunConfig
    lrs: np.ndarray
    final_losses: np.ndarray
    regimes: list[Regime]
    diverged_at: list[int | None]
    suggested_lr: float | None
    initial_loss: float

    @property
    def max_stable_lr(self) -> float | None:
        """The largest swept rate below the first one that diverged (None if none diverged)."""
        return largest_rate_before_divergence(self.lrs, self.regimes)


def _inputs(cfg: RunConfig, length: int) -> core.Inputs:
    spec = get_schedule(cfg.schedule)
    lrs = base_values(spec, cfg.lr, cfg.steps, length, cfg.schedule_params)
    if cfg.steps < length:  # padding repeats the last real rate; it is cut off afterwards
        lrs[cfg.steps :] = lrs[cfg.steps - 1]
    plateau = get_schedule("reduce_on_plateau").resolve(
        cfg.schedule_params if spec.needs_loss else {}
    )
    f32 = np.float32
    return core.Inputs(
        start=np.asarray(cfg.start_point, f32),
        surface_params={k: f32(v) for k, v in cfg.surface_values().items()},
        optimizer_params={k: f32(v) for k, v in cfg.optimizer_values().items()},
        lrs=lrs,
        plateau_params={k: f32(v) for k, v in plateau.items()},
        noise=f32(cfg.noise),
        seed=np.int32(cfg.seed),
        steps=np.int32(cfg.steps),
    )


def _stack(items: list[core.Inputs], size: int) -> core.Inputs:
    items = items + [items[0]] * (size - len(items))  # pad the batch with copies of the first run
    return jax.tree.map(lambda *leaves: jnp.asarray(np.stack(leaves)), *items)


def _structure(cfg: RunConfig) -> tuple[str, str, bool, int]:
    return (cfg.surface, cfg.optimizer, get_schedule(cfg.schedule).needs_loss,
            step_bucket(cfg.steps))


def _execute(cfgs: Sequence[RunConfig], curvature: bool) -> list[dict]:
    """Run configs in structure groups; returns per-run numpy arrays cut to their lengths.

    With ``curvature`` the Hessian eigenvalues along each whole path are computed too (for the
    stability meter and the explanations); otherwise only at the final points (for diagnosis).
    """
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, cfg in enumerate(cfgs):
        groups[_structure(cfg)].append(i)
    results: list[dict] = [{} for _ in cfgs]
    for (surface, optimizer, plateau, length), idx in groups.items():
        batch = _stack([_inputs(cfgs[i], length) for i in idx], batch_bucket(len(idx)))
        device_out = core.run_batch(surface, optimizer, plateau, batch)
        out = core.Outputs(*(np.asarray(a) for a in device_out))
        steps = np.asarray(batch.steps)
        if curvature:
            _, grads, hessians, eigs = core.curvature_batch(surface, device_out.points,
                                                            batch.surface_params)
        else:
            finals = out.points[np.arange(len(steps)), steps][:, None]
            _, grads, hessians, eigs = core.curvature_batch(surface, finals,
                                                            batch.surface_params)
        grads, hessians, eigs = np.asarray(grads), np.asarray(hessians), np.asarray(eigs)
        for row, i in enumerate(idx):
            n = cfgs[i].steps
            bad = np.flatnonzero(~out.ok[row, :n])
            at = n if curvature else 0
            results[i] = dict(
                points=out.points[row, : n + 1].astype(np.float64),
                losses=out.losses[row, : n + 1].astype(np.float64),
                lrs=out.lrs[row, :n].astype(np.float64),
                diverged_at=int(bad[0]) + 1 if bad.size else None,
                lambda_max=eigs[row, : n + 1, 1].astype(np.float64) if curvature else None,
                final_grad=grads[row, at],
                final_hessian=hessians[row, at],
            )
    return results


def _diagnose(cfgs: Sequence[RunConfig], results: list[dict], explain: bool) -> list:
    """Classify runs in groups sharing a surface, its parameters and a length."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, cfg in enumerate(cfgs):
        key = (cfg.surface, tuple(sorted(cfg.surface_values().items())), cfg.steps)
        groups[key].append(i)
    out: list = [None] * len(cfgs)
    for (surface_name, params, _), idx in groups.items():
        surface, params = get_surface(surface_name), dict(params)
        rs = [results[i] for i in idx]
        feats = diagnose.classify_batch(
            surface, params,
            np.stack([r["points"] for r in rs]), np.stack([r["losses"] for r in rs]),
            np.array([-1 if r["diverged_at"] is None else r["diverged_at"] for r in rs]),
            np.stack([r["final_grad"] for r in rs]), np.stack([r["final_hessian"] for r in rs]),
            np.array([cfgs[i].noise for i in idx]),
        )
        for row, i in enumerate(idx):
            if not explain:
                out[i] = feats.regimes[row]
                continue
            r, cfg = results[i], cfgs[i]
            out[i] = diagnose.explain(
                row, feats, surface, params, cfg.optimizer, cfg.optimizer_values(),
                r["points"], r["losses"], r["lrs"], r["diverged_at"], r["lambda_max"],
            )
    return out


def simulate(cfg: RunConfig | None = None, **fields) -> Run:
    """Run one trajectory: ``simulate(RunConfig(...))`` or ``simulate(surface=..., lr=...)``."""
    if cfg is None:
        cfg = RunConfig(**fields)
    elif fields:
        cfg = cfg.with_(**fields)
    return simulate_many([cfg])[0]


def simulate_many(cfgs: Iterable[RunConfig]) -> list[Run]:
    """Several runs; configs that share a structure run as one vmapped batch."""
    cfgs = list(cfgs)
    if not cfgs:
        return []
    results = _execute(cfgs, curvature=True)
    diagnoses = _diagnose(cfgs, results, explain=True)
    return [
        Run(config=cfg, points=r["points"], losses=r["losses"], lrs=r["lrs"], regime=d.regime,
            diverged_at=r["diverged_at"], explanation=d.explanation,
            lambda_max=r["lambda_max"], facts=d.facts)
        for cfg, r, d in zip(cfgs, results, diagnoses, strict=True)
    ]


def _rate_rows(cfg: RunConfig, lrs: np.ndarray, length: int,
               schedule_params: list[dict] | None = None) -> np.ndarray:
    """Per-run learning-rate arrays (B, length) for ``cfg`` at each rate in ``lrs``.

    Most schedules scale linearly with the base rate; when that holds (checked numerically),
    one evaluation per distinct parameter set is scaled, instead of one per run.
    """
    rows = np.empty((len(lrs), length), np.float32)
    params_list = schedule_params or [cfg.schedule_params] * len(lrs)
    cache: dict[tuple, tuple[np.ndarray, bool]] = {}
    for k, (lr, params) in enumerate(zip(lrs, params_list, strict=True)):
        key = tuple(sorted(params.items()))
        if key not in cache:
            one = base_values(cfg.schedule, 1.0, cfg.steps, length, params)
            two = base_values(cfg.schedule, 2.0, cfg.steps, length, params)
            cache[key] = (one, bool(np.allclose(two, 2.0 * one, rtol=1e-6, atol=0)))
        unit, linear = cache[key]
        rows[k] = unit * lr if linear else base_values(cfg.schedule, lr, cfg.steps, length, params)
    rows[:, cfg.steps :] = rows[:, cfg.steps - 1 : cfg.steps]
    return rows


def _run_grid(cfg: RunConfig, lrs: np.ndarray, kind: str | None = None, name: str | None = None,
              values: np.ndarray | None = None) -> tuple[dict, list[Regime]]:
    """Runs of ``cfg`` that differ in lr (and optionally one numeric parameter), in one batch.

    Returns the stacked arrays (cut to the run length) and the regimes.
    """
    length = step_bucket(cfg.steps)
    base = _inputs(cfg, length)
    B = len(lrs)
    size = batch_bucket(B)
    tile = lambda a: np.broadcast_to(np.asarray(a), (size, *np.shape(a))).copy()  # noqa: E731
    batch = jax.tree.map(tile, base)
    sched_params = None
    if kind is not None:
        owner = {"optimizer": cfg.optimizer_values, "surface": cfg.surface_values,
                 "schedule": cfg.schedule_values}[kind]()
        if name not in owner:
            raise ValueError(f"{kind} {getattr(cfg, kind)!r} has no parameter {name!r}; "
                             f"its parameters are: {', '.join(owner) or 'none'}")
        key = f"{kind}_params"
        for value in np.unique(values):  # every grid value must be valid, as in a RunConfig
            cfg.with_(**{key: {**getattr(cfg, key), name: float(value)}})
        column = np.full(size, owner[name], np.float32)
        column[:B] = values
        if kind == "optimizer":
            batch.optimizer_params[name] = column
        elif kind == "surface":
            batch.surface_params[name] = column
        else:
            sched_params = [{**cfg.schedule_params, name: float(v)} for v in values]
            if get_schedule(cfg.schedule).needs_loss:
                batch.plateau_params[name] = column
    rows = _rate_rows(cfg, lrs, length, sched_params)
    batch = batch._replace(lrs=np.concatenate([rows, np.repeat(rows[:1], size - B, axis=0)]))
    batch = jax.tree.map(jnp.asarray, batch)
    out = core.run_batch(cfg.surface, cfg.optimizer, get_schedule(cfg.schedule).needs_loss, batch)
    n = cfg.steps
    out = core.Outputs(*(np.asarray(a) for a in out))
    _, grads, hessians, _ = core.curvature_batch(cfg.surface, out.points[:, n : n + 1],
                                                 batch.surface_params)
    out = core.Outputs(*(a[:B] for a in out))
    final_grad, final_hessian = np.asarray(grads)[:B, 0], np.asarray(hessians)[:B, 0]
    ok = out.ok[:, :n]
    first_bad = np.where(ok.all(axis=1), -1, np.argmin(ok, axis=1) + 1)
    arrays = dict(points=out.points[:, : n + 1], losses=out.losses[:, : n + 1],
                  diverged_at=first_bad)
    if kind == "surface":
        # each run may have its own minima: classify one by one
        regimes = []
        for k in range(B):
            params = {**cfg.surface_values(), name: float(values[k])}
            regimes += diagnose.classify_batch(
                get_surface(cfg.surface), params, arrays["points"][k : k + 1],
                arrays["losses"][k : k + 1], first_bad[k : k + 1], final_grad[k : k + 1],
                final_hessian[k : k + 1], cfg.noise).regimes
    else:
        regimes = diagnose.classify_batch(
            get_surface(cfg.surface), cfg.surface_values(), arrays["points"], arrays["losses"],
            first_bad, final_grad, final_hessian, cfg.noise).regimes
    return arrays, regimes


def lr_sweep(cfg: RunConfig, lrs: Sequence[float] | np.ndarray) -> SweepResult:
    """One independent run per learning rate (same everything else), in one vmapped batch.

    The suggestion follows `theory.suggest_lr`: the log-middle of the longest stretch of rates
    whose runs neither diverged nor oscillated and ended (on a log scale) close to the best one.
    """
    lrs = _check_lrs(lrs)
    arrays, regimes = _run_grid(cfg, lrs)
    final = arrays["losses"][:, -1].astype(float)
    usable = [g not in (Regime.DIVERGED, Regime.OSCILLATING) for g in regimes]
    initial = float(arrays["losses"][0, 0])
    return SweepResult(
        config=cfg, lrs=lrs, final_losses=final, regimes=regimes,
        diverged_at=[None if d < 0 else int(d) for d in arrays["diverged_at"]],
        suggested_lr=suggest_lr(lrs, final, usable, initial,
                                floor=get_surface(cfg.surface).global_min_value(
                                    cfg.surface_values())),
        initial_loss=initial,
    )


@dataclass(frozen=True, eq=False)
class PhaseMap:
    """Regimes over a grid: ``regimes[i][j]`` is the run with ``values[i]`` and ``lrs[j]``."""

    config: RunConfig
    kind: str
    name: str
    lrs: np.ndarray
    values: np.ndarray
    final_losses: np.ndarray  # (len(values), len(lrs))
    regimes: list[list[Regime]]


def phase_map(cfg: RunConfig, lrs: Sequence[float], kind: str, name: str,
              values: Sequence[float]) -> PhaseMap:
    """Regime of every (parameter value, learning rate) pair, all in one vmapped batch.

    ``kind`` is ``"optimizer"``, ``"schedule"`` or ``"surface"`` and ``name`` one of its
    parameters, e.g. ``phase_map(cfg, lrs, "optimizer", "momentum", [0, 0.5, 0.9])``.
    """
    lrs = _check_lrs(lrs)
    values = np.asarray(values, float).ravel()
    if kind not in ("optimizer", "schedule", "surface"):
        raise ValueError(f"kind must be 'optimizer', 'schedule' or 'surface', got {kind!r}")
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("phase_map needs at least one finite parameter value")
    grid_lrs = np.tile(lrs, values.size)
    grid_values = np.repeat(values, lrs.size)
    arrays, regimes = _run_grid(cfg, grid_lrs, kind, name, grid_values)
    shape = (values.size, lrs.size)
    return PhaseMap(
        config=cfg, kind=kind, name=name, lrs=lrs, values=values,
        final_losses=arrays["losses"][:, -1].astype(float).reshape(shape),
        regimes=[regimes[i * lrs.size : (i + 1) * lrs.size] for i in range(values.size)],
    )


def _check_lrs(lrs) -> np.ndarray:
    lrs = np.asarray(lrs, dtype=float).ravel()
    if lrs.size == 0:
        raise ValueError("a sweep needs at least one learning rate")
    for lr in np.unique(lrs):  # the same range as a RunConfig's lr (spec.LR_VALID)
        check_lr(lr, "every learning rate in a sweep must be valid: lr")
    return lrs
