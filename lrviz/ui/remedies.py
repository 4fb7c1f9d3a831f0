"""One-click remedies: what a practitioner would try next, given the regime of a run.

Pure logic (no streamlit): each remedy is a set of `RunConfig` changes with a one-line reason.
Remedies are offered only where the numbers say they help — momentum is suggested for a
diverging SGD run only if lr x lambda_max is below momentum's wider limit 2 + 2 mu, say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Regime
from lrviz.engine.simulate import Run
from lrviz.ui.urlstate import LR_RANGE, NOISE_RANGE, STEPS_RANGE

MOMENTUM = 0.9


@dataclass(frozen=True)
class Remedy:
    key: str  # stable id (widget keys, tests)
    label: str  # the button text
    why: str  # one sentence, shown as the button's help
    changes: dict[str, Any] = field(default_factory=dict)

    def apply(self, cfg: RunConfig) -> RunConfig:
        return cfg.with_(**self.changes)


def _scale_lr(cfg: RunConfig, factor: float, label: str, why: str, key: str) -> list[Remedy]:
    lr = cfg.lr * factor
    if not LR_RANGE[0] <= lr <= LR_RANGE[1]:
        return []
    return [Remedy(key, label, why, {"lr": float(f"{lr:.6g}")})]


def _momentum(cfg: RunConfig, why: str) -> list[Remedy]:
    if cfg.optimizer != "sgd":
        return []
    return [Remedy("momentum", f"Switch on momentum (μ = {MOMENTUM})", why,
                   {"optimizer": "momentum", "optimizer_params": {"momentum": MOMENTUM}})]


def _product(run: Run) -> float | None:
    value = run.facts.get("lr_times_lambda")
    return float(value) if isinstance(value, int | float) else None


def remedies(run: Run) -> list[Remedy]:
    """The remedies worth one click for this run (possibly none: a converged run needs none)."""
    cfg, regime = run.config, run.regime
    product = _product(run)
    out: list[Remedy] = []
    if regime in (Regime.DIVERGED, Regime.OSCILLATING, Regime.OVERSHOOTING):
        out += _scale_lr(cfg, 0.5, "Halve the learning rate", "Halving lr halves "
                         "lr × λ_max, the quantity that must stay below the limit.", "halve")
    if regime is Regime.DIVERGED and cfg.schedule == "constant":
        early = run.diverged_at is not None and run.diverged_at <= max(10, cfg.steps // 10)
        if early:
            warm = max(5, min(50, cfg.steps // 5))
            out.append(Remedy(
                "warmup", f"Add warmup ({warm} steps)", "Warmup starts at 1% of lr, so the "
                "first steps cannot overshoot while the run is still on steep ground.",
                {"schedule": "warmup_cosine",
                 "schedule_params": {"warmup_steps": warm, "start_factor": 0.01}}))
    if regime in (Regime.DIVERGED, Regime.OSCILLATING) and (
            product is None or product < 2 + 2 * MOMENTUM):
        out += _momentum(cfg, "Heavy-ball momentum is stable up to lr × λ_max < 2 + 2μ = "
                         f"{2 + 2 * MOMENTUM:.1f}, not just 2.")
    if regime is Regime.OSCILLATING and cfg.schedule == "constant":
        out.append(Remedy("cosine", "Decay the rate (cosine)", "A decaying schedule brings the "
                          "rate below 2/λ_max near the minimum, so the bouncing dies out.",
                          {"schedule": "cosine", "schedule_params": {}}))
    if regime is Regime.SLOW:
        out += _scale_lr(cfg, 2.0, "Double the learning rate", "The run is still descending "
                         "steadily: longer steps cover the distance sooner.", "double")
        out += _momentum(cfg, "Momentum accumulates speed along the flat direction that plain "
                         "gradient descent crawls along.")
        if cfg.steps * 2 <= STEPS_RANGE[1]:
            out.append(Remedy("more-steps", "Double the steps", "Give the run the time it needs.",
                              {"steps": cfg.steps * 2}))
    if regime is Regime.STUCK:
        kind = run.facts.get("stuck_kind")
        if kind == "saddle" and cfg.noise == 0:
            out.append(Remedy("noise", "Add gradient noise (σ = 0.5)", "Noise pushes the run "
                              "off the ridge of the saddle, and the descent takes over.",
                              {"noise": min(0.5, NOISE_RANGE[1])}))
        elif kind == "plateau" and cfg.optimizer != "adam":
            out.append(Remedy("adam", "Switch to Adam", "Adam divides the step by the gradient's "
                              "own size, so a tiny slope still gives steps of about lr.",
                              {"optimizer": "adam", "optimizer_params": {}}))
        elif kind == "stalled" and cfg.schedule != "constant":
            out.append(Remedy("constant", "Use a constant rate", "The schedule has shrunk the "
                              "rate to almost nothing; a constant rate keeps moving.",
                              {"schedule": "constant", "schedule_params": {}}))
    if regime is Regime.LOCAL_MINIMUM:
        out += _momentum(cfg, "Accumulated speed can carry the run over a low ridge into a "
                         "deeper basin.")
        if cfg.noise == 0:
            out.append(Remedy("noise", "Add gradient noise (σ = 0.5)", "Noisy steps can hop out "
                              "of a shallow basin.", {"noise": 0.5}))
    return out
