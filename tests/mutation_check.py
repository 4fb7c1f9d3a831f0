"""Mutation check: hand-written mistakes in the engine must each make a test fail.

Each mutation is one small textual replacement in ``lrviz/engine`` that brings back a way the
numbers can silently stop being PyTorch's: an optax default (AdaGrad's accumulator at 0.1,
RMSprop's eps inside the root, AdamW's weight decay 1e-4), a parameter the builder ignores (it
falls back to the default), or an off-by-one in a phase boundary. For each one the check copies
the repository to a temporary folder, applies the replacement to the copy, runs the tests that
should catch it there and reports "killed" when a test fails. The working tree is never
written to, so an interrupted check (Ctrl-C) cannot leave the engine mutated.

    python -m tests.mutation_check              # every mutation; JSON summary on stdout
    python -m tests.mutation_check --only adagrad-accumulator-0.1 cosine-t-max-ignored
    python -m tests.mutation_check --list

Before the mutations, the selected tests run once on an unmutated copy and must pass: a test
that fails anyway would "kill" everything. Exit status 0 iff every mutation was killed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPTIMIZERS_PY = "lrviz/engine/optimizers.py"
SCHEDULES_PY = "lrviz/engine/schedules.py"

_SEM = "tests/test_torch_semantics.py::"
_VS = "tests/test_engine_vs_torch.py::"
OPTIMIZER_TESTS = (
    _SEM + "test_tiny_gradients_near_a_minimum_follow_torch",
    _SEM + "test_every_hyperparameter_off_its_default_follows_torch",
    _VS + "test_optimizer_matches_torch_optim_with_pytorch_defaults",
    _VS + "test_pytorch_defaults_are_lrviz_defaults",
)
SCHEDULE_TESTS = (
    _SEM + "test_schedule_equals_its_stated_torch_scheduler_for_every_step",
    _SEM + "test_cosine_past_t_max_climbs_back_as_pytorch_does_and_says_so",
    _SEM + "test_warmup_longer_than_the_run_is_linear_warmup_alone_as_stated",
    _SEM + "test_one_cycle_in_runs_too_short_for_a_rise",
    _SEM + "test_one_cycle_peaks_at_pct_start_times_t_minus_one",
    _VS + "test_schedule_matches_torch_lr_scheduler",
)
PLATEAU_TESTS = (
    _SEM + "test_reduce_on_plateau_follows_torch_for_every_parameter",
    _SEM + "test_plateau_threshold_decides_a_real_run",
    _VS + "test_reduce_on_plateau_matches_torch_on_a_real_run",
)


@dataclass(frozen=True)
class Mutation:
    """Replace ``old`` (which must occur exactly once in ``path``) by ``new``; then the tests
    ``tests`` (pytest node ids), narrowed by the ``-k`` expression ``keyword``, should fail."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    keyword: str = ""


def _opt(name: str, old: str, new: str, optimizer: str) -> Mutation:
    return Mutation(name, OPTIMIZERS_PY, old, new, OPTIMIZER_TESTS,
                    f"{optimizer} or defaults_are_lrviz")


def _sched(name: str, old: str, new: str, keyword: str) -> Mutation:
    return Mutation(name, SCHEDULES_PY, old, new, SCHEDULE_TESTS, keyword)


def _plateau(name: str, old: str, new: str) -> Mutation:
    return Mutation(name, SCHEDULES_PY, old, new, PLATEAU_TESTS)


_ADAM_WITHOUT_BIAS_CORRECTION = '''\
    def init(p):
        return (jnp.zeros_like(p), jnp.zeros_like(p))

    def update(g, s, p=None):
        m = beta1 * s[0] + (1 - beta1) * g
        v = beta2 * s[1] + (1 - beta2) * g * g
        return -learning_rate * m / (jnp.sqrt(v) + eps), (m, v)

    return optax.GradientTransformation(init, update)
'''

