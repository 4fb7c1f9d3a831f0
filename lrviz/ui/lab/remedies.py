"""One-click remedies: what a practitioner would try next, offered only when it really helps.

Pure logic (no streamlit). For a run, `candidates` proposes the usual fixes for its regime (halve
the rate, warm up, momentum, decay, more steps, noise, ...). `remedies` then *runs* every
candidate — all of them in one `lrviz.simulate_many` call, batched with vmap where they share a
structure — and keeps a candidate only if its run is better by this rule (`helps`):

* the regime improves (ranked by `TIER`: converged, then overshooting, then slow / local minimum,
  then stuck / oscillating, then diverged) and the final loss gap to the global minimum does not
  grow (a diverged run's frozen loss is no yardstick, so any non-diverged outcome beats it); or
* the regime is no worse and the final loss gap shrinks by at least `LOSS_FACTOR`; or
* from a local minimum: the run ends in another basin (final points farther apart than 1% of the
  domain, the engine's "near") whose loss is lower, with a regime no worse.

Each offered remedy carries ``effect``: what the engine measured, in numbers
("momentum 0.9: converged by step 85 instead of diverging at step 7").
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import NEAR, Regime
from lrviz.engine.optimizers import get_optimizer
from lrviz.engine.simulate import Run, simulate_many
from lrviz.engine.surfaces import get_surface
from lrviz.ui.urlstate import LR_RANGE, NOISE_RANGE, STEPS_RANGE

MOMENTUM = 0.9
LOSS_FACTOR = 10.0  # "the final loss drops by a factor": at least this much
TIER: dict[Regime, int] = {  # lower is better
    Regime.CONVERGED: 0,
    Regime.OVERSHOOTING: 1,
    Regime.SLOW: 2,
    Regime.LOCAL_MINIMUM: 2,
    Regime.STUCK: 3,
    Regime.OSCILLATING: 3,
    Regime.DIVERGED: 4,
}


@dataclass(frozen=True)
class Remedy:
    key: str  # stable id (widget keys, tests)
    label: str  # the button text
    why: str  # one sentence, shown as the button's help
    changes: dict[str, Any] = field(default_factory=dict)
    short: str = ""  # the change in a few words ("momentum 0.9", "lr 0.0015")
    effect: str = ""  # what the engine measured when it ran the remedy (set by `remedies`)

    def apply(self, cfg: RunConfig) -> RunConfig:
        return cfg.with_(**self.changes)


# --- candidates ------------------------------------------------------------------------------


def _scale_lr(cfg: RunConfig, factor: float, label: str, why: str, key: str) -> list[Remedy]:
    lr = float(f"{cfg.lr * factor:.6g}")
    if not LR_RANGE[0] <= lr <= LR_RANGE[1]:
        return []
    return [Remedy(key, label, why, {"lr": lr}, f"lr {lr:g}")]


def _momentum(cfg: RunConfig, why: str) -> list[Remedy]:
    """Switch to the registry's momentum variant of this optimizer, if it has one; ``{limit}``
    in ``why`` becomes that variant's stability rule at μ = MOMENTUM ('2 + 2μ = 3.8')."""
    target = get_optimizer(cfg.optimizer).with_momentum
    if target is None:
        return []
    spec = get_optimizer(target)
    limit = f"{spec.stability_rule} = {spec.stability_factor({'momentum': MOMENTUM}):.1f}"
    return [Remedy("momentum", f"Switch on momentum (μ = {MOMENTUM})", why.format(limit=limit),
                   {"optimizer": target, "optimizer_params": {"momentum": MOMENTUM}},
                   f"momentum {MOMENTUM:g}")]


def _noise(cfg: RunConfig, why: str) -> list[Remedy]:
    if cfg.noise != 0:
        return []
    sigma = min(0.5, NOISE_RANGE[1])
    return [Remedy("noise", f"Add gradient noise (σ = {sigma:g})", why, {"noise": sigma},
                   f"noise σ = {sigma:g} (seed {cfg.seed})")]


