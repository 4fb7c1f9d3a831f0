"""Learning-rate schedules built on optax, with the values of ``torch.optim.lr_scheduler``.

Indexing follows the usual PyTorch loop (``optimizer.step(); scheduler.step()``): update ``t``
(counting from 0) uses the scheduler's value at ``last_epoch = t``, which is optax's
``schedule(count)`` with ``count = t``. ``T`` is the number of updates in the run.

Schedules that only depend on the step are evaluated eagerly into an array (a few eager jnp ops,
~0.1 ms), which the compiled simulation reads as a traced input: a new schedule parameter never
recompiles. ``reduce_on_plateau`` depends on the losses, so it runs inside the simulation
(`plateau_init` / `plateau_update`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from lrviz.engine.spec import (
    LR_VALID,
    MAX_STEPS,
    Interval,
    Param,
    check_lr,
    check_steps,
    lookup,
    resolve_params,
    step_bucket,
)

ScheduleFn = Callable[[jax.Array], jax.Array]


def _constant(lr, steps, q) -> ScheduleFn:
    return optax.constant_schedule(lr)


def _step(lr, steps, q) -> ScheduleFn:
    return optax.exponential_decay(
        lr, transition_steps=int(q["step_size"]), decay_rate=q["gamma"], staircase=True
    )


def _exponential(lr, steps, q) -> ScheduleFn:
    return optax.exponential_decay(lr, transition_steps=1, decay_rate=q["gamma"])


def _inverse_time(lr, steps, q) -> ScheduleFn:
    # optax has no 1/t decay; it is one line.
    return lambda t: lr / (1.0 + q["decay"] * t)


def _cosine_length(steps: int, q) -> int:
    return int(q["T_max"]) if q["T_max"] >= 1 else steps


def _cosine(lr, steps, q) -> ScheduleFn:
    # PyTorch's CosineAnnealingLR is the closed form below for every t, also past T_max, where
    # it climbs back towards eta_0 (period 2 T_max). optax's cosine_decay_schedule holds the
    # floor after T_max instead, so it cannot be used once T_max < T.
    # The phase is reduced modulo the period first: float32 pi * t / T_max loses digits at
    # large t.
    length, floor = _cosine_length(steps, q), q["eta_min"]
    return lambda t: floor + 0.5 * (lr - floor) * (
        1.0 + jnp.cos(jnp.pi * jnp.mod(t, 2 * length) / length))


def _warmup_cosine(lr, steps, q) -> ScheduleFn:
    warmup = int(q["warmup_steps"])
    if warmup >= steps:
        # The run ends inside the warmup: PyTorch's SequentialLR never reaches the cosine, so
        # this is LinearLR alone (and at W = T, where CosineAnnealingLR(T_max=0) would divide
        # by zero, the same line).
        return optax.linear_schedule(lr * q["start_factor"], lr, transition_steps=warmup)
    return optax.warmup_cosine_decay_schedule(
        init_value=lr * q["start_factor"],
        peak_value=lr,
        warmup_steps=warmup,
        decay_steps=steps,
        end_value=q["eta_min"],
    )


def _one_cycle(lr, steps, q) -> ScheduleFn:
    # PyTorch's OneCycleLR (anneal_strategy="cos", three_phase=False): the rate rises from
    # lr/div_factor to lr until step pct_start*T - 1, then falls to lr/(div_factor*final_div_factor)
    # at step T - 1. optax's cosine_onecycle_schedule peaks at pct_start*T, so it is rebuilt from
    # two optax cosine pieces with PyTorch's phase boundaries.
    # When pct_start*T <= 1 the peak step P is not positive and PyTorch has no rising phase:
    # the fall starts from P (at P = 0 PyTorch divides 0/0 at step 0; the limit, the peak rate,
    # is used). The fall ends at T - 1 unless P >= T - 1 (pct_start >= 1), then it is one step.
    initial = lr / q["div_factor"]
    final = initial / q["final_div_factor"]
    peak = q["pct_start"] * steps - 1.0
    fall = optax.cosine_decay_schedule(lr, max(steps - 1.0 - peak, 1e-6), alpha=final / lr)
    if peak <= 0:
        return lambda t: fall(t - peak)
    rise = optax.cosine_decay_schedule(initial, peak, alpha=lr / initial)
    return lambda t: jnp.where(t <= peak, rise(t), fall(t - peak))


def _cyclic(lr, steps, q) -> ScheduleFn:
    # PyTorch's CyclicLR(mode="triangular") with max_lr = lr; optax has no triangular cycle.
    base = lr * q["base_factor"]
    size = q["step_size_up"]

    def schedule(t):
        cycle = jnp.floor(1.0 + t / (2.0 * size))
        x = jnp.abs(t / size - 2.0 * cycle + 1.0)
        return base + (lr - base) * jnp.maximum(0.0, 1.0 - x)

    return schedule


def _cosine_restarts(lr, steps, q) -> ScheduleFn:
    # CosineAnnealingWarmRestarts: cycles of T_0, T_0*T_mult, ... as optax SGDR pieces.
    # Every cycle lasts at least one step (T_0 >= 1, T_mult >= 1 are validated, and the max()
    # below holds whatever reaches here), so at most `steps` cycles cover the run: the loop
    # is bounded by the step count, never by the parameters.
    cycles, length, covered = [], max(int(q["T_0"]), 1), 0
    for _ in range(steps):
        if covered >= steps:
            break
        cycles.append(dict(init_value=lr, peak_value=lr, warmup_steps=0,
                           decay_steps=length, end_value=q["eta_min"]))
        covered += length
        length = max(int(length * q["T_mult"]), 1)
    return optax.sgdr_schedule(cycles)


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule: its optax builder, the LaTeX of its values and its parameters.

    ``torch_name`` is the ``torch.optim.lr_scheduler`` equivalent as a Python expression (the
    optimizer argument left out) in the parameters' names, ``lr`` and the run length ``T``;
    the tests evaluate it and compare every step. ``summary`` states where lrviz deliberately
    departs from it.
    """

    name: str
    title: str
    latex: str
    params: tuple[Param, ...]
    torch_name: str
    summary: str
    factory: Callable[[float, int, Mapping[str, float]], ScheduleFn]
    needs_loss: bool = False

    def resolve(self, params: Mapping[str, float] | None = None) -> dict[str, float]:
        return resolve_params("schedule", self.name, self.params, params)

    def build(self, lr: float, steps: int, params: Mapping[str, float] | None = None) -> ScheduleFn:
        """The optax schedule ``t -> eta_t`` for a run of ``steps`` updates."""
        return self.factory(check_lr(lr), check_steps(steps), self.resolve(params))


