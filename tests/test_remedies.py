"""Remedies are offered only after the engine ran them, and each does what its line says."""

from __future__ import annotations

import math

import pytest

from lrviz import simulate
from lrviz.engine import simulate as engine_simulate
from lrviz.engine.diagnose import NEAR, Regime
from lrviz.engine.presets import PRESETS
from lrviz.engine.surfaces import get_surface
from lrviz.ui.lab import remedies as rem

PRESET_RUNS = [(pid, k) for pid, p in PRESETS.items() for k in range(len(p.runs))]
RANK = {Regime.CONVERGED: 0, Regime.OVERSHOOTING: 1, Regime.SLOW: 2, Regime.LOCAL_MINIMUM: 2,
        Regime.STUCK: 3, Regime.OSCILLATING: 3, Regime.DIVERGED: 4}


def _gap(run) -> float:
    cfg = run.config
    gap = run.final_loss - get_surface(cfg.surface).global_min_value(cfg.surface_values())
    return gap if math.isfinite(gap) else math.inf


def _improvement(before, after) -> str | None:
    """Which promised improvement ``after`` shows over ``before`` (None: it is no better).

    Written out here from the documented rule, independently of `remedies.helps`.
    """
    if after.regime is Regime.DIVERGED or RANK[after.regime] > RANK[before.regime]:
        return None
    if RANK[after.regime] < RANK[before.regime] and (
            before.regime is Regime.DIVERGED or _gap(after) <= _gap(before)):
        return "regime"
    if _gap(after) <= _gap(before) / 10:
        return "loss"
    moved = math.dist(before.final_point, after.final_point)
    if (before.regime is Regime.LOCAL_MINIMUM and after.final_loss < before.final_loss
            and moved > NEAR * get_surface(before.config.surface).scale):
        return "basin"
    return None


@pytest.mark.parametrize(("preset_id", "k"), PRESET_RUNS)
def test_every_offered_remedy_delivers_what_it_says(preset_id, k):
    before = simulate(PRESETS[preset_id].runs[k].config)
    offered = rem.remedies(before)
    if before.regime is Regime.CONVERGED:
        assert offered == []
    for remedy in offered:
        after = simulate(remedy.apply(before.config))
        assert _improvement(before, after) is not None, (remedy.key, after.regime)
        # the line under the button states exactly what applying it does
        assert remedy.effect == rem.effect(remedy, before, after)
        assert rem.outcome(after) in remedy.effect
    checked = {r.key for r in offered}
    for candidate in rem.candidates(before):  # and nothing that helps is held back
        after = simulate(candidate.apply(before.config))
        assert (candidate.key in checked) is (_improvement(before, after) is not None)


def test_momentum_is_not_offered_where_it_diverges():
    before = simulate(PRESETS["schedule-rescue"].config)  # oscillating at lr x lambda ~ 2.5
    momentum = next(c for c in rem.candidates(before) if c.key == "momentum")
    tried = simulate(momentum.apply(before.config))
    assert tried.regime is Regime.DIVERGED and tried.diverged_at is not None
    offered = {r.key: r for r in rem.remedies(before)}
    assert "momentum" not in offered
    assert offered["halve"].effect.startswith("lr 0.015: converged by step ")
    assert offered["halve"].effect.endswith(f"instead of bouncing at loss "
                                            f"{before.final_loss:.3g}")


def test_no_remedy_is_offered_when_every_candidate_stays_in_the_same_minimum():
    before = simulate(PRESETS["local-minimum"].config)
    assert before.regime is Regime.LOCAL_MINIMUM
    tried = [simulate(c.apply(before.config)) for c in rem.candidates(before)]
    assert len(tried) >= 2
    assert all(_improvement(before, t) is None for t in tried)
    assert rem.remedies(before) == []
    # the lab says what was tried instead of offering a button that would not help
    vain = rem.tried_in_vain(before)
    assert [r.key for r in vain] == [c.key for c in rem.candidates(before)]
    for remedy, after in zip(vain, tried, strict=True):
        assert remedy.effect == f"{remedy.short}: {rem.outcome(after)}"


def test_a_remedy_that_escapes_a_local_minimum_names_the_new_outcome():
    before = simulate(PRESETS["momentum-escapes"].config)
    offered = {r.key: r for r in rem.remedies(before)}
    assert offered["momentum"].effect.startswith("momentum 0.9: converged by step ")
    assert "instead of settling in a local minimum at loss " in offered["momentum"].effect


def test_diverged_run_effect_names_the_step():
    before = simulate(PRESETS["divergence"].config)
    halve = next(r for r in rem.remedies(before) if r.key == "halve")
    assert halve.effect.endswith(f"instead of diverging at step {before.diverged_at}")


def test_candidates_run_as_one_batched_engine_call(monkeypatch):
    before = simulate(PRESETS["one-step"].runs[2].config)  # oscillating: three candidates
    calls = []

    def counting(cfgs):
        cfgs = list(cfgs)
        calls.append(cfgs)
        return engine_simulate.simulate_many(cfgs)

    monkeypatch.setattr(rem, "simulate_many", counting)
    monkeypatch.setattr(rem, "_CACHE", type(rem._CACHE)())
    offered = rem.remedies(before)
    assert len(calls) == 1 and len(calls[0]) == len(rem.candidates(before)) >= 3
    assert len(offered) >= 1
    rem.remedies(before)
    assert len(calls) == 1  # asked again (a rerun): answered from the bounded cache


# --- in the lab -----------------------------------------------------------------------------


def _lab(app_test, preset: str):
    at = app_test("lrviz/ui/pages/lab.py", query={"preset": preset})
    assert not at.exception
    return at


def test_lab_offers_only_measured_remedies_and_says_what_they_did(app_test):
    at = _lab(app_test, "schedule-rescue")
    keys = {b.key for b in at.button if b.key and b.key.startswith("remedy_")}
    assert keys == {"remedy_halve", "remedy_cosine"}  # momentum would diverge: not offered
    before = simulate(PRESETS["schedule-rescue"].config)
    for remedy in rem.remedies(before):
        assert f"Tried: {remedy.effect}." in [c.value for c in at.caption]


def test_lab_says_when_no_one_click_fix_helps(app_test):
    at = _lab(app_test, "local-minimum")
    assert not [b for b in at.button if b.key and b.key.startswith("remedy_")]
    note = [c.value for c in at.caption if c.value.startswith("No one-click fix helped")]
    assert len(note) == 1 and "momentum 0.9: settled in a local minimum" in note[0]


def test_outcome_never_claims_an_arrival_after_the_last_step():
    cfg = PRESETS["overshoot"].config.with_(lr=0.0995, steps=60)
    zig = simulate(cfg)  # lr x lambda_max = 1.99 on the ravine: still crossing at step 60
    assert zig.regime is Regime.OVERSHOOTING and zig.facts["arrival_step"] > 60
    assert rem.outcome(zig) == f"still zig-zagging in at loss {zig.final_loss:.3g}"
