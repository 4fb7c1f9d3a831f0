"""Shared building blocks of the registries: tunable parameters and their ranges."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Param:
    """One tunable number of a surface, optimizer or schedule.

    ``name`` is the stable key used in `RunConfig` dicts and in the URL, ``low``/``high`` the
    range a slider offers, ``log`` whether that slider is logarithmic and ``integer`` whether
    the value counts something (steps, a period).
    """

    name: str
    default: float
    low: float
    high: float
    label: str
    help: str = ""
    log: bool = False
    integer: bool = False

    def clamp(self, value: float) -> float:
        """The value moved into ``[low, high]`` (rounded when the parameter is an integer)."""
        value = min(max(float(value), self.low), self.high)
        return float(round(value)) if self.integer else value


def resolve_params(
    kind: str, name: str, specs: tuple[Param, ...], given: Mapping[str, float] | None
) -> dict[str, float]:
    """Defaults overridden by ``given``; unknown names and non-finite values raise ValueError.

    Values outside a parameter's slider range are accepted (the engine handles them); only names
    and finiteness are checked so that notebooks can explore beyond the UI's ranges.
    """
    given = dict(given or {})
    known = {p.name for p in specs}
    unknown = sorted(set(given) - known)
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise ValueError(
            f"{kind} {name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are: {expected}"
        )
    out: dict[str, float] = {}
    for p in specs:
        value = given.get(p.name, p.default)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{kind} {name!r} parameter {p.name!r} must be a number, got {value!r}"
            ) from None
        if not math.isfinite(value):
            raise ValueError(f"{kind} {name!r} parameter {p.name!r} must be finite, got {value}")
        out[p.name] = float(round(value)) if p.integer else value
    return out


# Step counts are padded up to one of these lengths, so a few compiled shapes serve every run.
STEP_BUCKETS: tuple[int, ...] = (50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000)
MAX_STEPS: int = STEP_BUCKETS[-1]


def step_bucket(steps: int) -> int:
    """The smallest bucket length that holds ``steps`` updates."""
    for bucket in STEP_BUCKETS:
        if steps <= bucket:
            return bucket
    raise ValueError(f"steps must be at most {MAX_STEPS}, got {steps}")


def batch_bucket(size: int) -> int:
    """Batches are padded to a power of two (at least 1) for the same reason."""
    return 1 << max(0, (int(size) - 1).bit_length())


def lookup(registry: Mapping[str, T], kind: str, name: str | T) -> T:
    """``registry[name]`` (an entry passes through); unknown names raise a ValueError that
    lists the valid ones."""
    if not isinstance(name, str):
        return name
    try:
        return registry[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; choose one of: {', '.join(registry)}") from None
