"""Remedy check benchmark: every candidate in one `simulate_many` call vs one `simulate` each.

Prints one JSON object per line; both timings are measured warm in this process, so the ratio
means something on a shared, noisy machine. Not part of the test run:

    python benchmarks/bench_remedies.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install

from lrviz import simulate, simulate_many
from lrviz.engine.presets import PRESETS
from lrviz.ui.lab.remedies import candidates

REPEATS = 15
PRESET_IDS = ("divergence", "schedule-rescue", "slow", "warmup", "momentum-escapes")


def median_time(fn) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    for preset_id in PRESET_IDS:
        run = simulate(PRESETS[preset_id].config)
        cfgs = [c.apply(run.config) for c in candidates(run)]
        simulate_many(cfgs)  # compile every structure once before timing
        for cfg in cfgs:
            simulate(cfg)
        batched = median_time(lambda cfgs=cfgs: simulate_many(cfgs))
        one_by_one = median_time(lambda cfgs=cfgs: [simulate(c) for c in cfgs])
        print(json.dumps({"bench": "remedy_check", "preset": preset_id,
                          "candidates": len(cfgs), "batched_ms": round(batched * 1e3, 2),
                          "one_by_one_ms": round(one_by_one * 1e3, 2),
                          "speedup_vs_one_by_one": round(one_by_one / batched, 2)}), flush=True)


if __name__ == "__main__":
    main()
