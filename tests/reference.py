"""Plain-NumPy references: the formulas lrviz displays, written out step by step in float64.

Tests compare the engine (JAX + optax, float32) against these, so each displayed formula is
checked against the code that claims to compute it.
"""

from __future__ import annotations

import math

import numpy as np

# Rates at which each optimizer moves visibly on Beale from (1, 1.5) in 200 steps without
# float32 rounding being amplified (shared by the NumPy and the torch cross-checks).
BEALE_RATES = {"sgd": 1e-3, "momentum": 5e-4, "nesterov": 5e-4, "adagrad": 0.05,
               "rmsprop": 5e-3, "adam": 5e-3, "adamw": 5e-3}


def rosenbrock_grad(p: np.ndarray, b: float = 100.0) -> np.ndarray:
    x, y = p
    return np.array([-2 * (1 - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)])


def beale_grad(p: np.ndarray) -> np.ndarray:
    x, y = p
    t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    return np.array([
        2 * t1 * (y - 1) + 2 * t2 * (y**2 - 1) + 2 * t3 * (y**3 - 1),
        2 * t1 * x + 2 * t2 * 2 * x * y + 2 * t3 * 3 * x * y**2,
    ])


def optimizer_trajectory(name: str, grad, start, lrs, **hp) -> np.ndarray:
    """Points (T+1, 2) of optimizer ``name`` following its displayed update rule."""
    p = np.asarray(start, float).copy()
    out = [p.copy()]
    b = np.zeros(2)
    m = np.zeros(2)
    v = np.zeros(2)
    G = np.zeros(2)
    for t, lr in enumerate(lrs, start=1):
        g = grad(p)
        if name == "sgd":
            p = p - lr * g
        elif name in ("momentum", "nesterov"):
            mu = hp.get("momentum", 0.9)
            b = mu * b + g
            p = p - lr * (g + mu * b if name == "nesterov" else b)
        elif name == "adagrad":
            G = G + g * g
            p = p - lr * g / (np.sqrt(G) + hp.get("eps", 1e-10))
        elif name == "rmsprop":
            alpha = hp.get("alpha", 0.99)
            v = alpha * v + (1 - alpha) * g * g
            p = p - lr * g / (np.sqrt(v) + hp.get("eps", 1e-8))
        elif name in ("adam", "adamw"):
            b1, b2, eps = hp.get("beta1", 0.9), hp.get("beta2", 0.999), hp.get("eps", 1e-8)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
            step = mhat / (np.sqrt(vhat) + eps)
            if name == "adamw":
                step = step + hp.get("weight_decay", 1e-2) * p
            p = p - lr * step
        else:
            raise ValueError(name)
        out.append(p.copy())
    return np.array(out)


def schedule_values(name: str, lr: float, T: int, **q) -> np.ndarray:
    """The learning rate of updates t = 0..T-1, from each schedule's displayed formula."""
    out = []
    for t in range(T):
        if name == "constant":
            v = lr
        elif name == "step":
            v = lr * q.get("gamma", 0.1) ** (t // int(q.get("step_size", 100)))
        elif name == "exponential":
            v = lr * q.get("gamma", 0.99) ** t
        elif name == "inverse_time":
            v = lr / (1 + q.get("decay", 0.01) * t)
        elif name == "cosine":
            Tm = int(q.get("T_max", 0)) or T
            lo = q.get("eta_min", 0.0)
            v = lo + 0.5 * (lr - lo) * (1 + math.cos(math.pi * t / Tm))  # rises past T_max
        elif name == "warmup_cosine":
            W, f = int(q.get("warmup_steps", 30)), q.get("start_factor", 0.01)
            lo = q.get("eta_min", 0.0)
            if t < W:  # also every step of a run shorter than its warmup (W >= T)
                v = lr * (f + (1 - f) * t / W)
            else:
                v = lo + 0.5 * (lr - lo) * (1 + math.cos(math.pi * (t - W) / (T - W)))
        elif name == "one_cycle":
            p, d = q.get("pct_start", 0.3), q.get("div_factor", 25.0)
            df = q.get("final_div_factor", 1e4)
            P = p * T - 1
            cos = lambda a, b, u: b + (a - b) / 2 * (1 + math.cos(math.pi * u))  # noqa: E731
            if P > 0 and t <= P:
                v = cos(lr / d, lr, t / P)
            else:  # with P <= 0 (p*T <= 1) there is no rise; the fall starts at step P
                v = cos(lr, lr / (d * df), (t - P) / (T - 1 - P))
        elif name == "cyclic":
            s, r = q.get("step_size_up", 50), q.get("base_factor", 0.1)
            c = math.floor(1 + t / (2 * s))
            x = abs(t / s - 2 * c + 1)
            v = r * lr + (lr - r * lr) * max(0.0, 1 - x)
        elif name == "cosine_restarts":
            T0, mult, lo = int(q.get("T_0", 50)), int(q.get("T_mult", 1)), q.get("eta_min", 0.0)
            Ti, cur = T0, t
            while cur >= Ti:
                cur -= Ti
                Ti *= mult
            v = lo + 0.5 * (lr - lo) * (1 + math.cos(math.pi * cur / Ti))
        else:
            raise ValueError(name)
        out.append(v)
    return np.array(out)


def plateau_rates(lr: float, losses, factor=0.1, patience=10, threshold=1e-4, cooldown=0,
                  min_lr=0.0) -> np.ndarray:
    """ReduceLROnPlateau(mode='min', threshold_mode='rel') stepped after each update."""
    best, bad, cool, cur = math.inf, 0, 0, lr
    rates = []
    for loss in losses:
        rates.append(cur)
        if loss < best * (1 - threshold):
            best, bad = loss, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        if bad > patience:
            new = max(cur * factor, min_lr)
            if cur - new > 1e-8:
                cur = new
            cool, bad = cooldown, 0
    return np.array(rates)
