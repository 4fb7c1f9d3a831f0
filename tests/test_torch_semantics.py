"""PyTorch semantics where they differ visibly from optax's: tests that fail if they are lost.

`test_engine_vs_torch` checks the defaults on a steep surface, where optax's own defaults
(AdaGrad's accumulator starting at 0.1, RMSprop's eps inside the root, cosine holding its floor
after T_max) are invisible. Here every case is chosen so that the PyTorch detail changes the
numbers: gradients of ~1e-6 near a minimum, every hyperparameter off its default, schedule
horizons shorter than the run, and each schedule parameter on its own. Each comparison runs
``torch.optim`` / ``torch.optim.lr_scheduler`` themselves (float64), built by evaluating the
``torch_name`` that lrviz states as its equivalent, so the stated text is checked as well.
Every off-default case also checks that resetting the parameter to its default changes the
result far beyond the tolerance, so a builder that ignored the parameter could not pass.
``tests/mutation_check.py`` applies such mistakes to the engine and confirms these tests fail.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import lrviz
from lrviz import RunConfig, simulate_many
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.schedules import SCHEDULES

torch = pytest.importorskip("torch")
lr_scheduler = torch.optim.lr_scheduler


# --- the stated torch equivalents, evaluated -------------------------------------------------


def stated_torch_optimizer(name: str, params, lr: float, hp: dict[str, float]):
    """``OPTIMIZERS[name].torch_name`` evaluated with the run's hyperparameters by name."""
    namespace = {"__builtins__": {}, "torch": torch, "params": params, "lr": lr, **hp}
    return eval(OPTIMIZERS[name].torch_name, namespace)


def stated_torch_scheduler(name: str, opt, T: int, q: dict[str, float]):
    """``SCHEDULES[name].torch_name`` evaluated against ``opt`` (None for "no scheduler").

    Scheduler classes are bound to ``opt`` so the text reads as it would in a training script;
    ``T`` is the number of updates, ``lr`` the base rate, parameters go in by name (integers as
    int, which torch requires for ``T_mult``)."""
    text = SCHEDULES[name].torch_name
    if text == "(no scheduler)":
        return None
    classes = {n: functools.partial(getattr(lr_scheduler, n), opt)
               for n in dir(lr_scheduler) if n[0].isupper() and n.endswith(("LR", "Restarts",
                                                                            "Plateau"))}
    ints = {p.name for p in SCHEDULES[name].params if p.integer}
    values = {k: int(v) if k in ints else v for k, v in q.items()}
    # One dict as globals, so a lambda in the text (LambdaLR) sees the parameters too.
    namespace = {"__builtins__": {}, **classes, "lr": opt.param_groups[0]["lr"], "T": T,
                 **values}
    return eval(text, namespace)


