"""One executor: single runs, sweeps and phase maps build their inputs the same way and agree
exactly, and the scan's lean optimizer call equals the registry's optax transformation."""

import jax.numpy as jnp
import numpy as np
import pytest

from lrviz import RunConfig, lr_sweep, phase_map, simulate, simulate_many
from lrviz.engine import core, diagnose
from lrviz.engine.diagnose import THRESHOLDS, Facts, Regime
from lrviz.engine.executor import Block, execute
from lrviz.engine.numbers import fmt_number
from lrviz.engine.optimizers import OPTIMIZERS

CASES = [
    # Adam on Rosenbrock across the edge of divergence, with a decaying schedule
    (RunConfig(surface="rosenbrock", optimizer="adam", steps=120, schedule="cosine",
               schedule_params={"eta_min": 1e-4}), [0.003, 0.08, 0.9, 30.0]),
    # heavy-ball momentum on Beale: some rates settle, some blow up
    (RunConfig(surface="beale", optimizer="momentum", steps=150, start=(1.0, 1.5)),
     [0.001, 0.02, 0.2]),
    # loss-driven schedule plus gradient noise
    (RunConfig(surface="himmelblau", optimizer="sgd", steps=90, schedule="reduce_on_plateau",
               noise=0.5, seed=3), [0.005, 0.03]),
]


def assert_same_run(trajectory, run):
    np.testing.assert_array_equal(trajectory.points, run.points)
    np.testing.assert_array_equal(trajectory.losses, run.losses)
    np.testing.assert_array_equal(trajectory.lrs, run.lrs)
    assert trajectory.diverged_at == run.diverged_at


def test_the_cases_cross_the_edge_of_divergence():
    # the exact-equality test below must cover runs that blow up, not only settled ones
    cfg, lrs = CASES[0]
    sweep = lr_sweep(cfg, lrs)
    assert sweep.diverged_at[-1] is not None and sweep.regimes[-1] is Regime.DIVERGED
    assert sweep.diverged_at[0] is None


@pytest.mark.parametrize("cfg,lrs", CASES)
def test_a_sweep_row_is_exactly_the_single_run(cfg, lrs):
    sweep = lr_sweep(cfg, lrs)
    (idx, batch), = execute([Block.of(cfg, lrs)])  # what lr_sweep ran
    for k, lr in enumerate(lrs):
        run = simulate(cfg.with_(lr=lr))
        assert_same_run(batch.trajectory(list(idx).index(k)), run)
        assert sweep.final_losses[k] == run.final_loss
        assert sweep.regimes[k] is run.regime
        assert sweep.diverged_at[k] == run.diverged_at


def test_a_phase_map_cell_is_exactly_the_single_run():
    cfg = RunConfig(surface="rosenbrock", optimizer="momentum", steps=200, start=(-1.5, 2.0))
    lrs, mus = [1e-4, 2e-3, 8e-3], [0.0, 0.9]
    pm = phase_map(cfg, lrs, "optimizer", "momentum", mus)
    for i, mu in enumerate(mus):
        for j, lr in enumerate(lrs):
            run = simulate(cfg.with_(lr=lr, optimizer_params={"momentum": mu}))
            assert pm.final_losses[i, j] == run.final_loss
            assert pm.regimes[i][j] is run.regime
    assert any(r.value == "diverged" for row in pm.regimes for r in row)


def test_a_surface_phase_map_cell_is_exactly_the_single_run():
    cfg = RunConfig(surface="bowl", optimizer="sgd", steps=80)
    pm = phase_map(cfg, [0.3, 0.9], "surface", "b", [1.0, 3.0])
    for i, b in enumerate([1.0, 3.0]):
        for j, lr in enumerate([0.3, 0.9]):
            run = simulate(cfg.with_(lr=lr, surface_params={"b": b}))
            assert pm.final_losses[i, j] == run.final_loss
            assert pm.regimes[i][j] is run.regime


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_applies_the_rate_as_a_final_linear_scale(name):
    # The scan builds each optimizer with rate 1 and multiplies its update by the step's rate;
    # that is the registry's update only if the rate enters last and linearly.
    spec, lr = OPTIMIZERS[name], 0.37
    p, g = jnp.array([0.3, -1.2]), jnp.array([1.5, -0.7])
    scaled, unit = spec.factory(lr, **spec.resolve()), spec.factory(1.0, **spec.resolve())
    s1, s2 = scaled.init(p), unit.init(p)
    for _ in range(4):
        u1, s1 = scaled.update(g, s1, p)
        u2, s2 = unit.update(g, s2, p)
        np.testing.assert_allclose(u1, lr * u2, rtol=1e-6)


