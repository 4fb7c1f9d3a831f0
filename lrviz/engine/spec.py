"""Shared building blocks of the registries: tunable parameters and their ranges."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def show_number(x: float) -> str:
    """A number for a message: whole numbers in full (``5000``), others in the shortest form
    that reads back exactly (``0.05``, ``1e-30``, ``1.0000000000000002``)."""
    if math.isfinite(x) and x == math.floor(x) and abs(x) < 1e16:
        return str(int(x))
    return repr(float(x))


@dataclass(frozen=True)
class Interval:
    """A range of real numbers, each end closed or open: ``Interval(0, 1, hi_open=True)`` is
    ``[0, 1)``. Infinite ends are allowed (``Interval(0, math.inf, lo_open=True)`` is x > 0)."""

    lo: float
    hi: float
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return bool(above and below)

    def __str__(self) -> str:
        return (f"{'(' if self.lo_open else '['}{show_number(self.lo)}, "
                f"{show_number(self.hi)}{')' if self.hi_open else ']'}")


@dataclass(frozen=True)
class Param:
    """One tunable number of a surface, optimizer or schedule.

    ``name`` is the stable key used in `RunConfig` dicts and in the URL, ``low``/``high`` the
    range a slider offers, ``log`` whether that slider is logarithmic and ``integer`` whether
    the value counts something (steps, a period).

    ``valid`` is the range the engine accepts at all (every entry point rejects values outside
    it with a ValueError). It comes from the math (betas in [0, 1), eps > 0, periods >= 1) and
    is never looser than PyTorch's own checks; it is wider than the slider range, which must lie
    inside it, so that notebooks can explore beyond the UI. Every parameter must declare it.
    """

    name: str
    default: float
    low: float
    high: float
    label: str
    help: str = ""
    log: bool = False
    integer: bool = False
    valid: Interval | None = None

    def __post_init__(self) -> None:
        if self.valid is None:
            raise TypeError(f"parameter {self.name!r} must declare its valid range (valid=...)")
        for what, value in (("default", self.default), ("slider low", self.low),
                            ("slider high", self.high)):
            if value not in self.valid:
                raise ValueError(f"parameter {self.name!r}: {what} {show_number(value)} is "
                                 f"outside its valid range {self.valid}")

    def clamp(self, value: float) -> float:
        """The value moved into ``[low, high]`` (rounded when the parameter is an integer)."""
        value = min(max(float(value), self.low), self.high)
        return float(round(value)) if self.integer else value

    def check(self, value: object, owner: str = "") -> float:
        """``value`` as a float if it is a valid setting of this parameter; otherwise a
        ValueError naming the parameter, the value and the valid range.

        ``owner`` (e.g. ``"schedule 'cosine'"``) prefixes the message.
        """
        who = f"{owner} parameter {self.name!r}" if owner else f"parameter {self.name!r}"
        assert self.valid is not None  # __post_init__ guarantees it
        return check_range(who, value, self.valid, integer=self.integer)


def as_number(value: object, who: str) -> float:
    """``float(value)``, with a ValueError naming ``who`` for anything that is not a number.

    An integer too large for a float becomes +-inf (so a range check reports it) instead of
    raising OverflowError.
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**1023:
        return math.inf if value > 0 else -math.inf
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise ValueError(f"{who} must be a number, got {shown}") from None


def check_range(who: str, value: object, valid: Interval, integer: bool = False) -> float:
    """``value`` as a float inside ``valid`` (and whole when ``integer``), else a ValueError
    such as ``"steps = 0 is outside its valid range [1, 5000]"``."""
    number = as_number(value, who)
    if not (math.isfinite(number) and number in valid):
        shown = show_number(number)
        if math.isinf(number) and isinstance(value, int):
            # str() of a huge int can itself fail (Python caps it at 4300 digits)
            digits = int(abs(value).bit_length() * math.log10(2)) + 1
            shown = f"{'-' if number < 0 else ''}(an integer of about {digits} digits)"
        raise ValueError(f"{who} = {shown} is outside its valid range {valid}")
    if integer and number != math.floor(number):
        raise ValueError(f"{who} = {show_number(number)} must be a whole number in {valid}")
    return number


def resolve_params(
    kind: str, name: str, specs: tuple[Param, ...], given: Mapping[str, float] | None
) -> dict[str, float]:
    """Defaults overridden by ``given``; unknown names and invalid values raise ValueError.

    Each value must lie in its parameter's ``valid`` range (wider than the slider range, so
    notebooks can explore beyond the UI); integer parameters must be whole numbers.
    """
    try:  # every run resolves its parameters several times: remember valid answers
        key = (kind, name, specs, tuple(sorted((given or {}).items(), key=lambda kv: kv[0])))
        hash(key)
    except TypeError:  # an unhashable value: check it the long way (it will be rejected)
        return _resolve(kind, name, specs, given)
    return dict(_resolve_cached(key))


@functools.lru_cache(maxsize=1024)
def _resolve_cached(key: tuple) -> tuple[tuple[str, float], ...]:
    kind, name, specs, items = key
    return tuple(_resolve(kind, name, specs, dict(items)).items())


def _resolve(kind: str, name: str, specs: tuple[Param, ...],
             given: Mapping[str, float] | None) -> dict[str, float]:
    given = dict(given or {})
    known = {p.name for p in specs}
    unknown = sorted(set(given) - known, key=str)
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise ValueError(
            f"{kind} {name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are: {expected}"
        )
    return {p.name: p.check(given.get(p.name, p.default), f"{kind} {name!r}") for p in specs}


# Step counts are padded up to one of these lengths, so a few compiled shapes serve every run.
STEP_BUCKETS: tuple[int, ...] = (50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000)
MAX_STEPS: int = STEP_BUCKETS[-1]


def step_bucket(steps: int) -> int:
    """The smallest bucket length that holds ``steps`` updates."""
    for bucket in STEP_BUCKETS:
        if steps <= bucket:
            return bucket
    raise ValueError(f"steps must be at most {MAX_STEPS}, got {steps}")


# Valid ranges of the run-level numbers (the UI's sliders offer a narrower part of each).
# lr: positive (PyTorch rejects lr < 0; a zero rate never moves) and at most 1000, far above
# any rate that is stable on these surfaces, so rates stay ordinary float32 numbers.
LR_VALID = Interval(0.0, 1e3, lo_open=True)
# The part of LR_VALID the app offers (sliders, URLs, remedies, tune challenges): the one copy.
LR_RANGE: tuple[float, float] = (1e-5, 10.0)
STEPS_VALID = Interval(1, MAX_STEPS)
# noise: the standard deviation of the Gaussian added to each gradient.
NOISE_VALID = Interval(0.0, 100.0)
SEED_VALID = Interval(0, 2**31 - 1)


def check_lr(lr: object, who: str = "the learning rate lr") -> float:
    """``lr`` as a float in `LR_VALID`, else a ValueError naming it and the range."""
    return check_range(who, lr, LR_VALID)


def check_steps(steps: object) -> int:
    """``steps`` as an int in ``[1, MAX_STEPS]``; non-integers, inf and huge values raise
    ValueError (never OverflowError)."""
    return int(check_range("steps", steps, STEPS_VALID, integer=True))


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
