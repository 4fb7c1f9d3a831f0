"""Process-level JAX settings for the app and benchmarks: the persistent compilation cache, and
a bound on how many compiled programs a long-lived process keeps in memory.

Why the bound: every XLA:CPU executable JAX keeps alive holds about ten memory mappings (its
code, constants and data), and Linux caps a process at ``vm.max_map_count`` mappings (65,530 by
default). A server or test process that compiles a few thousand structures reaches the cap,
and the next compile or cache load dies inside XLA (SIGSEGV/SIGABRT) instead of raising.
`keep_mappings_in_check` drops the in-memory programs well before that; they come back from the
persistent cache in milliseconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import jax

ENV_CACHE_DIR = "LRVIZ_JAX_CACHE"
_enabled = False

MAP_SHARE = 0.5  # share of the kernel's mapping cap that compiled programs may push us to
CHECK_EVERY = 32  # compiled calls between two looks at the mapping count (a look reads /proc)
DEFAULT_MAP_LIMIT = 65530  # Linux's default vm.max_map_count

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