# Valid ranges (see `Param.valid`), from the math and never looser than torch.optim.lr_scheduler:
# - periods and step counts are whole numbers; a period is at least one step (StepLR,
#   CyclicLR and CosineAnnealingWarmRestarts divide by it) and at most the longest run;
# - decay factors lie in (0, 1] (a factor 0 would zero the rate for good, above 1 it grows);
# - absolute rates (eta_min, min_lr) lie in [0, lr's own upper bound].
_PERIOD = Interval(1, MAX_STEPS)
_COUNT = Interval(0, MAX_STEPS)
_DECAY = Interval(0.0, 1.0, lo_open=True)
_ABS_RATE = Interval(0.0, LR_VALID.hi)

_ETA_MIN = Param("eta_min", 0.0, 0.0, 1.0, "eta_min (floor)", log=False,
                 help="the smallest learning rate, in absolute units", valid=_ABS_RATE)

_ALL: tuple[ScheduleSpec, ...] = (
    ScheduleSpec(
        name="constant",
        title="Constant",
        latex=r"\eta_t = \eta_0",
        params=(),
        torch_name="(no scheduler)",
        summary="The same learning rate for every step.",
        factory=_constant,
    ),
    ScheduleSpec(
        name="step",
        title="Step decay",
        latex=r"\eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor}",
        params=(
            Param("step_size", 100, 1, 2000, "step size s (steps)", integer=True, valid=_PERIOD),
            Param("gamma", 0.1, 0.01, 0.99, "gamma (factor per drop)", valid=_DECAY),
        ),
        torch_name="StepLR(step_size, gamma)",
        summary="Drops the rate by a factor gamma every s steps: a staircase.",
        factory=_step,
    ),
    ScheduleSpec(
        name="exponential",
        title="Exponential decay",
        latex=r"\eta_t = \eta_0\, \gamma^{t}",
        params=(Param("gamma", 0.99, 0.9, 0.9999, "gamma (factor per step)", valid=_DECAY),),
        torch_name="ExponentialLR(gamma)",
        summary="Multiplies the rate by gamma after every step.",
        factory=_exponential,
    ),
    ScheduleSpec(
        name="inverse_time",
        title="Inverse-time (1/t) decay",
        latex=r"\eta_t = \frac{\eta_0}{1 + k\,t}",
        params=(Param("decay", 0.01, 1e-4, 1.0, "decay rate k", log=True,
                      # k < 0 would make 1 + k t cross zero: negative, then infinite rates
                      valid=Interval(0.0, 1e3)),),
        torch_name="LambdaLR(lambda t: 1 / (1 + decay * t))",
        summary="Shrinks like 1/t: the classic choice of stochastic-approximation theory.",
        factory=_inverse_time,
    ),
    ScheduleSpec(
        name="cosine",
        title="Cosine annealing",
        latex=r"\eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})"
        r"\left(1 + \cos\frac{\pi t}{T_{max}}\right)",
        params=(
            Param("T_max", 0, 0, 5000, "T_max (0 = whole run)", integer=True, valid=_COUNT),
            _ETA_MIN,
        ),
        torch_name="CosineAnnealingLR(T_max or T, eta_min)",
        summary="Glides from the starting rate to the floor along half a cosine wave over "
        "T_max steps. As in PyTorch, a T_max shorter than the run makes the rate climb back "
        "up after T_max (0 = the whole run, T).",
        factory=_cosine,
    ),
    ScheduleSpec(
        name="warmup_cosine",
        title="Linear warmup, then cosine",
        latex=r"\eta_t = \begin{cases}\eta_0\left(f + (1-f)\frac{t}{W}\right) & t < W\\"
        r"\eta_{min} + \tfrac12(\eta_0-\eta_{min})\left(1+\cos\frac{\pi (t-W)}{T-W}\right)"
        r" & t \ge W\end{cases}",
        params=(
            Param("warmup_steps", 30, 0, 2000, "warmup steps W", integer=True, valid=_COUNT),
            # LinearLR requires 0 < start_factor <= 1.
            Param("start_factor", 0.01, 0.001, 1.0, "start factor f",
                  help="the first step uses f times the peak rate", valid=_DECAY),
            _ETA_MIN,
        ),
        torch_name="SequentialLR([LinearLR(start_factor, total_iters=warmup_steps), "
        "CosineAnnealingLR(T - warmup_steps, eta_min)], milestones=[warmup_steps]) "
        "if warmup_steps < T else LinearLR(start_factor, total_iters=warmup_steps)",
        summary="Starts small and ramps up linearly, then anneals along a cosine. A warmup "
        "as long as the run (W >= T) never reaches the peak: the run ends mid-ramp.",
        factory=_warmup_cosine,
    ),
    ScheduleSpec(
        name="one_cycle",
        title="One-cycle",
        latex=r"\eta_t = \begin{cases}\mathrm{cos}(\eta_0/d,\ \eta_0,\ t/P) & t \le P\\"
        r"\mathrm{cos}(\eta_0,\ \eta_0/(d\,d_f),\ (t-P)/(T-1-P)) & t > P\end{cases},\ "
        r"P = pT - 1,\ \mathrm{cos}(a,b,u) = b + \tfrac{a-b}{2}(1 + \cos \pi u)",
        params=(
            # OneCycleLR requires 0 <= pct_start <= 1. The divisors must be positive; at least 1
            # keeps the start below the peak and the end below the start, as the name says.
            Param("pct_start", 0.3, 0.05, 0.95, "pct_start p", valid=Interval(0.0, 1.0)),
            Param("div_factor", 25.0, 1.0, 1000.0, "div_factor d", log=True,
                  valid=Interval(1.0, 1e6)),
            Param("final_div_factor", 1e4, 1.0, 1e6, "final_div_factor d_f", log=True,
                  valid=Interval(1.0, 1e8)),
        ),
        torch_name="OneCycleLR(max_lr=lr, total_steps=T, pct_start=pct_start, "
        "div_factor=div_factor, final_div_factor=final_div_factor, cycle_momentum=False)",
        summary="One big wave: warm up to the peak rate, then anneal far below the start. "
        "Unlike PyTorch's default, momentum is not cycled; where PyTorch divides by zero "
        "(pct_start x T = 1) the run starts at the peak.",
        factory=_one_cycle,
    ),
    ScheduleSpec(
        name="cyclic",
        title="Cyclic (triangular)",
        latex=r"\eta_t = \eta_b + (\eta_0 - \eta_b)\max\!\left(0,\ 1 - \left|\frac{t}{s} - "
        r"2c + 1\right|\right),\ c = \left\lfloor 1 + \frac{t}{2s}\right\rfloor,\ "
        r"\eta_b = r\,\eta_0",
        params=(
            Param("step_size_up", 50, 1, 2000, "half-cycle s (steps)", integer=True,
                  valid=_PERIOD),
            Param("base_factor", 0.1, 0.0, 1.0, "base rate / peak rate r",
                  valid=Interval(0.0, 1.0)),
        ),
        torch_name="CyclicLR(base_lr=base_factor * lr, max_lr=lr, step_size_up=step_size_up, "
        "mode='triangular', cycle_momentum=False)",
        summary="Bounces linearly between a low and a high rate.",
        factory=_cyclic,
    ),
    ScheduleSpec(
        name="cosine_restarts",
        title="Cosine with warm restarts",
        latex=r"\eta_t = \eta_{min} + \tfrac12(\eta_0-\eta_{min})\left(1+\cos\frac{\pi\, "
        r"T_{cur}}{T_i}\right),\ T_i = T_0\, T_{mult}^{\,i}",
        params=(
            # CosineAnnealingWarmRestarts requires whole numbers T_0 >= 1 and T_mult >= 1.
            Param("T_0", 50, 1, 2000, "first cycle T_0 (steps)", integer=True, valid=_PERIOD),
            Param("T_mult", 1, 1, 4, "cycle growth T_mult", integer=True,
                  valid=Interval(1, 100)),
            _ETA_MIN,
        ),
        torch_name="CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)",
        summary="Cosine annealing that jumps back to the full rate at the start of each cycle.",
        factory=_cosine_restarts,
    ),
    ScheduleSpec(
        name="reduce_on_plateau",
        title="Reduce on plateau",
        latex=r"\eta_t = \max(\eta_0\, \phi^{k_t},\ \eta_{min}),\ k_t = \text{number of "
        r"times the best loss did not improve by a factor } (1-\tau)\text{ for more than "
        r"}P\text{ steps}",
        params=(
            # ReduceLROnPlateau requires factor < 1; a relative threshold of 1 or more would
            # make every improvement impossible.
            Param("factor", 0.1, 0.01, 0.99, "factor phi",
                  valid=Interval(0.0, 1.0, lo_open=True, hi_open=True)),
            Param("patience", 10, 0, 200, "patience P (steps)", integer=True, valid=_COUNT),
            Param("threshold", 1e-4, 0.0, 0.5, "threshold tau (relative)",
                  valid=Interval(0.0, 1.0, hi_open=True)),
            Param("cooldown", 0, 0, 200, "cooldown (steps)", integer=True, valid=_COUNT),
            Param("min_lr", 0.0, 0.0, 1.0, "min_lr", valid=_ABS_RATE),
        ),
        torch_name="ReduceLROnPlateau(mode='min', factor=factor, patience=patience, "
        "threshold=threshold, threshold_mode='rel', cooldown=cooldown, min_lr=min_lr)",
        summary="Watches the loss and cuts the rate by a factor when it stops improving.",
        factory=_constant,
        needs_loss=True,
    ),
)

