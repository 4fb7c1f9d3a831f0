"""Course content graded by the network engine (`lrviz.nets`).

* A predict-then-run question may describe a network run (`NetRunSpec`: ``dataset`` instead of
  ``surface``); its answer is the regime `lrviz.nets.train` produces.
* A lesson example may link a network preset (``lrviz.nets.presets``); its ``expect`` is checked
  against that preset's run.
* A checked claim (a number in the prose) may be about a network run; `net_claim_value`
  measures it.

This module does not import `lrviz.learning.schema` (the schema imports it), so the spec is a
plain pydantic model and the network engine is imported only when a run is needed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lrviz.engine.diagnose import Regime


class NetRunSpec(BaseModel):
    """`lrviz.nets.NetConfig` fields for a network-graded question (validated by the engine)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str
    hidden: tuple[int, ...] = (32,)
    activation: Literal["tanh", "relu"] = "tanh"
    loss: Literal["cross_entropy", "mse"] = "cross_entropy"
    optimizer: str = "sgd"
    lr: float = 0.1
    schedule: str = "constant"
    steps: int = 300
    batch_size: int | None = None
    weight_decay: float = 0.0
    seed: int = 0
    optimizer_params: dict[str, float] = Field(default_factory=dict)
    schedule_params: dict[str, float] = Field(default_factory=dict)
    sharpness_every: int = 0

    @model_validator(mode="after")
    def _valid_config(self) -> NetRunSpec:
        self.to_net_config()
        return self

    def to_net_config(self):
        from lrviz.nets import NetConfig

        return NetConfig(**self.model_dump())

    @property
    def noise(self) -> float:
        """No injected gradient noise (the 2-D runs' ``noise``): a network run is fixed by its
        config, seed included, so checks that rerun noisy questions over seeds skip it."""
        return 0.0


@dataclass(frozen=True)
class NetPrediction:
    """What grading needs from a network run: the regime and the engine's explanation.

    ``config`` is None so that pages which draw 2-D runs next to a graded answer do not try
    to draw this one; ``net_config`` is the network run for pages that can show it.
    """

    regime: Regime
    explanation: str
    net_config: Any
    config: None = None


def is_net_run(spec: Any) -> bool:
    return isinstance(spec, NetRunSpec)


@functools.lru_cache(maxsize=32)
def _net_run(config_json: str):
    """A network run by its config as JSON (cached per process: lessons and checks reuse them)."""
    from lrviz.nets import NetConfig, train

    return train(NetConfig.model_validate_json(config_json))


def net_predict_run(spec: NetRunSpec) -> NetPrediction:
    """The network run a predict question describes; its regime is the correct answer."""
    cfg = spec.to_net_config()
    run = _net_run(cfg.model_dump_json())
    return NetPrediction(run.regime, run.explanation, cfg)


# --- network presets linked from lessons ------------------------------------------------------


def net_presets() -> Mapping:
    try:
        from lrviz.nets.presets import PRESETS
    except ImportError:
        return {}
    return PRESETS


def is_net_preset(preset_id: str) -> bool:
    return preset_id in net_presets()


def check_net_example(lesson_id: str, example: Any) -> list[str]:
    """Problems with a lesson example that links a network preset (empty when it holds)."""
    preset = net_presets().get(example.preset)
    if preset is None:
        return [f"{lesson_id}: example {example.title!r} links unknown network preset "
                f"{example.preset!r}"]
    runs = preset.runs()
    if not 0 <= example.run < len(runs):
        return [f"{lesson_id}: example {example.title!r}: network preset {example.preset!r} has "
                f"{len(runs)} run(s), no run {example.run}"]
    if example.expect is None:
        return []
    result = _net_run(runs[example.run][1].model_dump_json())
    if result.regime != example.expect:
        return [f"{lesson_id}: example {example.title!r} claims {example.expect.value} but "
                f"network preset {example.preset!r} run {example.run} is {result.regime.value}"]
    return []


# --- checked claims about network runs ----------------------------------------------------------

# The claim quantities (`schema.CLAIM_QUANTITIES`) that mean something for a network run.
NET_CLAIM_QUANTITIES = ("final_loss", "diverged_at", "loss_at_step", "lambda_at_step",
                        "mean_loss_tail", "max_loss_tail", "min_loss_tail")


def net_quantity(run: Any, quantity: str, at: float | None = None) -> float:
    """One number measured on a network run, with the 2-D claims' meaning: ``loss_at_step`` is
    the training loss after ``at`` updates, ``lambda_at_step`` the sharpness measured at step
    ``at`` (the spec must measure it there: ``sharpness_every`` divides ``at``)."""
    losses = run.train_loss
    if quantity == "final_loss":
        return float(losses[-1])
    if quantity == "diverged_at":
        return float("nan") if run.diverged_at is None else float(run.diverged_at)
    if quantity == "loss_at_step":
        return float(losses[int(at)])
    if quantity in ("mean_loss_tail", "max_loss_tail", "min_loss_tail"):
        reduce = {"mean_loss_tail": np.mean, "max_loss_tail": np.max, "min_loss_tail": np.min}
        return float(reduce[quantity](losses[-int(at):]))
    if quantity == "lambda_at_step":
        hit = np.flatnonzero(run.sharpness_steps == int(at))
        if not hit.size:
            raise ValueError(f"the network run measured no sharpness at step {int(at)}; set "
                             f"sharpness_every to a divisor of it")
        return float(run.sharpness[hit[0]])
    raise ValueError(f"claim quantity {quantity!r} is not available for network runs; use one "
                     f"of {', '.join(NET_CLAIM_QUANTITIES)}")


def net_claim_value(claim: Any) -> float:
    """A claimed number about a network run (the claim's ``run``, or run ``preset_run`` of the
    network preset ``preset``), measured with the engine; the median over seeds
    0..seeds-1 when ``seeds > 1``."""
    if claim.run is not None:
        cfg = claim.run.to_net_config()
    else:
        runs = net_presets()[claim.preset].runs()
        if claim.preset_run >= len(runs):
            raise ValueError(f"claim {claim.id!r}: network preset {claim.preset!r} has "
                             f"{len(runs)} run(s), no run {claim.preset_run}")
        cfg = runs[claim.preset_run][1]
    cfgs = [cfg] if claim.seeds == 1 else [cfg.with_(seed=s) for s in range(claim.seeds)]
    values = [net_quantity(_net_run(c.model_dump_json()), claim.quantity, claim.at)
              for c in cfgs]
    return float(values[0] if len(values) == 1 else np.median(values))
