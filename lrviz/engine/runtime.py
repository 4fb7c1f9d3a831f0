"""Process-level resources for the app and benchmarks: the persistent compilation cache, a
bound on how many compiled programs a long-lived process keeps in memory, and the threads that
run batches side by side (for both the 2-D engine and the networks).

Why the bound: every XLA:CPU executable JAX keeps alive holds about ten memory mappings (its
code, constants and data), and Linux caps a process at ``vm.max_map_count`` mappings (65,530 by
default). A server or test process that compiles a few thousand structures reaches the cap,
and the next compile or cache load dies inside XLA (SIGSEGV/SIGABRT) instead of raising.
`keep_mappings_in_check` drops the in-memory programs well before that; they come back from the
persistent cache in milliseconds.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TypeVar

import jax

ENV_CACHE_DIR = "LRVIZ_JAX_CACHE"
_enabled = False

MAP_SHARE = 0.5  # share of the kernel's mapping cap that compiled programs may push us to
CHECK_EVERY = 32  # compiled calls between two looks at the mapping count (a look reads /proc)
DEFAULT_MAP_LIMIT = 65530  # Linux's default vm.max_map_count

T = TypeVar("T")

_calls = 0
_release_hooks: list[Callable[[], None]] = []
releases = 0  # how many times this process has dropped its compiled programs


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path:
    """Keep compiled trajectories on disk so a restarted server skips most compiles.

    The default JAX threshold (1 s) would skip almost every small CPU compile, so it is set to 0.
    The folder is ``$LRVIZ_JAX_CACHE`` or ``~/.cache/lrviz/jax``. Process-global; call once.
    """
    global _enabled
    folder = Path(path or os.environ.get(ENV_CACHE_DIR) or Path.home() / ".cache/lrviz/jax")
    if not _enabled:
        folder.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(folder))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        _enabled = True
    return folder


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def batch_slices(total: int, chunk: int, workers: int) -> list[slice]:
    """Consecutive runs ``0 .. total-1`` cut into batches of at most ``chunk`` runs, and into
    at least ``workers`` batches when there are that many runs (equal sizes but the last), so
    that every worker thread of `run_batches` has a batch."""
    size = max(1, min(int(chunk), -(-total // max(1, workers))))
    return [slice(start, min(total, start + size)) for start in range(0, total, size)]


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_in_pool = threading.local()


def _shared_pool() -> ThreadPoolExecutor:
    """The process's batch threads (one per usable core), started once: a pool per call cost
    about 1.5 ms of thread start-up on every sweep, a third of the sweep itself."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=usable_cores(), thread_name_prefix="lrviz-batch",
                                       initializer=lambda: setattr(_in_pool, "worker", True))
        return _pool


def run_batches(jobs: Sequence[Callable[[], T]], sizes: Sequence[int], workers: int,
                progress: Callable[[float], None] | None = None) -> list[T]:
    """``[job() for job in jobs]``, run on up to ``workers`` threads at once;
    ``progress(fraction of runs done)`` is called from the calling thread as batches finish
    (``sizes[k]`` runs in ``jobs[k]``).

    Why threads: XLA's CPU code runs most of a batch's operations (elementwise scans, small
    per-run products) on one core and spreads only large matmuls over the others; compiled
    programs release the GIL, so two batches on two threads keep two cores busy. Measured on
    the 2-core machine: the 32-rate digits network sweep took 2.2-2.4 s as two 16-run batches
    instead of 3.2-3.6 s as one, and the compiled part of a 1000-run 2-D sweep 4.6 ms as two
    halves instead of 6.7 ms. Concurrent first calls compile a program once (JAX waits for the
    other thread's compilation). The threads are shared by the whole process (callers from
    several sessions queue for the same cores); a job that itself runs batches runs them in
    turn on its own thread, so jobs never wait for a pool they occupy. Once ``progress`` or a
    batch raises, the batches not yet started are dropped (the running ones finish first).
    """
    total = float(sum(sizes))
    done = 0
    if workers <= 1 or len(jobs) <= 1 or getattr(_in_pool, "worker", False):
        results = []
        for job, size in zip(jobs, sizes, strict=True):
            results.append(job())
            done += size
            if progress is not None:
                progress(done / total)
        return results
    results: list = [None] * len(jobs)
    pool = _shared_pool()
    # at most ``workers`` of this call's jobs in flight: each finished one starts the next
    pending = list(enumerate(jobs))[::-1]
    running: dict = {}

    def start_next() -> None:
        if pending:
            k, job = pending.pop()
            running[pool.submit(job)] = k

    for _ in range(min(workers, len(jobs))):
        start_next()
    try:
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                k = running.pop(future)
                results[k] = future.result()
                done += sizes[k]
                start_next()
                if progress is not None:
                    progress(done / total)
    finally:  # on an error (or an interrupt raised by ``progress``), start no further batch
        pending.clear()
        wait(running)
    return results


def map_limit() -> int:
    """The kernel's cap on memory mappings per process (``vm.max_map_count``)."""
    try:
        return int(Path("/proc/sys/vm/max_map_count").read_text())
    except (OSError, ValueError):
        return DEFAULT_MAP_LIMIT


def mapped_regions() -> int | None:
    """How many memory mappings this process holds now (None where ``/proc`` is unavailable)."""
    try:
        with open("/proc/self/maps", "rb") as maps:
            return maps.read().count(b"\n")
    except OSError:
        return None


def on_release(hook: Callable[[], None]) -> None:
    """Call ``hook()`` just before compiled programs are dropped (e.g. to keep a count)."""
    _release_hooks.append(hook)


def release_compiled_programs() -> None:
    """Drop every compiled program JAX keeps in memory (its jit and lowering caches).

    Results are unchanged: the next call of each program compiles it again, or loads it from the
    persistent cache when one is enabled."""
    global releases
    for hook in _release_hooks:
        hook()
    jax.clear_caches()
    releases += 1


def keep_mappings_in_check() -> bool:
    """Call before running a compiled program. Every `CHECK_EVERY` calls, count this process's
    memory mappings; at or above ``MAP_SHARE * map_limit()`` drop the compiled programs.
    Returns whether it dropped them."""
    global _calls
    _calls += 1
    if _calls % CHECK_EVERY:
        return False
    used = mapped_regions()
    if used is None or used < MAP_SHARE * map_limit():
        return False
    release_compiled_programs()
    return True
