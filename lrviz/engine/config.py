"""`RunConfig`: everything that determines one optimizer trajectory, validated by pydantic."""

from __future__ import annotations

import math
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from lrviz.engine.optimizers import get_optimizer
from lrviz.engine.schedules import get_schedule
from lrviz.engine.spec import MAX_STEPS
from lrviz.engine.surfaces import get_surface


class RunConfig(BaseModel):
    """One run: surface, optimizer, learning rate, schedule, start point and budget.

    Unknown names, unknown parameter names and non-finite numbers raise a ``ValueError`` (a
    pydantic ``ValidationError``) that says which field is wrong. ``start=None`` means the
    surface's default start point. The learning rate ``lr`` is the base rate ``eta_0`` that the
    schedule shapes (the peak rate for one-cycle and cyclic schedules).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    surface: str = "rosenbrock"
    optimizer: str = "adam"
    lr: float = Field(0.01, gt=0, allow_inf_nan=False)
    schedule: str = "constant"
    start: tuple[float, float] | None = None
    steps: int = Field(300, ge=1, le=MAX_STEPS)
    surface_params: dict[str, float] = Field(default_factory=dict)
    optimizer_params: dict[str, float] = Field(default_factory=dict)
    schedule_params: dict[str, float] = Field(default_factory=dict)
    noise: float = Field(0.0, ge=0, allow_inf_nan=False)
    seed: int = Field(0, ge=0, lt=2**31)

    @field_validator("surface", "optimizer", "schedule")
    @classmethod
    def _known_name(cls, v: str, info: ValidationInfo) -> str:
        getter = {"surface": get_surface, "optimizer": get_optimizer,
                  "schedule": get_schedule}[info.field_name]
        return getter(v).name

    @field_validator("start")
    @classmethod
    def _finite_start(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not all(math.isfinite(c) for c in v):
            raise ValueError(f"start must be two finite numbers, got {v}")
        return v

    @model_validator(mode="after")
    def _known_params(self) -> RunConfig:
        get_surface(self.surface).resolve(self.surface_params)
        get_optimizer(self.optimizer).resolve(self.optimizer_params)
        get_schedule(self.schedule).resolve(self.schedule_params)
        return self

    # --- resolved views (defaults filled in) ---------------------------------------------

    @property
    def start_point(self) -> tuple[float, float]:
        return self.start if self.start is not None else get_surface(self.surface).default_start

    def surface_values(self) -> dict[str, float]:
        return get_surface(self.surface).resolve(self.surface_params)

    def optimizer_values(self) -> dict[str, float]:
        return get_optimizer(self.optimizer).resolve(self.optimizer_params)

    def schedule_values(self) -> dict[str, float]:
        return get_schedule(self.schedule).resolve(self.schedule_params)

    def with_(self, **changes: Any) -> RunConfig:
        """A validated copy with some fields changed.

        Changing the surface, optimizer or schedule keeps only the old parameters that the new
        one also has (so ``cfg.with_(optimizer="sgd")`` works after Adam's ``beta1``).
        """
        data = {**self.model_dump(), **changes}
        for kind, getter in (("surface", get_surface), ("optimizer", get_optimizer),
                             ("schedule", get_schedule)):
            key = f"{kind}_params"
            if kind in changes and key not in changes:
                names = {p.name for p in getter(data[kind]).params}
                data[key] = {k: v for k, v in data[key].items() if k in names}
        return RunConfig(**data)
