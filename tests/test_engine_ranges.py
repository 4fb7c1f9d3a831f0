"""Valid ranges: every registry parameter declares one, and every entry point enforces it.

Entry points: `RunConfig` / `simulate`, `stability`, `schedule_values` and the lesson schema
(`RunSpec`, `Tune`). A value outside a range raises a ValueError naming the parameter, the
value and the range; no input hangs, divides by zero, overflows or returns non-finite numbers.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrviz
from lrviz import RunConfig, schedule_values, simulate, stability
from lrviz.engine import core
from lrviz.engine.registry import REGISTRIES
from lrviz.engine.spec import LR_VALID, MAX_STEPS, Interval, Param, show_number
from lrviz.engine.surfaces import START_REACH
from lrviz.learning.schema import RunSpec, Tune

ALL_PARAMS: list[tuple[str, str, Param]] = [
    (kind, name, p)
    for kind, registry in REGISTRIES.items()
    for name, entry in registry.items()
    for p in entry.params
]
PARAM_IDS = [f"{kind}-{name}-{p.name}" for kind, name, p in ALL_PARAMS]


def just_outside(p: Param) -> list[float]:
    """The nearest invalid values on each finite side of ``p.valid``."""
    v = p.valid
    step = (lambda x, d: x + d) if p.integer else (
        lambda x, d: float(np.nextafter(x, x + d)))
    out = []
    if math.isfinite(v.lo):
        out.append(v.lo if v.lo_open else step(v.lo, -1))
    if math.isfinite(v.hi):
        out.append(v.hi if v.hi_open else step(v.hi, +1))
    return out


def run_fields(kind: str, name: str, params: dict) -> dict:
    """RunConfig fields that use registry entry ``name`` of ``kind`` with ``params``."""
    fields = {kind: name, f"{kind}_params": params, "steps": 50}
    if kind == "surface":
        fields["start"] = None
    return fields


def message_pattern(kind: str, name: str, p: Param, value: float) -> str:
    return re.escape(f"{kind} {name!r} parameter {p.name!r} = {show_number(value)} "
                     f"is outside its valid range {p.valid}")


# --- declarations ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind,name,p", ALL_PARAMS, ids=PARAM_IDS)
def test_every_parameter_declares_a_valid_range_holding_its_default_and_slider(kind, name, p):
    assert isinstance(p.valid, Interval)
    for value in (p.default, p.low, p.high):
        assert value in p.valid
        assert p.check(value) == value
    if p.integer:
        assert all(float(x).is_integer() for x in (p.valid.lo, p.valid.hi) if math.isfinite(x))


def test_a_parameter_without_a_valid_range_cannot_be_declared():
    with pytest.raises(TypeError, match="must declare its valid range"):
        Param("x", 1.0, 0.0, 2.0, "x")
    with pytest.raises(ValueError, match=re.escape("slider high 2 is outside its valid range "
                                                   "[0, 1)")):
        Param("x", 0.5, 0.0, 2.0, "x", valid=Interval(0.0, 1.0, hi_open=True))


def test_intervals_print_in_mathematical_notation():
    assert str(Interval(1, 5000)) == "[1, 5000]"
    assert str(Interval(0.0, 1.0, hi_open=True)) == "[0, 1)"
    assert str(Interval(0.0, 1e4, lo_open=True)) == "(0, 10000]"
    assert str(Interval(1e-30, 1.0)) == "[1e-30, 1]"
    assert 0.0 not in Interval(0.0, 1.0, lo_open=True) and 1.0 in Interval(0.0, 1.0)


# --- defaults are valid from every entry point ---------------------------------------------


@pytest.mark.parametrize("kind,name", [(k, n) for k, reg in REGISTRIES.items() for n in reg])
def test_defaults_pass_every_entry_point(kind, name):
    defaults = {p.name: p.default for p in REGISTRIES[kind][name].params}
    RunConfig(**run_fields(kind, name, defaults))
    surface = RunSpec(**{"surface": "bowl", **run_fields(kind, name, defaults)}).surface
    assert surface in lrviz.SURFACES
    if kind == "schedule":
        rates = schedule_values(name, 0.1, 50, **defaults)
        assert rates.shape == (50,) and np.all(np.isfinite(rates))
    else:
        s = name if kind == "surface" else "bowl"
        opt = name if kind == "optimizer" else "sgd"
        surface_params = defaults if kind == "surface" else None
        opt_params = defaults if kind == "optimizer" else {}
        result = stability(s, lrviz.SURFACES[s].default_start, opt, surface_params, **opt_params)
        assert all(math.isfinite(e) for e in result.eigenvalues)


# --- just outside the range: every entry point raises, naming parameter, value and range ---


@pytest.mark.parametrize("kind,name,p", ALL_PARAMS, ids=PARAM_IDS)
def test_just_outside_the_range_raises_from_every_entry_point(kind, name, p):
    for value in just_outside(p):
        pattern = message_pattern(kind, name, p, value)
        params = {p.name: value}
        with pytest.raises(ValueError, match=pattern):
            RunConfig(**run_fields(kind, name, params))
        with pytest.raises(ValueError, match=pattern):
            simulate(**run_fields(kind, name, params))
        with pytest.raises(ValueError, match=pattern):
            RunSpec(**{"surface": "bowl", **run_fields(kind, name, params)})
        if kind == "schedule":
            with pytest.raises(ValueError, match=pattern):
                schedule_values(name, 0.1, 50, **params)
        elif kind == "surface":
            with pytest.raises(ValueError, match=pattern):
                stability(name, lrviz.SURFACES[name].default_start, "sgd", params)
        else:
            with pytest.raises(ValueError, match=pattern):
                stability("bowl", (1.0, 1.0), name, None, **params)


@pytest.mark.parametrize("kind,name,p", [a for a in ALL_PARAMS if a[2].integer],
                         ids=[i for i, a in zip(PARAM_IDS, ALL_PARAMS, strict=True)
                              if a[2].integer])
def test_integer_parameters_reject_fractions_and_huge_values_cleanly(kind, name, p):
    inside = p.valid.lo + 0.5
    with pytest.raises(ValueError, match=re.escape(f"{p.name!r} = {show_number(inside)} "
                                                   f"must be a whole number in {p.valid}")):
        RunConfig(**run_fields(kind, name, {p.name: inside}))
    for huge in (10**400, -(10**5000), math.inf, -math.inf, 1e308, math.nan):
        with pytest.raises(ValueError, match=re.escape(f"parameter {p.name!r} = ")):
            RunConfig(**run_fields(kind, name, {p.name: huge}))
        with pytest.raises(ValueError, match=re.escape(f"parameter {p.name!r} = ")):
            RunSpec(**{"surface": "bowl", **run_fields(kind, name, {p.name: huge})})
        if kind == "schedule":
            with pytest.raises(ValueError, match=re.escape(f"parameter {p.name!r} = ")):
                schedule_values(name, 0.1, 50, **{p.name: huge})


# --- the cases that used to hang, divide by zero or mislead ---------------------------------


@pytest.mark.parametrize("fields,message", [
    (dict(schedule="cosine_restarts", schedule_params={"T_0": 0}),
     "schedule 'cosine_restarts' parameter 'T_0' = 0 is outside its valid range [1, 5000]"),
    (dict(schedule="cosine_restarts", schedule_params={"T_mult": 0}),
     "schedule 'cosine_restarts' parameter 'T_mult' = 0 is outside its valid range [1, 100]"),
    (dict(surface="gaussian_wells", surface_params={"width": 0}),
     "surface 'gaussian_wells' parameter 'width' = 0 is outside its valid range [0.05, 10]"),
    (dict(schedule="one_cycle", schedule_params={"div_factor": 0}),
     "schedule 'one_cycle' parameter 'div_factor' = 0 is outside its valid range [1, 1000000]"),
    (dict(optimizer="adam", optimizer_params={"beta2": 1}),
     "optimizer 'adam' parameter 'beta2' = 1 is outside its valid range [0, 1)"),
    (dict(optimizer="momentum", optimizer_params={"momentum": 5}),
     "optimizer 'momentum' parameter 'momentum' = 5 is outside its valid range [0, 1)"),
    (dict(optimizer="nesterov", optimizer_params={"momentum": 0}),
     "optimizer 'nesterov' parameter 'momentum' = 0 is outside its valid range (0, 1)"),
    (dict(schedule="inverse_time", schedule_params={"decay": -1}),
     "schedule 'inverse_time' parameter 'decay' = -1 is outside its valid range [0, 1000]"),
    (dict(schedule="warmup_cosine", schedule_params={"start_factor": 0}),
     "schedule 'warmup_cosine' parameter 'start_factor' = 0 is outside its valid range (0, 1]"),
    (dict(lr=0), "the learning rate lr = 0 is outside its valid range (0, 1000]"),
    (dict(lr=1e4), "the learning rate lr = 10000 is outside its valid range (0, 1000]"),
    (dict(lr=math.nan), "the learning rate lr = nan is outside its valid range (0, 1000]"),
    (dict(noise=-0.1), "noise = -0.1 is outside its valid range [0, 100]"),
    (dict(seed=2**31), "seed = 2147483648 is outside its valid range [0, 2147483647]"),
    (dict(steps=math.inf), "steps = inf is outside its valid range [1, 5000]"),
    (dict(steps=10**400), "steps = (an integer of about 401 digits) is outside its valid range"),
])
def test_known_bad_inputs_are_clear_errors(fields, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        RunConfig(**fields)
    with pytest.raises(ValueError, match=re.escape(message)):
        RunSpec(**{"surface": "rosenbrock", **fields})


@pytest.mark.timeout(120)
def test_the_restart_loop_is_bounded_by_the_step_count_even_for_one_step_cycles():
    # T_0 = 1, T_mult = 1 is the most cycles any valid input can ask for: one per step.
    rates = schedule_values("cosine_restarts", 0.1, 2000, T_0=1, T_mult=1, eta_min=0.01)
    np.testing.assert_allclose(rates, 0.1, rtol=1e-6)  # every step starts a new cycle
    rates = schedule_values("cosine_restarts", 0.1, 300, T_0=1, T_mult=100)
    # cycles of 1, then 100 steps (PyTorch: restart at t = 1 and t = 101)
    assert rates[0] == pytest.approx(0.1) and rates[1] == pytest.approx(0.1)
    assert rates[101] == pytest.approx(0.1) and rates[100] < 0.001


@pytest.mark.parametrize("lr", [0.0, -1e-3, math.inf, math.nan, 1000.5, "fast", None])
def test_schedule_values_rejects_a_bad_learning_rate(lr):
    with pytest.raises(ValueError, match="the learning rate lr"):
        schedule_values("cosine", lr, 100)


@pytest.mark.parametrize("steps", [0, -5, 2.5, math.inf, math.nan, 10**400, MAX_STEPS + 1])
def test_schedule_values_rejects_bad_step_counts_without_overflow(steps):
    with pytest.raises(ValueError, match="steps"):
        schedule_values("step", 0.1, steps)


@pytest.mark.parametrize("point", [(math.nan, 0.0), (0.0, math.inf), (1e38, 0.0), (-21.0, 1.0)])
def test_stability_rejects_non_finite_and_far_points_naming_the_box(point):
    with pytest.raises(ValueError, match=re.escape("point (") + ".*" +
                       re.escape("the allowed box x in [-20, 20], y in [-19, 21] for surface "
                                 "'rosenbrock'")):
        stability("rosenbrock", point)


@pytest.mark.parametrize("start", [(1e38, 0.0), (math.nan, 1.0), (2.0, -math.inf),
                                   (0.0, 31.0), (10**400, 0)])
def test_far_or_non_finite_starts_are_rejected_naming_start_and_box(start):
    box = "the allowed box x in [-30, 30], y in [-30, 30] for surface 'bowl'"
    with pytest.raises(ValueError, match=re.escape("start (") + ".*" + re.escape(box)):
        RunConfig(surface="bowl", start=start)
    with pytest.raises(ValueError, match=re.escape(box)):
        RunSpec(surface="bowl", start=start)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("surface", sorted(lrviz.SURFACES))
def test_starts_at_the_corners_of_the_box_give_finite_runs(surface):
    s = lrviz.SURFACES[surface]
    assert START_REACH < core.ESCAPE  # every allowed start has room before the escape box
    assert s.start_box == tuple((c - START_REACH * s.scale, c + START_REACH * s.scale)
                                for c in s.center)
    (x0, x1), (y0, y1) = s.start_box
    cfgs = [RunConfig(surface=surface, optimizer="sgd", lr=1e-3, start=corner, steps=50)
            for corner in ((x0, y0), (x0, y1), (x1, y0), (x1, y1))]
    for run in lrviz.simulate_many(cfgs):
        assert np.all(np.isfinite(run.points)) and np.all(np.isfinite(run.losses))
        assert np.all(np.isfinite(run.lrs)) and np.all(np.isfinite(run.lambda_max))
        assert run.explanation


def test_a_lesson_tune_solution_outside_its_range_is_rejected():
    question = dict(
        id="t", prompt="p", hints=["h"], explanation="e", type="tune",
        base=dict(surface="bowl", optimizer="momentum", lr=0.5), adjustable=["lr", "momentum"],
        goal=dict(max_final_loss=1e-3), solution={"lr": 0.1, "momentum": 5.0},
    )
    with pytest.raises(ValueError, match=re.escape(
            "optimizer 'momentum' parameter 'momentum' = 5 is outside its valid range [0, 1)")):
        Tune(**question)
    with pytest.raises(ValueError, match=re.escape("the learning rate lr = 0 is outside")):
        Tune(**{**question, "solution": {"lr": 0.0, "momentum": 0.5}})
    assert Tune(**{**question, "solution": {"lr": 0.1, "momentum": 0.5}}).solution["lr"] == 0.1


# --- property: any number either runs to finite outputs or is a clear ValueError ------------

ANY_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e4, 1e4),
    st.integers(-(10**400), 10**400),
    st.integers(-3, 6000),
)
# Few structures, so the property explores values rather than compiles.
PROPERTY_PARAMS = [
    (kind, name, p) for kind, name, p in ALL_PARAMS
    if kind != "surface" or name in ("gaussian_wells", "plateau", "ravine", "rastrigin")
]


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.sampled_from(PROPERTY_PARAMS), ANY_NUMBER, st.sampled_from([0.3, 1e-4, 1e3]))
def test_any_number_for_any_parameter_runs_finite_or_is_a_value_error(target, value, lr):
    kind, name, p = target
    fields = run_fields(kind, name, {p.name: value})
    fields.setdefault("optimizer", "sgd" if kind != "optimizer" else name)
    fields.setdefault("surface", "bowl")
    fields["lr"] = lr
    try:
        cfg = RunConfig(**fields)
    except ValueError as exc:
        assert repr(p.name) in str(exc)
        return
    assert p.check(value) is not None  # accepted only when it is in range
    run = simulate(cfg)
    assert np.all(np.isfinite(run.points)) and np.all(np.isfinite(run.losses))
    assert np.all(np.isfinite(run.lrs)) and np.all(np.isfinite(run.lambda_max))
    if kind == "schedule":
        rates = schedule_values(name, lr, 50, **{p.name: value})
        assert np.all(np.isfinite(rates)) and np.all(rates >= 0)
    else:
        surface = name if kind == "surface" else "bowl"
        sp = {p.name: value} if kind == "surface" else None
        op = {p.name: value} if kind == "optimizer" else {}
        result = stability(surface, lrviz.SURFACES[surface].default_start, fields["optimizer"],
                           sp, **op)
        assert all(math.isfinite(e) for e in result.eigenvalues)


@pytest.mark.timeout(300)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(lrviz.SCHEDULES)), ANY_NUMBER,
       st.dictionaries(st.sampled_from(sorted({p.name for s in lrviz.SCHEDULES.values()
                                              for p in s.params})), ANY_NUMBER, max_size=3))
def test_schedule_values_never_hang_overflow_or_return_non_finite(name, lr, params):
    known = {p.name for p in lrviz.SCHEDULES[name].params}
    params = {k: v for k, v in params.items() if k in known}
    try:
        rates = schedule_values(name, lr, 300, **params)
    except ValueError as exc:
        assert "lr" in str(exc) or any(repr(k) in str(exc) for k in params)
        return
    assert lr in LR_VALID
    assert rates.shape == (300,) and np.all(np.isfinite(rates)) and np.all(rates >= 0)


@pytest.mark.slow
@pytest.mark.timeout(600)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["rosenbrock", "beale", "six_hump_camel", "gaussian_wells"]),
       ANY_NUMBER, ANY_NUMBER)
def test_any_start_runs_finite_or_is_a_value_error(surface, x, y):
    try:
        cfg = RunConfig(surface=surface, optimizer="sgd", lr=1e-3, start=(x, y), steps=50)
    except ValueError as exc:
        assert "start (" in str(exc) and "allowed box" in str(exc)
        return
    run = simulate(cfg)
    assert np.all(np.isfinite(run.points)) and np.all(np.isfinite(run.losses))
    assert np.all(np.isfinite(run.lambda_max))


def test_sweeps_and_phase_maps_check_their_grid_values():
    cfg = RunConfig(surface="bowl", optimizer="momentum", steps=50)
    with pytest.raises(ValueError, match=re.escape("lr = 5000 is outside its valid range")):
        lrviz.lr_sweep(cfg, [0.1, 5000.0])
    with pytest.raises(ValueError, match=re.escape(
            "optimizer 'momentum' parameter 'momentum' = 1 is outside its valid range [0, 1)")):
        lrviz.phase_map(cfg, [0.1], "optimizer", "momentum", [0.5, 1.0])
    with pytest.raises(ValueError, match=re.escape(
            "surface 'bowl' parameter 'a' = 0 is outside its valid range (0, 10000]")):
        lrviz.phase_map(cfg, [0.1], "surface", "a", [0.0])


def test_switching_optimizer_drops_a_carried_value_the_new_one_rejects():
    heavy = RunConfig(optimizer="momentum", optimizer_params={"momentum": 0.0})
    assert heavy.with_(optimizer="nesterov").optimizer_values() == {"momentum": 0.9}
    kept = RunConfig(optimizer="momentum", optimizer_params={"momentum": 0.5})
    assert kept.with_(optimizer="nesterov").optimizer_values() == {"momentum": 0.5}