MUTATIONS: tuple[Mutation, ...] = (
    # --- optimizers: optax defaults and ignored hyperparameters
    _opt("adagrad-accumulator-0.1", "SumOfSquaresState(jax.tree.map(jnp.zeros_like, params))",
         "SumOfSquaresState(jax.tree.map(lambda p: jnp.full_like(p, 0.1), params))", "adagrad"),
    _opt("adagrad-eps-inside-root", "g / (jnp.sqrt(s) + eps)", "g / jnp.sqrt(s + eps)",
         "adagrad"),
    _opt("adagrad-eps-ignored", "return torch_adagrad(learning_rate, eps=eps)",
         "return torch_adagrad(learning_rate)", "adagrad"),
    _opt("adagrad-optax-defaults", "return torch_adagrad(learning_rate, eps=eps)",
         "return optax.adagrad(learning_rate)", "adagrad"),
    _opt("rmsprop-eps-inside-root", "eps=eps, eps_in_sqrt=False", "eps=eps, eps_in_sqrt=True",
         "rmsprop"),
    _opt("rmsprop-decay-0.9", "decay=alpha,", "decay=0.9,", "rmsprop"),
    _opt("rmsprop-eps-ignored", "decay=alpha, eps=eps,", "decay=alpha, eps=1e-8,", "rmsprop"),
    _opt("rmsprop-optax-defaults",
         "optax.rmsprop(learning_rate, decay=alpha, eps=eps, eps_in_sqrt=False)",
         "optax.rmsprop(learning_rate)", "rmsprop"),
    _opt("rmsprop-default-alpha-0.9", 'Param("alpha", 0.99,', 'Param("alpha", 0.9,', "rmsprop"),
    _opt("adam-no-bias-correction",
         "    return optax.adam(learning_rate, b1=beta1, b2=beta2, eps=eps)\n",
         _ADAM_WITHOUT_BIAS_CORRECTION, "adam"),
    _opt("adam-beta1-ignored", "optax.adam(learning_rate, b1=beta1,",
         "optax.adam(learning_rate, b1=0.9,", "adam"),
    _opt("adam-beta2-ignored", "optax.adam(learning_rate, b1=beta1, b2=beta2,",
         "optax.adam(learning_rate, b1=beta1, b2=0.999,", "adam"),
    _opt("adam-eps-ignored", "optax.adam(learning_rate, b1=beta1, b2=beta2, eps=eps)",
         "optax.adam(learning_rate, b1=beta1, b2=beta2, eps=1e-8)", "adam"),
    _opt("adamw-weight-decay-1e-4", "eps=eps, weight_decay=weight_decay)", "eps=eps)", "adamw"),
    _opt("adamw-default-weight-decay-1e-4", 'Param("weight_decay", 1e-2,',
         'Param("weight_decay", 1e-4,', "adamw"),
    _opt("adamw-beta1-ignored", "optax.adamw(learning_rate, b1=beta1,",
         "optax.adamw(learning_rate, b1=0.9,", "adamw"),
    _opt("adamw-beta2-ignored", "optax.adamw(learning_rate, b1=beta1, b2=beta2,",
         "optax.adamw(learning_rate, b1=beta1, b2=0.999,", "adamw"),
    _opt("adamw-eps-ignored", "b2=beta2, eps=eps, weight_decay", "b2=beta2, eps=1e-8, weight_decay",
         "adamw"),
    _opt("momentum-ignored", "optax.sgd(learning_rate, momentum=momentum)\n",
         "optax.sgd(learning_rate, momentum=0.9)\n", "momentum"),
    _opt("nesterov-flag-ignored", "optax.sgd(learning_rate, momentum=momentum, nesterov=True)",
         "optax.sgd(learning_rate, momentum=momentum)", "nesterov"),
    _opt("nesterov-momentum-ignored",
         "optax.sgd(learning_rate, momentum=momentum, nesterov=True)",
         "optax.sgd(learning_rate, momentum=0.9, nesterov=True)", "nesterov"),
    # --- step-driven schedules: horizons and every parameter
    _sched("step-gamma-ignored", 'decay_rate=q["gamma"], staircase=True',
           "decay_rate=0.1, staircase=True", "[step-"),
    _sched("step-size-ignored", 'transition_steps=int(q["step_size"])', "transition_steps=100",
           "[step-"),
    _sched("exponential-gamma-ignored", 'transition_steps=1, decay_rate=q["gamma"]',
           "transition_steps=1, decay_rate=0.99", "exponential"),
    _sched("inverse-time-decay-ignored", 'lr / (1.0 + q["decay"] * t)', "lr / (1.0 + 0.01 * t)",
           "inverse_time"),
    _sched("cosine-t-max-ignored", 'return int(q["T_max"]) if q["T_max"] >= 1 else steps',
           "return steps", "cosine"),
    _sched("cosine-eta-min-ignored", 'length, floor = _cosine_length(steps, q), q["eta_min"]',
           "length, floor = _cosine_length(steps, q), 0.0", "cosine"),
    _sched("cosine-holds-floor-after-t-max",
           "    return lambda t: floor + 0.5 * (lr - floor) * (\n"
           "        1.0 + jnp.cos(jnp.pi * jnp.mod(t, 2 * length) / length))",
           "    return optax.cosine_decay_schedule(lr, length, alpha=floor / lr)", "cosine"),
    _sched("warmup-length-ignored", 'warmup = int(q["warmup_steps"])', "warmup = 30", "warmup"),
    _sched("warmup-clamped-to-run", 'warmup = int(q["warmup_steps"])',
           'warmup = int(min(q["warmup_steps"], steps - 1))', "warmup"),
    _sched("warmup-start-factor-ignored", 'init_value=lr * q["start_factor"]',
           "init_value=lr * 0.01", "warmup"),
    _sched("warmup-eta-min-ignored", 'end_value=q["eta_min"],', "end_value=0.0,", "warmup"),
    _sched("one-cycle-peak-at-pct-times-t", 'peak = q["pct_start"] * steps - 1.0',
           'peak = q["pct_start"] * steps', "one_cycle"),
    _sched("one-cycle-pct-start-ignored", 'peak = q["pct_start"] * steps - 1.0',
           "peak = 0.3 * steps - 1.0", "one_cycle"),
    _sched("one-cycle-div-factor-ignored", 'initial = lr / q["div_factor"]',
           "initial = lr / 25.0", "one_cycle"),
    _sched("one-cycle-final-div-factor-ignored", 'final = initial / q["final_div_factor"]',
           "final = initial / 1e4", "one_cycle"),
    _sched("cyclic-step-size-up-ignored", 'size = q["step_size_up"]', "size = 50.0", "cyclic"),
    _sched("cyclic-base-factor-ignored", 'base = lr * q["base_factor"]', "base = lr * 0.1",
           "cyclic"),
    _sched("restarts-t0-ignored", 'cycles, length, covered = [], max(int(q["T_0"]), 1), 0',
           "cycles, length, covered = [], 50, 0", "restarts"),
    _sched("restarts-t-mult-ignored", 'length = max(int(length * q["T_mult"]), 1)',
           "length = max(int(length * 1), 1)", "restarts"),
    _sched("restarts-eta-min-ignored", 'decay_steps=length, end_value=q["eta_min"]',
           "decay_steps=length, end_value=0.0", "restarts"),
    # --- reduce on plateau
    _plateau("plateau-threshold-ignored", 'improved = loss < state.best * (1.0 - q["threshold"])',
             "improved = loss < state.best"),
    _plateau("plateau-patience-off-by-one", 'reduce = num_bad > q["patience"]',
             'reduce = num_bad >= q["patience"]'),
    _plateau("plateau-patience-ignored", 'reduce = num_bad > q["patience"]',
             "reduce = num_bad > 10"),
    _plateau("plateau-factor-ignored", 'jnp.maximum(old_lr * q["factor"], q["min_lr"])',
             'jnp.maximum(old_lr * 0.1, q["min_lr"])'),
    _plateau("plateau-min-lr-ignored", 'jnp.maximum(old_lr * q["factor"], q["min_lr"])',
             'jnp.maximum(old_lr * q["factor"], 0.0)'),
    _plateau("plateau-cooldown-ignored",
             'cooldown_left = jnp.where(reduce, q["cooldown"].astype(jnp.int32), cooldown_left)',
             "cooldown_left = jnp.where(reduce, 0, cooldown_left)"),
)
BY_NAME = {m.name: m for m in MUTATIONS}

