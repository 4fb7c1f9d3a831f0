"""Large batches run as one part per core, on threads; the numbers must not depend on it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from lrviz import RunConfig, phase_map
from lrviz.engine import executor, runtime
from lrviz.engine import simulate as sim
from lrviz.engine.executor import THREAD_MIN_RUNS, Block, execute, parts


@pytest.mark.parametrize(("runs", "workers", "sizes"), [
    (THREAD_MIN_RUNS * 2 - 1, 2, [THREAD_MIN_RUNS * 2 - 1]),  # too small to split
    (THREAD_MIN_RUNS * 2, 2, [THREAD_MIN_RUNS] * 2),
    (2001, 2, [1001, 1000]),
    (2001, 1, [2001]),
    (4096, 3, [1366, 1366, 1364]),
    (THREAD_MIN_RUNS * 2 + 1, 8, [THREAD_MIN_RUNS + 1, THREAD_MIN_RUNS]),  # none smaller
    (1000, 2, [1000]),  # a 1000-rate sweep runs as one part (faster on two cores, measured)
])
def test_parts_cover_every_run_once_in_order(runs, workers, sizes):
    cut = parts(runs, workers)
    assert [p.stop - p.start for p in cut] == sizes
    assert [i for p in cut for i in range(runs)[p]] == list(range(runs))


def test_threaded_sweep_equals_one_batch_run_for_run(monkeypatch):
    cfg = RunConfig(surface="rosenbrock", optimizer="adam", steps=200)
    rates = np.geomspace(1e-4, 1.0, 2 * THREAD_MIN_RUNS + 37)
    ran = []
    original = executor._run_part
    monkeypatch.setattr(executor, "_run_part", lambda pieces, *args:
                        ran.append([p.size for p in pieces]) or original(pieces, *args))
    (idx_one, whole), = execute([Block.of(cfg, rates)], paths=False, workers=1)
    assert ran == [[len(rates)]]
    (idx_two, joined), = execute([Block.of(cfg, rates)], paths=False, workers=2)
    assert ran[1:] == [[THREAD_MIN_RUNS + 19], [THREAD_MIN_RUNS + 18]]  # two parts, joined
    np.testing.assert_array_equal(idx_one, idx_two)
    np.testing.assert_array_equal(joined.final_loss, whole.final_loss)
    np.testing.assert_array_equal(joined.diverged_at, whole.diverged_at)
    for name in ("final_point", "final_grad", "final_hessian"):
        np.testing.assert_array_equal(joined.per_run(name), whole.per_run(name))
    for a, b in zip(joined.stats, whole.stats, strict=True):
        np.testing.assert_array_equal(a, b)


def test_blocks_split_across_parts_keep_their_runs_in_order():
    # two configs in one structure, 700 + 900 runs cut into two parts of 800: the first
    # part ends inside the second block
    cfg = RunConfig(surface="ravine", optimizer="momentum", steps=60)
    other = cfg.with_(start=(1.0, -2.0))
    a, b = np.geomspace(1e-3, 0.3, 700), np.geomspace(1e-3, 0.3, 900)
    (idx, batch), = execute([Block.of(cfg, a), Block.of(other, b)], paths=False, workers=2)
    assert [(p.block.cfg is other, p.start, p.stop) for p in batch.pieces] == [
        (False, 0, 700), (True, 0, 100), (True, 100, 900)]
    np.testing.assert_array_equal(idx, np.arange(1600))
    (_, alone), = execute([Block.of(other, b)], paths=False, workers=1)
    np.testing.assert_array_equal(batch.final_loss[700:], alone.final_loss)
    np.testing.assert_array_equal(batch.per_run("final_point")[700:],
                                  alone.per_run("final_point"))


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


def test_batches_run_on_the_same_threads_call_after_call():
    def name():
        time.sleep(0.01)  # keep both threads busy, so each call uses both
        return threading.current_thread().name

    seen = {n for _ in range(5) for n in runtime.run_batches([name] * 4, [1] * 4, 2)}
    assert len(seen) <= runtime.usable_cores()
    assert all(n.startswith("lrviz-batch") for n in seen)


def test_a_job_that_runs_batches_itself_does_not_wait_for_the_pool():
    # every pool thread busy with an outer job that waits for inner ones would deadlock
    def outer():
        return runtime.run_batches([lambda: 1, lambda: 2], [1, 1], 2)

    result = []
    caller = threading.Thread(target=lambda: result.append(
        runtime.run_batches([outer] * 4, [1] * 4, 2)), daemon=True)
    caller.start()
    caller.join(timeout=30)
    assert result == [[[1, 2]] * 4], "nested batches deadlocked"


def test_an_error_drops_the_batches_not_yet_started():
    started = []

    def job(k):
        def run():
            started.append(k)
            if k == 0:
                raise RuntimeError("batch 0 failed")
            time.sleep(0.05)  # still running when batch 0 fails
            return k
        return run

    with pytest.raises(RuntimeError, match="batch 0 failed"):
        runtime.run_batches([job(k) for k in range(8)], [1] * 8, 2)
    assert sorted(started) == [0, 1]  # two in flight, none started after the error
