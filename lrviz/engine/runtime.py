"""Process-level JAX settings for the app and benchmarks: the persistent compilation cache."""

from __future__ import annotations

import os
from pathlib import Path

import jax

ENV_CACHE_DIR = "LRVIZ_JAX_CACHE"
_enabled = False


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