# A change no test can see (a comment): it must survive, which shows that "killed" above is
# the tests' doing and not the harness's.
CONTROL = Mutation("control-comment-only", SCHEDULES_PY,
                   "# optax has no 1/t decay; it is one line.",
                   "# (a comment changed by the mutation check's control)",
                   (_SEM + "test_schedule_equals_its_stated_torch_scheduler_for_every_step",),
                   "inverse_time")

_IGNORE = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", ".ruff_cache", "*.pyc",
                                 ".hypothesis")


class StaleMutationError(ValueError):
    """The text a mutation replaces is not in the source exactly once (the code moved on)."""


def mutated_text(source: str, mutation: Mutation) -> str:
    """``source`` with the mutation applied; StaleMutationError unless ``old`` is there once."""
    count = source.count(mutation.old)
    if count != 1:
        raise StaleMutationError(f"{mutation.name}: the text to replace occurs {count} times in "
                            f"{mutation.path} (expected once): {mutation.old!r}")
    return source.replace(mutation.old, mutation.new)


def pytest_command(tests: Sequence[str], keyword: str = "") -> list[str]:
    cmd = [sys.executable, "-m", "pytest", *tests, "-x", "-q", "-p", "no:cacheprovider",
           "-o", "addopts=-rf"]
    return [*cmd, "-k", keyword] if keyword else cmd


