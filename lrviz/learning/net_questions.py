"""Course content graded by the network engine (`lrviz.nets`).

* A predict-then-run question may describe a network run (`NetRunSpec`: ``dataset`` instead of
  ``surface``); its answer is the regime `lrviz.nets.train` produces.
* A lesson example may link a network preset (``lrviz.nets.presets``); its ``expect`` is checked
  against that preset's run.

This module does not import `lrviz.learning.schema` (the schema imports it), so the spec is a
plain pydantic model and the network engine is imported only when a run is needed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

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


@functools.lru_cache(maxsize=64)
def _train_cached(config_json: str) -> NetPrediction:
    from lrviz.nets import NetConfig, train

    cfg = NetConfig.model_validate_json(config_json)
    run = train(cfg)
    return NetPrediction(run.regime, run.explanation, cfg)


def net_predict_run(spec: NetRunSpec) -> NetPrediction:
    """The network run a predict question describes (cached per process: lessons reuse them)."""
    return _train_cached(spec.to_net_config().model_dump_json())


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
    if not 0 <= example.run < len(preset.runs):
        return [f"{lesson_id}: example {example.title!r}: network preset {example.preset!r} has "
                f"{len(preset.runs)} run(s), no run {example.run}"]
    if example.expect is None:
        return []
    spec = preset.runs[example.run]
    result = _train_cached(spec.config.model_dump_json())
    if result.regime != example.expect:
        return [f"{lesson_id}: example {example.title!r} claims {example.expect.value} but "
                f"network preset {example.preset!r} run {example.run} is {result.regime.value}"]
    return []