def test_facts_are_typed_and_read_by_name_alike():
    run = simulate(CASES[1][0].with_(lr=0.001))
    assert isinstance(run.facts, Facts)
    assert run.facts["arrival_step"] == run.facts.arrival_step == run.facts.get("arrival_step")
    assert run.facts.final_loss == run.final_loss and run.facts.steps == run.config.steps
    assert run.facts.get("no such fact", 7) == 7
    with pytest.raises(KeyError):
        run.facts["no such fact"]


def test_one_number_formatter_everywhere():
    from lrviz.figures import labels

    assert labels.fmt_number is fmt_number
    assert [fmt_number(x) for x in (0.0005, 0, 1234.4, 65912.4, 3e-5, 1.5)] == [
        "0.0005", "0", "1234", "6.59e+04", "3e-05", "1.5"]
    run = simulate(RunConfig(surface="bowl", optimizer="sgd", lr=0.0005, steps=50))
    assert "0.0005" in run.explanation or "lr" not in run.explanation


def test_the_module_docstring_states_the_thresholds_the_code_uses():
    doc = " ".join(diagnose.__doc__.split())
    t = THRESHOLDS
    assert f"{t.grow_gap:g}x the starting gap" in doc
    assert f"above {t.grow_late:g}x the middle fifth" in doc
    assert f"at least {t.crossings} times" in doc
    assert f"under {t.flat_slope:.0%} of the surface's typical slope" in doc
    assert f"under {t.no_progress:.0%} of the" in doc
    assert f"at least {t.descending:.0%} of the last quarter" in doc
    assert f"within {t.near:.0%} of the domain size" in doc
    assert t.middle == (0.4, 0.6) and t.tail == 10 and t.quarter == 4  # "middle fifth" etc.


def test_a_run_does_not_depend_on_the_schedules_batched_with_it():
    # cosine with an absolute floor is not linear in the base rate: its batch feeds a rate
    # column per run, where a lone constant-rate run feeds one shared column times its rate
    cfg = RunConfig(surface="ravine", optimizer="momentum", lr=0.02, steps=80)
    floored = cfg.with_(schedule="cosine", schedule_params={"eta_min": 0.004})
    batched = simulate_many([cfg, floored, cfg.with_(lr=0.05)])
    for cfg_, run in zip([cfg, floored, cfg.with_(lr=0.05)], batched, strict=True):
        alone = simulate(cfg_)
        np.testing.assert_array_equal(run.points, alone.points)
        np.testing.assert_array_equal(run.lrs, alone.lrs)
    assert batched[1].lrs[-1] == pytest.approx(0.004, rel=0.05)  # the floor was applied
    assert np.all(batched[0].lrs == np.float32(0.02))


def test_a_sweep_over_a_nonlinear_schedule_equals_its_single_runs():
    cfg = RunConfig(surface="bowl", optimizer="sgd", steps=60, schedule="cosine",
                    schedule_params={"eta_min": 0.01})
    lrs = [0.05, 0.2, 0.6]
    (idx, batch), = execute([Block.of(cfg, lrs)])
    assert batch.table.shape[1] >= len(lrs)  # one column per rate (and padding)
    for k, lr in enumerate(lrs):
        assert_same_run(batch.trajectory(list(idx).index(k)), simulate(cfg.with_(lr=lr)))


def test_each_block_of_a_surface_phase_map_is_measured_against_its_own_minima():
    # moving well 1 moves a minimum: every block's runs must be watched against its own
    cfg = RunConfig(surface="gaussian_wells", optimizer="sgd", steps=120, start=(0.3, -0.2))
    lrs, centres = np.geomspace(0.05, 2.0, 5), [-1.5, -0.5, 0.8]
    blocks = [Block.of(cfg, lrs, ("surface", "x1", x1)) for x1 in centres]
    (idx, batch), = execute(blocks, paths=False)
    np.testing.assert_array_equal(idx, np.arange(len(lrs) * len(centres)))
    for k, x1 in enumerate(centres):
        (_, alone), = execute([Block.of(cfg.with_(surface_params={"x1": x1}), lrs)],
                              paths=False)
        cols = slice(k * len(lrs), (k + 1) * len(lrs))
        for name, a, b in zip(core.PathStats._fields, batch.stats, alone.stats, strict=True):
            np.testing.assert_array_equal(a[..., cols], b, err_msg=f"{name}, x1={x1}")
