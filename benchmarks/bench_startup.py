"""First view after a (re)start: what the persistent compilation cache saves.

Runs the home page's hero simulation in fresh processes: once with an empty JAX compilation
cache, twice with the cache the first run filled. Prints one JSON object per line.

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import time
t0 = time.perf_counter()
from lrviz.engine.runtime import enable_compilation_cache
enable_compilation_cache({cache!r})
import lrviz
from lrviz.figures.hero import hero_configs
t1 = time.perf_counter()
lrviz.simulate_many(hero_configs())
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def child(cache: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", CHILD.format(cache=cache)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    imports, first_view = map(float, out.stdout.split())
    return imports, first_view


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        cold = child(cache)
        warm = [child(cache) for _ in range(2)]
        wall = time.perf_counter() - t0
    best_warm = min(w[1] for w in warm)
    print(json.dumps({
        "bench": "first_view_after_restart", "import_s": round(cold[0], 3),
        "empty_cache_first_view_s": round(cold[1], 3),
        "warm_cache_first_view_s": round(best_warm, 3),
        "saved_ratio": round(cold[1] / best_warm, 1), "wall_s": round(wall, 1),
        "note": "three hero runs (one structure) in a fresh process; the cache is "
                "~/.cache/lrviz/jax in the app ($LRVIZ_JAX_CACHE)",
    }))


if __name__ == "__main__":
    main()
