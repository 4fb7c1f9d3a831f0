"""Network benchmark: the JAX/optax network engine next to PyTorch in the same process.

Prints one JSON object per line; every figure is measured in this process next to its
baseline, so ratios stay meaningful on a shared, noisy machine. Not part of the test run:

    python benchmarks/bench_nets.py [--quick]

Targets (issue 11): a sweep of 32 learning rates x 500 full-batch steps of a 64-32-10 MLP on
digits <= 2 s and >= 5x the same 32 runs done one after another with torch.nn + torch.optim;
sharpness every 10 steps costs <= 50% extra; a 128x128 trainability map of a small net <= 10 s.
Warm figures exclude compilation, which is reported separately.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install

from lrviz import nets

STEPS = 500
RATES = np.geomspace(0.01, 10.0, 32)
SWEEP_CFG = nets.NetConfig(dataset="digits", hidden=(32,), activation="tanh",
                           loss="cross_entropy", optimizer="sgd", lr=0.1, steps=STEPS)
MAP_CFG = nets.NetConfig(dataset="circles", hidden=(8,), activation="tanh", loss="mse",
                         optimizer="sgd", lr=1.0, steps=100)
MAP_EXAMPLES = 16


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def median_time(fn, repeats: int) -> float:
    return statistics.median(timed(fn)[0] for _ in range(repeats))


def torch_sweep(cfg: nets.NetConfig, rates: np.ndarray, threads: int) -> np.ndarray:
    """The same runs one after another with torch.nn + torch.optim.SGD (float32, full batch)."""
    import torch

    torch.set_num_threads(threads)
    data = nets.load_dataset(cfg.dataset)
    X = torch.from_numpy(data.X_train.copy())
    y = torch.from_numpy(data.y_train.copy()).long()
    params = nets.init_params(cfg)
    finals = []
    for lr in rates:
        model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(),
                                    torch.nn.Linear(32, 10))
        with torch.no_grad():
            for lin, (W, b) in zip((model[0], model[2]), params, strict=True):
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                lin.bias.copy_(torch.from_numpy(b))
        opt = torch.optim.SGD(model.parameters(), lr=float(lr))
        for _ in range(cfg.steps):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X), y)
            loss.backward()
            opt.step()
        with torch.no_grad():
            finals.append(float(torch.nn.functional.cross_entropy(model(X), y)))
    return np.array(finals)


def bench_sweep(quick: bool) -> None:
    import torch

    compile_s, _ = timed(lambda: nets.lr_sweep(SWEEP_CFG, RATES))
    warm = median_time(lambda: nets.lr_sweep(SWEEP_CFG, RATES), 1 if quick else 3)
    jax_final = nets.lr_sweep(SWEEP_CFG, RATES).final_loss
    # torch gets its best thread count (one thread is often faster for ops this small)
    probe = RATES[:2]
    threads = min((1, torch.get_num_threads()),
                  key=lambda k: timed(lambda: torch_sweep(SWEEP_CFG, probe, k))[0])
    rates = RATES[:8] if quick else RATES
    torch_s, torch_final = timed(lambda: torch_sweep(SWEEP_CFG, rates, threads))
    torch_s *= len(RATES) / len(rates)
    agree = float(np.max(np.abs(np.log(jax_final[: len(rates)]) - np.log(torch_final))))
    emit(bench="sweep_32_rates_500_steps_digits_64_32_10", jax_seconds=round(warm, 3),
         jax_compile_seconds=round(compile_s, 2), torch_seconds=round(torch_s, 3),
         torch_threads=threads, speedup_vs_torch=round(torch_s / warm, 2),
         max_abs_log_final_loss_diff=round(agree, 4), extrapolated_torch=quick,
         target="jax <= 2 s and >= 5x torch")


def bench_sharpness(quick: bool) -> None:
    plain = SWEEP_CFG
    sharp = SWEEP_CFG.with_(sharpness_every=10)
    for cfg in (plain, sharp):
        nets.train(cfg)  # compile
    repeats = 3 if quick else 7
    t_plain = median_time(lambda: nets.train(plain), repeats)
    t_sharp = median_time(lambda: nets.train(sharp), repeats)
    emit(bench="sharpness_every_10_steps_overhead", plain_seconds=round(t_plain, 4),
         with_sharpness_seconds=round(t_sharp, 4),
         overhead=round(t_sharp / t_plain - 1.0, 3), target="overhead <= 0.5")


def bench_map(quick: bool) -> None:
    n = 64 if quick else 128
    grid = nets.log_grid(0.01, 100.0, n)
    compile_s, _ = timed(lambda: nets.trainability_map(MAP_CFG, grid, grid,
                                                       n_examples=MAP_EXAMPLES))
    seconds, result = timed(lambda: nets.trainability_map(MAP_CFG, grid, grid,
                                                          n_examples=MAP_EXAMPLES))
    emit(bench=f"trainability_map_{n}x{n}", seconds=round(seconds, 3),
         first_call_seconds=round(compile_s, 2), runs=n * n, steps=MAP_CFG.steps,
         net="2-8-2 tanh, mse, 16 circles examples",
         trainable_fraction=round(result.trainable_fraction, 3), target="<= 10 s for 128x128")


def main() -> None:
    quick = "--quick" in sys.argv
    bench_sweep(quick)
    bench_sharpness(quick)
    bench_map(quick)


if __name__ == "__main__":
    main()