def torch_rates(name: str, lr: float, T: int, q: dict[str, float], losses=None) -> np.ndarray:
    """The rate torch uses for each of T updates (``opt.step(); sched.step()`` each time)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = stated_torch_scheduler(name, opt, T, q)
    rates = []
    for t in range(T):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is None:
            continue
        if losses is None:
            sched.step()
        else:
            sched.step(float(losses[t]))
    return np.array(rates)


# --- surfaces in torch ------------------------------------------------------------------------


def torch_bowl(a: float, b: float):
    return lambda p: 0.5 * (a * p[0] ** 2 + b * p[1] ** 2)


def torch_booth(p):
    return (p[0] + 2 * p[1] - 7) ** 2 + (2 * p[0] + p[1] - 5) ** 2


def torch_path(loss, start, optimizer: str, lr: float, hp: dict[str, float], steps: int,
               schedule: str = "constant", schedule_params: dict | None = None) -> np.ndarray:
    """Points (steps+1, 2) of the stated torch optimizer (and scheduler), in float64."""
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = stated_torch_optimizer(optimizer, [p], lr, hp)
    q = SCHEDULES[schedule].resolve(schedule_params)
    sched = stated_torch_scheduler(schedule, opt, steps, q)
    points = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss(p).backward()
        opt.step()
        if sched is not None:
            sched.step()
        points.append(p.detach().numpy().copy())
    return np.array(points)


def scaled_gap(a: np.ndarray, b: np.ndarray, scale: float) -> float:
    """Largest coordinate difference between two paths, in units of ``scale``."""
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))) / scale)


# --- optimizers: small gradients near a minimum -----------------------------------------------

# Start ~1e-6 from the bowl's minimum, so every gradient is ~1e-6: AdaGrad's accumulator start
# (0 vs 0.1), its eps (1e-10 after the root) and RMSprop's eps placement (1e-8 after the root vs
# inside it) each change the step by a factor of 10 or more here.
NEAR_START = (3e-6, -2e-6)
NEAR_RATES = {"sgd": 0.2, "momentum": 0.05, "nesterov": 0.05, "adagrad": 1e-6,
              "rmsprop": 1e-7, "adam": 2e-7, "adamw": 2e-7}


# eps matters where sqrt(v) is comparable to it: near the minimum, not on a steep slope.
NEAR_EPS = {"adagrad": 1e-6, "rmsprop": 1e-6, "adam": 1e-6, "adamw": 3e-6}


def near_cfg(name: str, hp: dict[str, float] | None = None) -> RunConfig:
    return RunConfig(surface="bowl", surface_params={"a": 1.0, "b": 4.0}, optimizer=name,
                     lr=NEAR_RATES[name], start=NEAR_START, steps=120,
                     optimizer_params=hp or {})


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_tiny_gradients_near_a_minimum_follow_torch(name):
    cases = [{}] + ([{"eps": NEAR_EPS[name]}] if name in NEAR_EPS else [])
    runs = simulate_many([near_cfg(name, hp) for hp in cases])
    for hp, run in zip(cases, runs, strict=True):
        expected = torch_path(torch_bowl(1.0, 4.0), NEAR_START, name, NEAR_RATES[name],
                              OPTIMIZERS[name].resolve(hp), 120)
        assert scaled_gap(run.points, expected, 3e-6) < 2e-3, hp
        moved = np.abs(np.diff(expected, axis=0)).sum()
        assert moved > 1e-6, "the case must move the point by a visible fraction of its distance"
    if len(runs) == 2:  # eps off its default must show here
        assert scaled_gap(runs[0].points, runs[1].points, 3e-6) > 0.05


# --- optimizers: every hyperparameter off its default ------------------------------------------

BOOTH_START, BOOTH_STEPS = (-8.0, -6.0), 150
BOOTH_RATES = {"momentum": 0.008, "nesterov": 0.008, "rmsprop": 0.03,
               "adam": 0.08, "adamw": 0.08}
OFF_DEFAULT = {
    "momentum": [{"momentum": 0.5}, {"momentum": 0.97}],
    "nesterov": [{"momentum": 0.5}, {"momentum": 0.97}],
    "rmsprop": [{"alpha": 0.8}, {"alpha": 0.999}],
    "adam": [{"beta1": 0.5}, {"beta1": 0.0}, {"beta2": 0.9}],
    "adamw": [{"weight_decay": 0.3}, {"weight_decay": 0.0}, {"beta1": 0.6}, {"beta2": 0.95}],
}


def booth_cfg(name: str, hp: dict[str, float]) -> RunConfig:
    return RunConfig(surface="booth", optimizer=name, lr=BOOTH_RATES[name], start=BOOTH_START,
                     steps=BOOTH_STEPS, optimizer_params=hp)


@pytest.mark.parametrize("name", list(OFF_DEFAULT))
def test_every_hyperparameter_off_its_default_follows_torch(name):
    cases = OFF_DEFAULT[name]
    # Each case's twin has one of its parameters put back to the default: it must land visibly
    # elsewhere, or the case could not tell a builder that ignores that parameter.
    twins = [(i, key) for i, hp in enumerate(cases) for key in hp]
    default = OPTIMIZERS[name].resolve()
    cfgs = [booth_cfg(name, hp) for hp in cases]
    cfgs += [booth_cfg(name, {**cases[i], key: default[key]}) for i, key in twins]
    runs = simulate_many(cfgs)
    for hp, run in zip(cases, runs, strict=False):
        expected = torch_path(torch_booth, BOOTH_START, name, BOOTH_RATES[name],
                              OPTIMIZERS[name].resolve(hp), BOOTH_STEPS)
        assert scaled_gap(run.points, expected, 10.0) < 2e-5, hp
    for (i, key), twin in zip(twins, runs[len(cases):], strict=True):
        assert scaled_gap(twin.points, runs[i].points, 10.0) > 2e-3, (cases[i], key)


def test_every_tunable_optimizer_hyperparameter_has_an_off_default_case():
    for name, spec in OPTIMIZERS.items():
        varied = {key for hp in OFF_DEFAULT.get(name, []) for key in hp}
        varied |= {"eps"} if name in NEAR_EPS else set()
        assert varied == {p.name for p in spec.params}, name


def test_torch_hyperparameters_lrviz_does_not_expose_are_inert_by_default():
    """lrviz implements no dampening, no L2 weight decay for SGD/Adam/RMSprop/AdaGrad, no
    lr_decay, no AMSGrad and no centred RMSprop; its stated equivalents rely on torch's defaults
    switching each of them off (and say so where optax's default is not off)."""
    w = [torch.zeros(1, requires_grad=True)]
    sgd = torch.optim.SGD(w, lr=0.1).defaults
    assert (sgd["dampening"], sgd["weight_decay"], sgd["nesterov"]) == (0, 0, False)
    ada = torch.optim.Adagrad(w).defaults
    assert (ada["lr_decay"], ada["weight_decay"], ada["initial_accumulator_value"]) == (0, 0, 0)
    rms = torch.optim.RMSprop(w).defaults
    assert (rms["momentum"], rms["centered"], rms["weight_decay"]) == (0, False, 0)
    adam = torch.optim.Adam(w).defaults
    assert (adam["amsgrad"], adam["weight_decay"]) == (False, 0)
    assert "initial_accumulator_value=0" in OPTIMIZERS["adagrad"].torch_name


# --- schedules: every parameter, runs longer than their horizons --------------------------------

SCHEDULE_CASES = {
    "step": [{"step_size": 30, "gamma": 0.5}, {"step_size": 7, "gamma": 0.9}],
    "exponential": [{"gamma": 0.95}],
    "inverse_time": [{"decay": 0.2}],
    "cosine": [{"T_max": 40, "eta_min": 0.02}, {"T_max": 25}, {"eta_min": 0.03}],
    "warmup_cosine": [{"warmup_steps": 12, "start_factor": 0.3, "eta_min": 0.02},
                      {"warmup_steps": 300, "start_factor": 0.2}],
    "one_cycle": [{"pct_start": 0.6, "div_factor": 4.0, "final_div_factor": 30.0},
                  {"pct_start": 0.1}],
    "cyclic": [{"step_size_up": 20, "base_factor": 0.4}, {"step_size_up": 400}],
    "cosine_restarts": [{"T_0": 15, "T_mult": 2, "eta_min": 0.02}, {"T_0": 35},
                        {"T_0": 10, "T_mult": 3}],
}
SCHEDULE_LENGTHS = (150, 400)
LR0 = 0.1


def schedule_case_ids():
    return [(name, i, T) for name, cases in SCHEDULE_CASES.items()
            for i in range(len(cases)) for T in SCHEDULE_LENGTHS]


@pytest.mark.parametrize("name,i,T", schedule_case_ids())
def test_schedule_equals_its_stated_torch_scheduler_for_every_step(name, i, T):
    params = SCHEDULE_CASES[name][i]
    q = SCHEDULES[name].resolve(params)
    expected = torch_rates(name, LR0, T, q)
    values = lrviz.schedule_values(name, LR0, T, **params)
    np.testing.assert_allclose(values, expected, rtol=3e-5, atol=1e-9)
    default = SCHEDULES[name].resolve()
    for key in params:
        twin = lrviz.schedule_values(name, LR0, T, **{**params, key: default[key]})
        assert np.max(np.abs(twin - values)) > 1e-3 * LR0, f"{key} is not visible here"


def test_every_schedule_parameter_has_a_case_and_every_horizon_is_shorter_than_a_run():
    for name, spec in SCHEDULES.items():
        if spec.needs_loss or not spec.params:
            continue
        varied = {key for hp in SCHEDULE_CASES[name] for key in hp}
        assert varied == {p.name for p in spec.params}, name
    longest = max(SCHEDULE_LENGTHS)
    assert SCHEDULE_CASES["cosine"][0]["T_max"] * 4 < longest  # past T_max, back up, down again
    assert SCHEDULE_CASES["step"][0]["step_size"] * 4 < longest
    assert SCHEDULE_CASES["cyclic"][0]["step_size_up"] * 4 < longest
    assert SCHEDULE_CASES["cosine_restarts"][0]["T_0"] * 3 < longest


def test_cosine_past_t_max_climbs_back_as_pytorch_does_and_says_so():
    values = lrviz.schedule_values("cosine", 1.0, 100, T_max=25, eta_min=0.1)
    assert values[25] == pytest.approx(0.1, abs=1e-6)  # the floor at T_max
    assert values[50] == pytest.approx(1.0, abs=1e-6)  # back at the start rate at 2 T_max
    assert "climb back" in SCHEDULES["cosine"].summary
    assert "T_max or T" in SCHEDULES["cosine"].torch_name
    assert r"\min" not in SCHEDULES["cosine"].latex


def test_warmup_longer_than_the_run_is_linear_warmup_alone_as_stated():
    # At W = T torch's SequentialLR would build CosineAnnealingLR(T_max=0) and divide by zero;
    # the stated equivalent uses LinearLR alone from W >= T on.
    T = 80
    for W in (80, 200):
        q = SCHEDULES["warmup_cosine"].resolve({"warmup_steps": W, "start_factor": 0.1})
        expected = torch_rates("warmup_cosine", LR0, T, q)
        values = lrviz.schedule_values("warmup_cosine", LR0, T, warmup_steps=W,
                                       start_factor=0.1)
        np.testing.assert_allclose(values, expected, rtol=3e-5)
        assert values[-1] < LR0 * (0.1 + 0.9 * (T - 1) / W) + 1e-7  # never reaches the peak
    assert "if warmup_steps < T else LinearLR" in SCHEDULES["warmup_cosine"].torch_name


@pytest.mark.parametrize("T,pct", [(2, 0.3), (3, 0.3), (20, 0.05), (60, 0.01)])
def test_one_cycle_in_runs_too_short_for_a_rise(T, pct):
    values = lrviz.schedule_values("one_cycle", LR0, T, pct_start=pct)
    if pct * T == 1:  # torch divides 0/0 at step 0; lrviz states it starts at the peak
        assert values[0] == pytest.approx(LR0, rel=1e-6)
        assert "starts at the peak" in SCHEDULES["one_cycle"].summary
        return
    q = SCHEDULES["one_cycle"].resolve({"pct_start": pct})
    np.testing.assert_allclose(values, torch_rates("one_cycle", LR0, T, q), rtol=3e-5)


def test_one_cycle_peaks_at_pct_start_times_t_minus_one():
    values = lrviz.schedule_values("one_cycle", LR0, 100, pct_start=0.3)
    assert int(np.argmax(values)) == 29
    assert values[29] == pytest.approx(LR0, rel=1e-6)
    assert "cycle_momentum=False" in SCHEDULES["one_cycle"].torch_name


# --- reduce on plateau: every parameter -------------------------------------------------------

# 0.4% better per step for 60 steps, flat for 40, 0.4% per step again, then flat: with a 1%
# threshold only about every third step counts as an improvement.
PLATEAU_LOSSES = np.concatenate([
    0.996 ** np.arange(60), np.full(40, 0.996**59), 0.996 ** np.arange(60, 160),
    np.full(100, 0.996**159),
])
PLATEAU_CASES = [
    {"threshold": 0.01, "patience": 2},
    {"patience": 3, "factor": 0.5},
    {"patience": 4, "factor": 0.5, "cooldown": 6},
    {"patience": 1, "factor": 0.3, "min_lr": 0.004},
]


@pytest.mark.parametrize("i", range(len(PLATEAU_CASES)))
def test_reduce_on_plateau_follows_torch_for_every_parameter(i):
    params = PLATEAU_CASES[i]
    q = SCHEDULES["reduce_on_plateau"].resolve(params)
    T = len(PLATEAU_LOSSES)
    expected = torch_rates("reduce_on_plateau", LR0, T, q, losses=PLATEAU_LOSSES)
    values = lrviz.schedule_values("reduce_on_plateau", LR0, T, losses=PLATEAU_LOSSES, **params)
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    default = SCHEDULES["reduce_on_plateau"].resolve()
    for key in params:
        twin = lrviz.schedule_values("reduce_on_plateau", LR0, T, losses=PLATEAU_LOSSES,
                                     **{**params, key: default[key]})
        assert np.max(np.abs(twin - values)) > 1e-3 * LR0, f"{key} is not visible here"


def test_every_plateau_parameter_has_a_case():
    varied = {key for hp in PLATEAU_CASES for key in hp}
    assert varied == {p.name for p in SCHEDULES["reduce_on_plateau"].params}


def test_plateau_threshold_decides_a_real_run():
    # Adam at 0.05 gains a little under 5% per step on Booth: with a 5% threshold that counts
    # as no progress, the rate is cut again and again and the run never arrives.
    cfg = RunConfig(surface="booth", optimizer="adam", lr=0.05, steps=300,
                    schedule="reduce_on_plateau",
                    schedule_params={"patience": 3, "factor": 0.5, "threshold": 0.05})
    run, loose = simulate_many([cfg, cfg.with_(schedule_params={"patience": 3, "factor": 0.5})])
    q = SCHEDULES["reduce_on_plateau"].resolve(cfg.schedule_params)
    expected = torch_rates("reduce_on_plateau", 0.05, 300, q, losses=run.losses[:-1])
    np.testing.assert_allclose(run.lrs, expected, rtol=1e-6)
    assert run.lrs[-1] < 1e-4 and loose.lrs[-1] == pytest.approx(0.05)
    assert run.losses[-1] > 100 * loose.losses[-1]


# --- optimizer and schedule together, end to end ----------------------------------------------


@pytest.mark.parametrize("optimizer,schedule,params", [
    ("adam", "cosine", {"T_max": 30, "eta_min": 0.005}),
    ("nesterov", "one_cycle", {"pct_start": 0.4, "div_factor": 5.0}),
    ("rmsprop", "cosine_restarts", {"T_0": 20, "T_mult": 2, "eta_min": 0.001}),
])
def test_a_scheduled_run_follows_torch_optimizer_and_scheduler(optimizer, schedule, params):
    lr = {"adam": 0.3, "nesterov": 0.02, "rmsprop": 0.05}[optimizer]
    cfg = RunConfig(surface="booth", optimizer=optimizer, lr=lr, start=BOOTH_START, steps=150,
                    schedule=schedule, schedule_params=params)
    (run,) = simulate_many([cfg])
    expected = torch_path(torch_booth, BOOTH_START, optimizer, lr,
                          OPTIMIZERS[optimizer].resolve(), 150, schedule, params)
    assert scaled_gap(run.points, expected, 10.0) < 2e-5
    assert math.isfinite(run.losses[-1])
