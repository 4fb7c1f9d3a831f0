"""`RunConfig`: everything that determines one optimizer trajectory, validated by pydantic."""

from __future__ import annotations

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
from lrviz.engine.registry import KINDS, get_entry
from lrviz.engine.schedules import get_schedule
from lrviz.engine.spec import (
    NOISE_VALID,
    SEED_VALID,
    Param,
    as_number,
    check_lr,
    check_range,
    check_steps,
)
from lrviz.engine.surfaces import get_surface


class RunConfig(BaseModel):
    """One run: surface, optimizer, learning rate, schedule, start point and budget.

    Unknown names, unknown parameter names and numbers outside their valid ranges raise a
    ``ValueError`` (a pydantic ``ValidationError``) that names the field, the value and the
    range: every surface/optimizer/schedule parameter has its ``Param.valid`` range, ``lr`` lies
    in ``spec.LR_VALID``, ``steps`` in ``[1, MAX_STEPS]``, ``noise`` and ``seed`` in
    ``spec.NOISE_VALID``/``SEED_VALID``, and ``start`` in the surface's ``start_box``.
    ``start=None`` means the surface's default start point. The learning rate ``lr`` is the
    base rate ``eta_0`` that the schedule shapes (the peak rate for one-cycle and cyclic
    schedules).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    surface: str = "rosenbrock"
    optimizer: str = "adam"
    lr: float = 0.01
    schedule: str = "constant"
    start: tuple[float, float] | None = None
    steps: int = 300
    surface_params: dict[str, float] = Field(default_factory=dict)
    optimizer_params: dict[str, float] = Field(default_factory=dict)
    schedule_params: dict[str, float] = Field(default_factory=dict)
    noise: float = 0.0
    seed: int = 0

    @field_validator("surface", "optimizer", "schedule")
    @classmethod
    def _known_name(cls, v: str, info: ValidationInfo) -> str:
        return get_entry(info.field_name, v).name

    # "before" validators see the raw input, so inf, nan, huge integers and non-integral
    # counts get the same clear message as any other out-of-range value.
    @field_validator("lr", mode="before")
    @classmethod
    def _valid_lr(cls, v: Any) -> float:
        return check_lr(v)

    @field_validator("steps", mode="before")
    @classmethod
    def _valid_steps(cls, v: Any) -> int:
        return check_steps(v)

    @field_validator("noise", mode="before")
    @classmethod
    def _valid_noise(cls, v: Any) -> float:
        return check_range("noise", v, NOISE_VALID)

    @field_validator("seed", mode="before")
    @classmethod
    def _valid_seed(cls, v: Any) -> int:
        return int(check_range("seed", v, SEED_VALID, integer=True))

    @field_validator("start", mode="before")
    @classmethod
    def _start_numbers(cls, v: Any) -> Any:
        # Two numbers (huge integers as inf); the box check needs the surface, so it runs in
        # _known_params.
        if v is None:
            return v
        if isinstance(v, str | bytes) or not hasattr(v, "__len__") or len(v) != 2:
            raise ValueError(f"start must be two numbers (x, y), got {v!r:.60}")
        return tuple(as_number(c, "start") for c in v)

    @field_validator("surface_params", "optimizer_params", "schedule_params", mode="before")
    @classmethod
    def _huge_ints_as_inf(cls, v: Any) -> Any:
        # An integer beyond float range becomes inf here, so the parameter's own range check
        # (in _known_params) names it, instead of a bare "not a valid number".
        if isinstance(v, dict):
            return {k: as_number(x, repr(k)) if isinstance(x, int) else x for k, x in v.items()}
        return v

    @model_validator(mode="after")
    def _known_params(self) -> RunConfig:
        if self.start is not None:
            get_surface(self.surface).check_point(self.start, "start")
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

    def values(self, kind: str) -> dict[str, float]:
        """The resolved parameters of the run's ``kind`` component (see `registry.KINDS`)."""
        return get_entry(kind, getattr(self, kind)).resolve(getattr(self, f"{kind}_params"))

    def with_(self, **changes: Any) -> RunConfig:
        """A validated copy with some fields changed.

        Changing the surface, optimizer or schedule keeps only the old parameters that the new
        one also has and that are valid for it (so ``cfg.with_(optimizer="sgd")`` works after
        Adam's ``beta1``, and a heavy-ball momentum of 0 gives way to Nesterov's default, since
        Nesterov needs momentum > 0).
        """
        data = {**self.model_dump(), **changes}
        for kind in KINDS:
            key = f"{kind}_params"
            if kind in changes and key not in changes:
                params = {p.name: p for p in get_entry(kind, data[kind]).params}
                data[key] = {k: v for k, v in data[key].items()
                             if k in params and _is_valid(params[k], v)}
        return RunConfig(**data)


def _is_valid(param: Param, value: float) -> bool:
    try:
        param.check(value)
    except ValueError:
        return False
    return True