SCHEDULES: Mapping[str, ScheduleSpec] = {s.name: s for s in _ALL}


def get_schedule(name: str | ScheduleSpec) -> ScheduleSpec:
    """The schedule called ``name``; a clear ValueError lists the names when it is unknown."""
    return lookup(SCHEDULES, "schedule", name)


def base_values(
    name: str | ScheduleSpec, lr: float, steps: int, length: int,
    params: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Step-driven rates for updates ``0 .. length-1`` of a ``steps``-update run (float32).

    ``length`` (a padding bucket, >= steps) keeps the eager jnp shapes to a few sizes.
    For ``reduce_on_plateau`` this is the starting rate; the plateau factor is applied in the run.
    """
    fn = get_schedule(name).build(lr, steps, params)
    values = fn(jnp.arange(length, dtype=jnp.float32))
    values = np.asarray(np.broadcast_to(np.asarray(values, np.float32), (length,)))
    return np.nan_to_num(values, nan=0.0, posinf=np.finfo(np.float32).max, neginf=0.0)


# --- reduce on plateau ------------------------------------------------------------------------


class PlateauState(NamedTuple):
    """ReduceLROnPlateau's bookkeeping, as traced numbers."""

    best: jax.Array
    num_bad: jax.Array
    cooldown_left: jax.Array
    scale: jax.Array


def plateau_init() -> PlateauState:
    return PlateauState(jnp.float32(jnp.inf), jnp.int32(0), jnp.int32(0), jnp.float32(1.0))


def plateau_update(
    state: PlateauState, loss: jax.Array, lr0: jax.Array, q: Mapping[str, jax.Array]
) -> PlateauState:
    r"""One ``ReduceLROnPlateau.step(loss)`` (mode "min", threshold_mode "rel").

    Improvement means :math:`L < L_{best}(1-\tau)`; after more than ``patience`` steps without
    one, the rate becomes :math:`\max(\eta\phi, \eta_{min})` and ``cooldown`` steps follow in
    which bad steps are not counted.

    Written by hand rather than with ``optax.contrib.reduce_on_plateau``: optax checks ``factor``
    and ``rtol`` as Python floats (so they could not be traced slider values), counts patience
    one step earlier and scales the very update whose loss it just saw. The test suite checks
    this function against optax's with those differences accounted for.
    """
    improved = loss < state.best * (1.0 - q["threshold"])
    best = jnp.where(improved, loss, state.best)
    num_bad = jnp.where(improved, 0, state.num_bad + 1)
    in_cooldown = state.cooldown_left > 0
    cooldown_left = jnp.where(in_cooldown, state.cooldown_left - 1, state.cooldown_left)
    num_bad = jnp.where(in_cooldown, 0, num_bad)
    reduce = num_bad > q["patience"]
    old_lr = lr0 * state.scale
    new_lr = jnp.maximum(old_lr * q["factor"], q["min_lr"])
    # PyTorch skips reductions smaller than eps = 1e-8.
    apply = reduce & (old_lr - new_lr > 1e-8)
    scale = jnp.where(apply, new_lr / lr0, state.scale)
    cooldown_left = jnp.where(reduce, q["cooldown"].astype(jnp.int32), cooldown_left)
    num_bad = jnp.where(reduce, 0, num_bad)
    return PlateauState(best, num_bad, cooldown_left, scale)


@jax.jit
def _plateau_rates(losses: jax.Array, lr0: jax.Array, q: dict[str, jax.Array]) -> jax.Array:
    def body(state, loss):
        rate = lr0 * state.scale
        return plateau_update(state, loss, lr0, q), rate

    _, rates = jax.lax.scan(body, plateau_init(), losses)
    return rates


def plateau_values(
    lr: float, losses: np.ndarray, params: Mapping[str, float] | None = None
) -> np.ndarray:
    """Rates ReduceLROnPlateau gives when it is fed ``losses`` in turn: ``rates[t]`` is the rate
    of update t, which has seen ``losses[:t]``."""
    q = {k: jnp.float32(v) for k, v in get_schedule("reduce_on_plateau").resolve(params).items()}
    losses = jnp.asarray(np.asarray(losses, np.float32))
    return np.asarray(_plateau_rates(losses, jnp.float32(lr), q))


def schedule_values(
    name: str, lr: float, steps: int, losses: np.ndarray | None = None, **params: float
) -> np.ndarray:
    """The learning rate of each of ``steps`` updates, shape ``(steps,)``.

    ``reduce_on_plateau`` depends on the loss: pass the ``losses`` it should react to (one per
    update); without them its values are the starting rate throughout.
    """
    spec = get_schedule(name)
    lr, steps = _check_lr_steps(lr, steps)
    if spec.needs_loss and losses is not None:
        losses = np.asarray(losses, np.float32)[:steps]
        if losses.shape != (steps,):
            raise ValueError(f"losses must have one value per update ({steps}), got {losses.shape}")
        return plateau_values(lr, losses, params)
    return base_values(spec, lr, steps, step_bucket(steps), params)[:steps]


def _check_lr_steps(lr: float, steps: int) -> tuple[float, int]:
    return check_lr(lr), check_steps(steps)
