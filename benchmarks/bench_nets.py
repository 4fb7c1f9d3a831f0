"""Network benchmark: the JAX/optax network engine next to PyTorch in the same process.

Prints one JSON object per line; every figure is measured in this process next to its
baseline, so ratios stay meaningful on a shared, noisy machine. Not part of the test run:

    python benchmarks/bench_nets.py [--quick]

Targets (issue 11): a sweep of 32 learning rates x 500 full-batch steps of a 64-32-10 MLP on
digits <= 2 s and >= 5x the same 32 runs done one after another with torch.nn + torch.optim;
sharpness every 10 steps costs <= 50% extra; a 128x128 trainability map of a small net <= 10 s.
Warm figures exclude compilation, which is reported separately. The first line is the floor:
the sweep's FLOPs and the time of its matrix products alone, timed here. Wall-clock figures
come with process CPU times, which a machine shared with other work inflates far less.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install

from lrviz import nets
from lrviz.engine.runtime import batch_slices, usable_cores
from lrviz.nets import core as nets_core
from lrviz.nets import lanczos

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


def cpu_seconds(fn) -> tuple[float, object]:
    """Process CPU time (all threads) of ``fn()``: the work done, which a loaded machine
    inflates far less than wall-clock time (it does not count time spent waiting for a core)."""
    c0 = time.process_time()
    out = fn()
    return time.process_time() - c0, out


def bench_sweep(quick: bool) -> None:
    import torch

    workers = usable_cores()
    compile_s, _ = timed(lambda: nets.lr_sweep(SWEEP_CFG, RATES))
    nets.lr_sweep(SWEEP_CFG, RATES)  # settle after the floor's programs (see below)
    # The default (one batch per core, on threads), then one batch on the calling thread.
    # Not interleaved: right after a one-batch run (whose program spreads over both cores) the
    # default sweep measured 10-15% slower (median 2.11 s against 1.88 and 1.74 s back to back,
    # on an idle machine). This machine's speed also drifts by up to a quarter within seconds
    # (other tenants of the host), so the median of several samples is reported, with all.
    repeats = 1 if quick else 5
    walls = [timed(lambda: nets.lr_sweep(SWEEP_CFG, RATES))[0] for _ in range(repeats)]
    nets.lr_sweep(SWEEP_CFG, RATES, workers=1)  # compile the one-thread batch shape
    walls_one = [timed(lambda: nets.lr_sweep(SWEEP_CFG, RATES, workers=1))[0]
                 for _ in range(1 if quick else 3)]
    warm, best = statistics.median(walls), min(walls)
    jax_cpu = min(cpu_seconds(lambda: nets.lr_sweep(SWEEP_CFG, RATES))[0]
                  for _ in range(1 if quick else 3))
    jax_final = nets.lr_sweep(SWEEP_CFG, RATES).final_loss
    # torch gets its best thread count (one thread is often faster for ops this small)
    probe = RATES[:2]
    threads = min((1, torch.get_num_threads()),
                  key=lambda k: timed(lambda: torch_sweep(SWEEP_CFG, probe, k))[0])
    rates = RATES[:8] if quick else RATES
    c0 = time.process_time()
    torch_s, torch_final = timed(lambda: torch_sweep(SWEEP_CFG, rates, threads))
    torch_cpu = (time.process_time() - c0) * len(RATES) / len(rates)
    torch_s *= len(RATES) / len(rates)
    agree = float(np.max(np.abs(np.log(jax_final[: len(rates)]) - np.log(torch_final))))
    data = nets.load_dataset(SWEEP_CFG.dataset)
    batches = batch_slices(len(RATES), 64, workers)
    width = nets_core.vmap_width(data.n_train, SWEEP_CFG.layer_sizes,
                                 batches[0].stop - batches[0].start)
    path = "vmapped, layer 1 of a batch's rates one matmul" if width > 1 else "runs in turn"
    emit(bench="sweep_32_rates_500_steps_digits_64_32_10", jax_seconds=round(warm, 3),
         jax_best_seconds=round(best, 3), jax_samples=[round(w, 2) for w in walls],
         jax_path=f"{path}; {len(batches)} batch(es) on {min(workers, len(batches))} thread(s)",
         jax_one_thread_seconds=round(statistics.median(walls_one), 3),
         jax_compile_seconds=round(compile_s, 2), torch_seconds=round(torch_s, 3),
         torch_threads=threads, speedup_vs_torch=round(torch_s / warm, 2),
         jax_cpu_seconds=round(jax_cpu, 3), torch_cpu_seconds=round(torch_cpu, 3),
         cpu_time_ratio=round(torch_cpu / jax_cpu, 2),
         max_abs_log_final_loss_diff=round(agree, 4), extrapolated_torch=quick,
         target="jax <= 2 s and >= 5x torch")


def step_flops(n_examples: int, sizes: tuple[int, ...]) -> int:
    """FLOPs (2 per multiply-add) of the matrix products of one full-batch training step of an
    MLP with layer widths ``sizes``: the forward ``h W`` of every layer, the weight gradient
    ``h^T delta`` of every layer, and the back-propagated ``delta W^T`` of every layer but the
    first (nothing flows back into the data). Biases, activations and the loss are O(N * width)
    and left out, so this is a lower bound on the work."""
    pairs = list(itertools.pairwise(sizes))
    macs = sum(2 * a * b for a, b in pairs) + sum(a * b for a, b in pairs[1:])
    return 2 * n_examples * macs


def gemm_only_sweep(X: jax.Array, params, rates: jax.Array, steps: int):
    """The sweep's matrix products and nothing else, in the engine's layout (runs one after
    another, ``lax.map`` over rates, ``lax.scan`` over steps): the time a perfect engine
    spends outside its matmuls is zero, so this time is the floor for this layout."""
    (W1, _), (W2, _) = params
    XT = jnp.transpose(X)  # materialised once, as the trainer does

    def one(lr):
        def step(carry, _):
            V1, V2 = carry
            H = X @ V1
            Z = H @ V2
            dH = Z @ V2.T
            return (V1 - lr * (XT @ dH), V2 - lr * (H.T @ Z)), None

        return jax.lax.scan(step, (W1, W2), None, length=steps)[0]

    return jax.lax.map(one, rates)


def gemm_only_fused(X: jax.Array, params, rates: jax.Array, steps: int):
    """The same products in the layout of the engine's vmapped sweep
    (`lrviz.nets.model.rates_loss_and_grad`): layer 1 of all rates as ONE matmul
    ``[W1_r^T]_r @ X^T`` ((32R x 64) @ (64 x N)) and its gradient as one ``[delta_r]_r @ X``;
    layer 2 batched over rates, contracting along the examples."""
    (W1, _), (W2, _) = params
    R = rates.shape[0]
    XT = jnp.transpose(X)
    V1 = jnp.broadcast_to(W1, (R, *W1.shape))
    V2 = jnp.broadcast_to(W2, (R, *W2.shape))

    def step(carry, _):
        V1, V2 = carry
        H = jnp.einsum("rio,in->ron", V1, XT)
        Z = jnp.einsum("rhc,rhn->rcn", V2, H)
        dH = jnp.einsum("rhc,rcn->rhn", V2, Z)
        dV1 = jnp.swapaxes(jnp.einsum("rhn,in->rhi", dH, XT), 1, 2)
        dV2 = jnp.einsum("rhn,rcn->rhc", H, Z)
        return (V1 - rates[:, None, None] * dV1, V2 - rates[:, None, None] * dV2), None

    return jax.lax.scan(step, (V1, V2), None, length=steps)[0]


def best_time(fn, repeats: int) -> tuple[float, float]:
    """Fastest wall-clock and process-CPU seconds of ``repeats`` warm calls."""
    jax.block_until_ready(fn())
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn())
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def bench_floor(quick: bool) -> None:
    """How fast the sweep could possibly be on this CPU: its FLOPs against the matmul
    throughput measured here, now (same process, same load as the sweep figures)."""
    data = nets.load_dataset(SWEEP_CFG.dataset)
    X = jnp.asarray(data.X_train)
    sizes = SWEEP_CFG.layer_sizes
    params = tuple((jnp.asarray(W), jnp.asarray(b)) for W, b in nets.init_params(SWEEP_CFG))
    rates = jnp.asarray(RATES * 1e-6, jnp.float32)  # tiny steps: the products stay finite
    steps = 100 if quick else STEPS
    total = step_flops(X.shape[0], sizes) * len(RATES) * STEPS
    scale = STEPS / steps  # time measured on `steps` steps, scaled to the sweep's
    seq = jax.jit(gemm_only_sweep, static_argnums=3)
    fused = jax.jit(gemm_only_fused, static_argnums=3)
    wall_seq, cpu_seq = best_time(lambda: seq(X, params, rates, steps), 3)
    wall_fused, cpu_fused = best_time(lambda: fused(X, params, rates, steps), 3)
    halves = (rates[: len(RATES) // 2], rates[len(RATES) // 2 :])
    with ThreadPoolExecutor(max_workers=2) as pool:  # the sweep's layout: a half per thread
        wall_threads, _ = best_time(lambda: [f.result() for f in [
            pool.submit(lambda r=r: jax.block_until_ready(fused(X, params, r, steps)))
            for r in halves]], 3)
    n = 1024  # a large square matmul: what the cores deliver at their best
    A = jnp.ones((n, n), jnp.float32)
    big = jax.jit(lambda a: a @ a)
    wall_big, _ = best_time(lambda: big(A), 10)
    peak = 2 * n**3 / wall_big
    best = min(wall_seq, wall_fused, wall_threads) * scale
    emit(bench="sweep_floor_flops", gflop_total=round(total / 1e9, 1),
         mflop_per_step_per_rate=round(step_flops(X.shape[0], sizes) / 1e6, 2),
         matmul_only_seconds_runs_in_turn=round(wall_seq * scale, 3),
         matmul_only_seconds_layer1_fused=round(wall_fused * scale, 3),
         matmul_only_seconds_two_threads_of_16=round(wall_threads * scale, 3),
         matmul_only_cpu_seconds=[round(cpu_seq * scale, 3), round(cpu_fused * scale, 3)],
         sweep_matmul_gflops=round(total / best / 1e9, 1),
         big_matmul_gflops=round(peak / 1e9, 1), floor_seconds_at_big_matmul_rate=round(
             total / peak, 2),
         gflops_needed_for_2_s=round(total / 2.0 / 1e9, 1),
         note="floor = the sweep's matmuls alone; everything else in a step is extra")


def bench_sharpness(quick: bool) -> None:
    plain = SWEEP_CFG
    sharp = SWEEP_CFG.with_(sharpness_every=10)
    for cfg in (plain, sharp):
        nets.train(cfg)  # compile
    repeats = 3 if quick else 7
    runs = {"plain": plain, "sharp": sharp}
    walls, cpus = {k: [] for k in runs}, {k: [] for k in runs}
    for _ in range(repeats):  # interleaved, so a change in the machine's load hits both
        for key, cfg in runs.items():
            c0, t0 = time.process_time(), time.perf_counter()
            nets.train(cfg)
            walls[key].append(time.perf_counter() - t0)
            cpus[key].append(time.process_time() - c0)
    t_plain, t_sharp = (statistics.median(walls[k]) for k in runs)
    c_plain, c_sharp = (min(cpus[k]) for k in runs)
    step_ms, hvp_ms = step_and_hvp_ms(plain)
    emit(bench="sharpness_every_10_steps_overhead", plain_seconds=round(t_plain, 4),
         with_sharpness_seconds=round(t_sharp, 4),
         overhead=round(t_sharp / t_plain - 1.0, 3), best_overhead=round(
             min(walls["sharp"]) / min(walls["plain"]) - 1.0, 3),
         plain_cpu_seconds=round(c_plain, 4), with_sharpness_cpu_seconds=round(c_sharp, 4),
         cpu_overhead=round(c_sharp / c_plain - 1.0, 3), gradient_step_ms=round(step_ms, 3),
         hessian_vector_product_ms=round(hvp_ms, 3),
         note="a measurement costs one linearisation and its Lanczos products (3 or more, see "
         "lrviz.nets.lanczos); train() runs them on a second thread while the next stretch "
         "of updates trains (lrviz.nets.train.train_and_track)",
         target="overhead <= 0.5")


def step_and_hvp_ms(cfg: nets.NetConfig, repeats: int = 200) -> tuple[float, float]:
    """Milliseconds of one full-batch gradient (the bulk of a training step) and of one
    Hessian-vector product (the unit of a sharpness measurement) of ``cfg``'s initial net,
    each the best of a few compiled loops of ``repeats``."""
    from lrviz.nets.model import loss_and_grad

    data = nets.load_dataset(cfg.dataset)
    X = jnp.asarray(data.X_train)
    target = jax.nn.one_hot(jnp.asarray(data.y_train), data.n_classes, dtype=jnp.float32)
    XT = jnp.transpose(X)
    params = tuple((jnp.asarray(W), jnp.asarray(b)) for W, b in nets.init_params(cfg))

    def grad(p):
        return loss_and_grad(p, X, target, cfg.activation, cfg.loss, XT)[1]

    @jax.jit
    def steps(p):
        def body(p, _):
            return jax.tree.map(lambda a, g: a - 1e-6 * g, p, grad(p)), None
        return jax.lax.scan(body, p, None, length=repeats)[0]

    @jax.jit
    def products(p, v):
        hvp = lanczos.objective_hvp(grad, p)

        def body(v, _):
            w = hvp(v)
            return w / jnp.sqrt(jnp.vdot(w, w)), None
        return jax.lax.scan(body, v, None, length=repeats)[0]

    v = jnp.ones(sum(W.size + b.size for W, b in params), jnp.float32)
    step_s = best_time(lambda: steps(params), 5)[0]
    hvp_s = best_time(lambda: products(params, v), 5)[0]
    return 1e3 * step_s / repeats, 1e3 * hvp_s / repeats


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
    bench_floor(quick)
    bench_sweep(quick)
    bench_sharpness(quick)
    bench_map(quick)


if __name__ == "__main__":
    main()
