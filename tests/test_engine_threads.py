"""Large batches run as one part per core, on threads; the numbers must not depend on it."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz import RunConfig, phase_map
from lrviz.engine import simulate as sim
from lrviz.engine.simulate import THREAD_MIN_RUNS, Row, _parts, execute


@pytest.mark.parametrize(("runs", "workers", "sizes"), [
    (THREAD_MIN_RUNS * 2 - 1, 2, [THREAD_MIN_RUNS * 2 - 1]),  # too small to split
    (THREAD_MIN_RUNS * 2, 2, [THREAD_MIN_RUNS] * 2),
    (1001, 2, [501, 500]),
    (1001, 1, [1001]),
    (4096, 3, [1366, 1366, 1364]),
    (600, 8, [300, 300]),  # never parts under THREAD_MIN_RUNS runs
])
def test_parts_cover_every_run_once_in_order(runs, workers, sizes):
    parts = _parts(list(range(runs)), workers)
    assert [len(p) for p in parts] == sizes
    assert [i for p in parts for i in p] == list(range(runs))


def test_threaded_sweep_equals_one_batch_run_for_run():
    cfg = RunConfig(surface="rosenbrock", optimizer="adam", steps=200)
    rates = np.geomspace(1e-4, 1.0, 2 * THREAD_MIN_RUNS + 37)
    rows = [Row(cfg, float(lr)) for lr in rates]
    one = execute(rows, paths=False, workers=1)
    two = execute(rows, paths=False, workers=2)
    assert len(one) == 1 and len(two) == 2
    (_, whole), = one
    for part_idx, part in two:
        cols = np.asarray(part_idx)
        np.testing.assert_array_equal(part.final_loss, whole.final_loss[cols])
        np.testing.assert_array_equal(part.diverged_at, whole.diverged_at[cols])
        for a, b in zip(part.stats, whole.stats, strict=True):
            np.testing.assert_array_equal(a, b[..., cols])


def test_phase_map_regimes_do_not_depend_on_threads(monkeypatch):
    cfg = RunConfig(surface="ravine", optimizer="momentum", steps=120)
    lrs = np.geomspace(1e-3, 1.0, 40)
    args = (cfg, lrs, "optimizer", "momentum", np.linspace(0.0, 0.95, 16))  # 640 runs, 16 batches
    threaded = phase_map(*args)
    original = sim.execute
    monkeypatch.setattr(sim, "execute", lambda rows, paths=True, workers=None:
                        original(rows, paths, workers=1))
    single = phase_map(*args)
    np.testing.assert_array_equal(threaded.final_losses, single.final_losses)
    assert threaded.regimes == single.regimes
