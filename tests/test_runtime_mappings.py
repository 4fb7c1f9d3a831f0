"""A long-lived process must not run out of memory mappings because of compiled programs.

Every XLA:CPU executable JAX keeps alive holds several memory mappings, and Linux caps a process
at ``vm.max_map_count`` (65,530 by default). A test process once reached the cap after ~500 tests
and died inside XLA with SIGSEGV/SIGABRT while loading a program from the persistent cache.
`runtime.keep_mappings_in_check` drops the in-memory programs well before the cap.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from lrviz import simulate
from lrviz.engine import core, runtime
from lrviz.engine.config import RunConfig

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc/self/maps")

# distinct structures: each (surface, optimizer) pair is its own compiled program
STRUCTURES = [(s, o) for s in ("bowl", "ravine", "booth", "matyas", "beale", "himmelblau")
              for o in ("sgd", "momentum", "adagrad", "rmsprop")]


def run(surface: str, optimizer: str, steps: int = 30):
    return simulate(RunConfig(surface=surface, optimizer=optimizer, lr=0.01, steps=steps))


def test_mapping_count_and_cap_are_read_from_the_kernel():
    used, cap = runtime.mapped_regions(), runtime.map_limit()
    assert used is not None and 50 < used < cap
    with open("/proc/sys/vm/max_map_count") as f:
        assert cap == int(f.read())


def test_releasing_frees_mappings_and_changes_no_result():
    before_runs = [run(s, o) for s, o in STRUCTURES[:12]]
    held = runtime.mapped_regions()
    compiled = core.compiled_count()
    runtime.release_compiled_programs()
    freed = held - runtime.mapped_regions()
    assert freed >= 3 * 12, f"dropping 12+ programs freed only {freed} mappings"
    after_runs = [run(s, o) for s, o in STRUCTURES[:12]]
    for a, b in zip(before_runs, after_runs, strict=True):
        np.testing.assert_array_equal(a.points, b.points)
        assert a.regime == b.regime and a.explanation == b.explanation
    # the count of compilations keeps growing across a release (recompile checks stay honest)
    assert core.compiled_count() >= compiled + 12


def test_guard_drops_programs_only_at_or_over_the_budget(monkeypatch):
    monkeypatch.setattr(runtime, "CHECK_EVERY", 1)
    monkeypatch.setattr(runtime, "map_limit", lambda: 1000)
    released = []
    monkeypatch.setattr(runtime, "release_compiled_programs", lambda: released.append(1))
    monkeypatch.setattr(runtime, "mapped_regions", lambda: 499)
    assert runtime.keep_mappings_in_check() is False and released == []
    monkeypatch.setattr(runtime, "mapped_regions", lambda: 500)  # MAP_SHARE = 0.5 of 1000
    assert runtime.keep_mappings_in_check() is True and released == [1]
    monkeypatch.setattr(runtime, "mapped_regions", lambda: None)  # no /proc: never guesses
    assert runtime.keep_mappings_in_check() is False


def test_guard_looks_only_every_check_every_calls(monkeypatch):
    looks = []
    monkeypatch.setattr(runtime, "CHECK_EVERY", 4)
    monkeypatch.setattr(runtime, "_calls", 0)
    monkeypatch.setattr(runtime, "mapped_regions", lambda: looks.append(1) or 0)
    for _ in range(12):
        runtime.keep_mappings_in_check()
    assert len(looks) == 3


def test_many_structures_stay_under_the_budget(monkeypatch):
    """End to end: with the budget set a little above what the process holds now, compiling two
    dozen new structures through the engine keeps the mapping count near the budget. Unguarded,
    each new structure adds ~110 mappings (its trajectory program, its curvature and the small
    eager programs around them), ~3,100 for the 24; one run from a cold start adds ~350."""
    runtime.release_compiled_programs()
    start = runtime.mapped_regions()
    budget = start + 800
    monkeypatch.setattr(runtime, "CHECK_EVERY", 1)
    monkeypatch.setattr(runtime, "map_limit", lambda: int(budget / runtime.MAP_SHARE) + 1)
    releases = runtime.releases
    peak = start
    for s, o in STRUCTURES:
        run(s, o)
        peak = max(peak, runtime.mapped_regions())
    assert runtime.releases > releases, "the guard never dropped anything"
    # between two looks at most one run's programs are added
    assert peak < budget + 400, f"peak {peak} mappings against a budget of {budget}"