def candidates(run: Run) -> list[Remedy]:
    """The usual fixes for this run's regime, not yet checked (`remedies` checks them)."""
    cfg, regime = run.config, run.regime
    out: list[Remedy] = []
    if regime in (Regime.DIVERGED, Regime.OSCILLATING, Regime.OVERSHOOTING):
        out += _scale_lr(cfg, 0.5, "Halve the learning rate", "Halving lr halves "
                         "lr × λ_max, the quantity that must stay below the limit.", "halve")
    if regime is Regime.DIVERGED and cfg.schedule == "constant":
        warm = max(5, min(50, cfg.steps // 5))
        out.append(Remedy(
            "warmup", f"Add warmup ({warm} steps)", "Warmup starts at 1% of lr, so the "
            "first steps cannot overshoot while the run is still on steep ground.",
            {"schedule": "warmup_cosine",
             "schedule_params": {"warmup_steps": warm, "start_factor": 0.01}},
            f"{warm} warmup steps"))
    if regime in (Regime.DIVERGED, Regime.OSCILLATING):
        out += _momentum(cfg, "Heavy-ball momentum is stable up to lr × λ_max < {limit} on a "
                         "quadratic, not just 2.")
    if regime is Regime.OSCILLATING and cfg.schedule == "constant":
        out.append(Remedy("cosine", "Decay the rate (cosine)", "A decaying schedule brings the "
                          "rate below 2/λ_max near the minimum, so the bouncing dies out.",
                          {"schedule": "cosine", "schedule_params": {}}, "cosine decay"))
    if regime is Regime.SLOW:
        out += _scale_lr(cfg, 2.0, "Double the learning rate", "The run is still descending "
                         "steadily: longer steps cover the distance sooner.", "double")
        out += _momentum(cfg, "Momentum accumulates speed along the flat direction that plain "
                         "gradient descent crawls along.")
        if cfg.steps * 2 <= STEPS_RANGE[1]:
            out.append(Remedy("more-steps", "Double the steps", "Give the run the time it needs.",
                              {"steps": cfg.steps * 2}, f"{cfg.steps * 2} steps"))
    if regime is Regime.STUCK:
        kind = run.facts.stuck_kind
        if kind == "saddle":
            out += _noise(cfg, "Noise pushes the run off the ridge of the saddle, and the "
                          "descent takes over.")
        elif kind == "plateau" and not get_optimizer(cfg.optimizer).adaptive:
            out.append(Remedy("adam", "Switch to Adam", "Adam divides the step by the gradient's "
                              "own size, so a tiny slope still gives steps of about lr.",
                              {"optimizer": "adam", "optimizer_params": {}}, "Adam"))
        elif kind == "stalled" and cfg.schedule != "constant":
            out.append(Remedy("constant", "Use a constant rate", "The schedule has shrunk the "
                              "rate to almost nothing; a constant rate keeps moving.",
                              {"schedule": "constant", "schedule_params": {}}, "constant rate"))
    if regime is Regime.LOCAL_MINIMUM:
        out += _momentum(cfg, "Accumulated speed can carry the run over a low ridge into a "
                         "deeper basin.")
        out += _scale_lr(cfg, 10.0, "Take larger steps (10 × lr)", "A step longer than the "
                         "basin is wide can jump out of it; which basin it lands in is up to "
                         "the surface.", "bigger")
        out += _noise(cfg, "Noisy steps can hop out of a shallow basin.")
    return out


# --- checking them ---------------------------------------------------------------------------


def _gap(run: Run) -> float:
    """Final loss minus the global minimum value (inf when the loss is not finite)."""
    cfg = run.config
    gap = run.final_loss - get_surface(cfg.surface).global_min_value(cfg.surface_values())
    return gap if math.isfinite(gap) else math.inf


def _other_basin(before: Run, after: Run) -> bool:
    (x0, y0), (x1, y1) = before.final_point, after.final_point
    apart = math.hypot(x1 - x0, y1 - y0) > NEAR * get_surface(before.config.surface).scale
    return apart and after.final_loss < before.final_loss


def helps(before: Run, after: Run) -> bool:
    """Whether ``after`` (a remedy applied to ``before``) is better by the module's rule."""
    tb, ta = TIER[before.regime], TIER[after.regime]
    if ta > tb or after.regime is Regime.DIVERGED:
        return False
    gb, ga = _gap(before), _gap(after)
    if ta < tb and (before.regime is Regime.DIVERGED or ga <= gb):
        return True
    if ga * LOSS_FACTOR <= gb:
        return True
    return before.regime is Regime.LOCAL_MINIMUM and _other_basin(before, after)


def outcome(run: Run, *, instead: bool = False) -> str:
    """How a run ended, with its numbers: "converged by step 143", "diverged at step 7".

    ``instead``: the form that follows "instead of" ("diverging at step 7").
    """
    arrival = run.facts.arrival_step
    if not (isinstance(arrival, int) and arrival <= run.config.steps):
        arrival = None  # it never settled within the steps (arrival_step is then steps + 1)
    loss = f"loss {run.final_loss:.3g}"
    converged = "converging" if instead else "converged"
    if run.regime is Regime.DIVERGED:
        verb = "diverging" if instead else "diverged"
        return (f"{verb} at step {run.diverged_at}" if run.diverged_at is not None
                else f"{verb} (loss growing, {loss})")
    if run.regime is Regime.CONVERGED:
        return f"{converged} by step {arrival}" if arrival is not None else f"{converged} ({loss})"
    if run.regime is Regime.OVERSHOOTING:
        return (f"{converged} by step {arrival}, zig-zagging" if arrival is not None
                else f"still zig-zagging in at {loss}")
    if instead:
        return {Regime.LOCAL_MINIMUM: f"settling in a local minimum at {loss}",
                Regime.SLOW: f"still descending at {loss}",
                Regime.STUCK: f"staying stuck at {loss}",
                Regime.OSCILLATING: f"bouncing at {loss}"}[run.regime]
    return {Regime.LOCAL_MINIMUM: f"settled in a local minimum at {loss}",
            Regime.SLOW: f"still descending at {loss} when the steps ran out",
            Regime.STUCK: f"stuck at {loss}",
            Regime.OSCILLATING: f"kept bouncing at {loss}"}[run.regime]


def effect(remedy: Remedy, before: Run, after: Run) -> str:
    """One line: the change, what it did, and what the original run did instead."""
    return f"{remedy.short}: {outcome(after)} instead of {outcome(before, instead=True)}"


_CACHE: OrderedDict[str, tuple[tuple[Remedy, ...], tuple[Remedy, ...]]] = OrderedDict()
_CACHE_SIZE = 64  # bounded: the lab asks again on every rerun
_LOCK = threading.Lock()


def _checked(run: Run) -> tuple[tuple[Remedy, ...], tuple[Remedy, ...]]:
    """(the candidates that help, the ones that do not), each with its measured effect."""
    options = candidates(run)
    tried = simulate_many([r.apply(run.config) for r in options])  # one batched engine call
    helped: list[Remedy] = []
    failed: list[Remedy] = []
    for remedy, after in zip(options, tried, strict=True):
        if helps(run, after):
            helped.append(replace(remedy, effect=effect(remedy, run, after)))
        else:
            failed.append(replace(remedy, effect=f"{remedy.short}: {outcome(after)}"))
    return tuple(helped), tuple(failed)


def _lookup(run: Run) -> tuple[tuple[Remedy, ...], tuple[Remedy, ...]]:
    """`_checked`, cached per configuration (the engine is deterministic)."""
    key = run.config.model_dump_json()
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    found = _checked(run)
    with _LOCK:
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


def remedies(run: Run) -> list[Remedy]:
    """The remedies worth one click for this run: each was run by the engine and helps.

    A converged run needs none.
    """
    return [] if run.regime is Regime.CONVERGED else list(_lookup(run)[0])


def tried_in_vain(run: Run) -> list[Remedy]:
    """The usual fixes the engine ran for this run that did not help, with what they did."""
    return [] if run.regime is Regime.CONVERGED else list(_lookup(run)[1])