def _child_env(cache: Path, root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)  # the copy, never the working tree
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # Unmutated programs compile once for the whole check; mutated ones hash differently.
    env["JAX_COMPILATION_CACHE_DIR"] = str(cache)
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    return env


# Importing jax, torch and pytest costs seconds per process; `preload` imports them once in this
# process and each mutation then runs in a fork of it (lrviz itself is imported only in the
# fork, from the mutated copy). Off unless `preload` ran, e.g. when imported by a test.
_FORK_READY = False


def preload(cache: Path) -> None:
    """Import the heavy test dependencies once, before any fork (POSIX only).

    JAX must not have started a backend in the parent (a fork of a running XLA runtime can
    deadlock), so nothing is computed here, and lrviz must not be imported yet.
    """
    global _FORK_READY
    if not hasattr(os, "fork") or "lrviz" in sys.modules or "jax" in sys.modules:
        return
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(cache)
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    import jax  # noqa: F401
    import numpy  # noqa: F401
    import optax  # noqa: F401
    import pytest  # noqa: F401
    import torch  # noqa: F401

    _FORK_READY = True


def _pytest_in_fork(copy: Path, args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    output = copy / "pytest-output.txt"
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 3
        try:
            with open(output, "w") as out:
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
                os.chdir(copy)
                os.environ.update(env)
                sys.path.insert(0, str(copy))
                import pytest

                code = int(pytest.main(list(args)))
                sys.stdout.flush()
                sys.stderr.flush()
        finally:
            os._exit(code)
    try:
        _, status = os.waitpid(pid, 0)
    except BaseException:  # Ctrl-C: the fork is ours to end
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    return os.waitstatus_to_exitcode(status), output.read_text()


def _pytest(copy: Path, tests: Sequence[str], keyword: str, cache: Path,
            timeout: float) -> tuple[int | None, str]:
    command = pytest_command(tests, keyword)
    env = _child_env(cache, copy)
    if _FORK_READY:
        return _pytest_in_fork(copy, command[3:], env)
    try:
        proc = subprocess.run(command, cwd=copy, capture_output=True, text=True, env=env,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {timeout} s"
    return proc.returncode, proc.stdout


def run_tests_in_copy(tests: Sequence[str], keyword: str, cache: Path,
                      mutation: Mutation | None = None, timeout: float = 1800) -> dict:
    """Copy the repository, apply ``mutation`` to the copy, run the tests there.

    Returns ``{"status", "returncode", "failed", "seconds"}``; status is "killed" (a test
    failed), "survived" (all passed), "stale" (the text to replace is gone) or "error"
    (collection error, no tests selected, timeout).
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lrviz-mutant-") as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(ROOT, copy, ignore=_IGNORE)
        if mutation is not None:
            target = copy / mutation.path
            try:
                target.write_text(mutated_text(target.read_text(), mutation))
            except StaleMutationError as err:
                return {"status": "stale", "returncode": None, "failed": str(err),
                        "seconds": 0.0}
        returncode, output = _pytest(copy, tests, keyword, cache, timeout)
    failed = re.findall(r"^FAILED (\S+)", output, flags=re.MULTILINE)
    status = {0: "survived", 1: "killed"}.get(returncode, "error")
    detail = failed[0] if failed else ("" if status == "survived" else output[-2000:])
    return {"status": status, "returncode": returncode, "failed": detail,
            "seconds": round(time.monotonic() - started, 1)}


def _digest(paths: Iterable[str]) -> dict[str, str]:
    return {p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in sorted(set(paths))}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_check(mutations: Sequence[Mutation], cache: Path, baseline: bool = True,
              control: bool = False) -> dict:
    """Run every mutation; the summary dict has killed, total, survivors and per-mutation rows.

    ``cache`` is a scratch folder for JAX's compilation cache, shared by the runs. With
    ``control``, the comment-only `CONTROL` runs too and ``summary["control"]`` is its status
    ("survived" when the harness works).
    """
    before = _digest(m.path for m in mutations)
    rows, summary = [], {"killed": 0, "total": len(mutations)}
    if baseline:
        tests = sorted({t for m in mutations for t in m.tests})
        base = run_tests_in_copy(tests, "", cache)
        _log(f"baseline (unmutated): {base['status']} in {base['seconds']} s")
        summary["baseline"] = "passed" if base["status"] == "survived" else "failed"
        if base["status"] != "survived":
            summary["baseline_failure"] = base["failed"]
            return {**summary, "survived": [], "source_untouched": True, "mutations": []}
    for m in mutations:
        row = {"name": m.name, **run_tests_in_copy(m.tests, m.keyword, cache, m)}
        rows.append(row)
        _log(f"{m.name}: {row['status']} in {row['seconds']} s  {row['failed']:.120}")
    if control:
        summary["control"] = run_tests_in_copy(CONTROL.tests, CONTROL.keyword, cache,
                                               CONTROL)["status"]
        _log(f"control (comment only): {summary['control']}")
    after = _digest(m.path for m in mutations)
    summary["killed"] = sum(r["status"] == "killed" for r in rows)
    summary["survived"] = [r["name"] for r in rows if r["status"] != "killed"]
    summary["source_untouched"] = before == after
    summary["mutations"] = [{"name": r["name"], "status": r["status"],
                             "killed_by": r["failed"] if r["status"] == "killed" else None,
                             "detail": None if r["status"] == "killed" else r["failed"],
                             "seconds": r["seconds"]} for r in rows]
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutations")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the unmutated run of the selected tests")
    parser.add_argument("--control", action="store_true",
                        help="also run a comment-only change, which must survive")
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:40s} {m.path}")
        return 0
    unknown = sorted(set(args.only or ()) - set(BY_NAME))
    if unknown:
        parser.error(f"unknown mutation(s): {', '.join(unknown)} (see --list)")
    chosen = [BY_NAME[n] for n in args.only] if args.only else list(MUTATIONS)
    with tempfile.TemporaryDirectory(prefix="lrviz-mutation-cache-") as cache:
        preload(Path(cache))
        summary = run_check(chosen, Path(cache), baseline=not args.no_baseline,
                            control=args.control)
    print(json.dumps(summary, indent=1))
    ok = summary["killed"] == summary["total"] and summary["source_untouched"]
    return 0 if ok and summary.get("control", "survived") == "survived" else 1


if __name__ == "__main__":
    raise SystemExit(main())
