"""Cross-check against PyTorch itself: torch.optim and torch.optim.lr_scheduler, in float64.

lrviz promises PyTorch's update rules, hyperparameter names, defaults and schedule values. The
NumPy references check the displayed formulas; these tests check that the formulas are the
PyTorch ones. (torch is a test-only dependency.)
"""

import numpy as np
import pytest
from reference import BEALE_RATES

import lrviz
from lrviz import RunConfig, simulate
from lrviz.engine.optimizers import OPTIMIZERS

torch = pytest.importorskip("torch")


def beale(p):
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def torch_optimizer(name, params, lr, hp):
    o = torch.optim
    if name == "sgd":
        return o.SGD(params, lr=lr)
    if name == "momentum":
        return o.SGD(params, lr=lr, momentum=hp["momentum"])
    if name == "nesterov":
        return o.SGD(params, lr=lr, momentum=hp["momentum"], nesterov=True)
    if name == "adagrad":
        return o.Adagrad(params, lr=lr, eps=hp["eps"])
    if name == "rmsprop":
        return o.RMSprop(params, lr=lr, alpha=hp["alpha"], eps=hp["eps"])
    if name == "adam":
        return o.Adam(params, lr=lr, betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"])
    if name == "adamw":
        return o.AdamW(params, lr=lr, betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"],
                       weight_decay=hp["weight_decay"])
    raise ValueError(name)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_matches_torch_optim_with_pytorch_defaults(name):
    lr = BEALE_RATES[name]
    start = (1.0, 1.5)
    run = simulate(RunConfig(surface="beale", optimizer=name, lr=lr, start=start, steps=200))
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer(name, [p], lr, OPTIMIZERS[name].resolve())
    points = [p.detach().numpy().copy()]
    for _ in range(200):
        opt.zero_grad()
        beale(p).backward()
        opt.step()
        points.append(p.detach().numpy().copy())
    np.testing.assert_allclose(run.points, np.array(points), rtol=2e-4, atol=2e-5)


def test_pytorch_defaults_are_lrviz_defaults():
    adam = torch.optim.Adam([torch.zeros(1, requires_grad=True)]).defaults
    assert OPTIMIZERS["adam"].resolve() == {"beta1": adam["betas"][0], "beta2": adam["betas"][1],
                                            "eps": adam["eps"]}
    adamw = torch.optim.AdamW([torch.zeros(1, requires_grad=True)]).defaults
    assert OPTIMIZERS["adamw"].resolve()["weight_decay"] == adamw["weight_decay"]
    rms = torch.optim.RMSprop([torch.zeros(1, requires_grad=True)]).defaults
    assert OPTIMIZERS["rmsprop"].resolve() == {"alpha": rms["alpha"], "eps": rms["eps"]}
    ada = torch.optim.Adagrad([torch.zeros(1, requires_grad=True)]).defaults
    assert OPTIMIZERS["adagrad"].resolve() == {"eps": ada["eps"]}
    assert ada["initial_accumulator_value"] == 0


def torch_schedule(name, opt, T, q):
    s = torch.optim.lr_scheduler
    if name == "constant":
        return s.LambdaLR(opt, lambda t: 1.0)
    if name == "step":
        return s.StepLR(opt, step_size=int(q["step_size"]), gamma=q["gamma"])
    if name == "exponential":
        return s.ExponentialLR(opt, gamma=q["gamma"])
    if name == "inverse_time":
        return s.LambdaLR(opt, lambda t: 1.0 / (1.0 + q["decay"] * t))
    if name == "cosine":
        return s.CosineAnnealingLR(opt, T_max=T, eta_min=q["eta_min"])
    if name == "warmup_cosine":
        W = int(q["warmup_steps"])
        return s.SequentialLR(opt, [
            s.LinearLR(opt, start_factor=q["start_factor"], end_factor=1.0, total_iters=W),
            s.CosineAnnealingLR(opt, T_max=T - W, eta_min=q["eta_min"]),
        ], milestones=[W])
    if name == "one_cycle":
        return s.OneCycleLR(opt, max_lr=opt.param_groups[0]["lr"], total_steps=T,
                            pct_start=q["pct_start"], div_factor=q["div_factor"],
                            final_div_factor=q["final_div_factor"], cycle_momentum=False)
    if name == "cyclic":
        lr = opt.param_groups[0]["lr"]
        return s.CyclicLR(opt, base_lr=q["base_factor"] * lr, max_lr=lr,
                          step_size_up=int(q["step_size_up"]), mode="triangular",
                          cycle_momentum=False)
    if name == "cosine_restarts":
        return s.CosineAnnealingWarmRestarts(opt, T_0=int(q["T_0"]), T_mult=int(q["T_mult"]),
                                             eta_min=q["eta_min"])
    raise ValueError(name)


SCHEDULE_CASES = [
    ("constant", {}), ("step", {"step_size": 25, "gamma": 0.5}), ("exponential", {"gamma": 0.97}),
    ("inverse_time", {"decay": 0.05}), ("cosine", {"eta_min": 0.003}),
    ("warmup_cosine", {"warmup_steps": 20, "start_factor": 0.1, "eta_min": 0.002}),
    ("one_cycle", {}), ("one_cycle", {"pct_start": 0.25, "div_factor": 10.0}),
    ("cyclic", {"step_size_up": 15, "base_factor": 0.2}),
    ("cosine_restarts", {"T_0": 20, "T_mult": 2, "eta_min": 0.001}),
]


@pytest.mark.parametrize("name,params", SCHEDULE_CASES)
def test_schedule_matches_torch_lr_scheduler(name, params):
    T, lr = 120, 0.1
    q = lrviz.SCHEDULES[name].resolve(params)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = torch_schedule(name, opt, T, q)
    expected = []
    for _ in range(T):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrviz.schedule_values(name, lr, T, **params), expected,
                               rtol=3e-5, atol=1e-9)


def test_reduce_on_plateau_matches_torch_on_a_real_run():
    cfg = RunConfig(surface="booth", optimizer="adam", lr=0.5, steps=300,
                    schedule="reduce_on_plateau",
                    schedule_params={"patience": 4, "factor": 0.3, "cooldown": 2,
                                     "threshold": 0.01, "min_lr": 1e-4})
    run = simulate(cfg)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.3, patience=4, cooldown=2,
                                                       threshold=0.01, min_lr=1e-4)
    expected = []
    for loss in run.losses[:-1]:
        expected.append(opt.param_groups[0]["lr"])
        sched.step(float(loss))
    np.testing.assert_allclose(run.lrs, expected, rtol=1e-6)
    assert len(set(np.round(expected, 8))) > 2, "the case should exercise several reductions"
