"""Simulation-backed content: run what a lesson claims, grade what a learner tunes.

* an `Example` claims that run ``run`` of preset ``preset`` shows regime ``expect``;
* a `Predict` question's answer is whatever its run does;
* a `Tune` challenge is met when the learner's settings reach the goal without a forbidden
  regime. These functions are the single source of truth for all three.
* a `Claim` is a number the prose states about a run (``{{claim:id}}`` in the text); it holds
  while the engine's value is within its tolerance.
* a `Predict` question with gradient noise must have the same answer for at least 19 of 20
  seeds, or a learner who reruns it could see the key contradicted.

``python -m lrviz.learning.simcheck [lessons-dir | lesson-folder]`` validates the course (or one
lesson) and checks every claim.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass

import numpy as np

from lrviz.engine.config import RunConfig
from lrviz.engine.optimizers import get_optimizer, hyperparameter
from lrviz.engine.presets import PRESETS
from lrviz.engine.simulate import Run, simulate, simulate_many
from lrviz.engine.surfaces import get_surface
from lrviz.learning.net_questions import (
    check_net_example,
    is_net_preset,
    is_net_run,
    net_claim_value,
    net_predict_run,
)
from lrviz.learning.schema import Claim, Example, Lesson, Predict, Tune

# A noisy predict question's answer must be the same for this many of these seeds.
NOISY_SEEDS, NOISY_AGREE = 20, 19


def example_run(example: Example) -> Run:
    preset = PRESETS.get(example.preset)
    if preset is None:
        raise ValueError(f"example {example.title!r} links unknown preset {example.preset!r}")
    if not 0 <= example.run < len(preset.runs):
        raise ValueError(f"example {example.title!r}: preset {example.preset!r} has "
                         f"{len(preset.runs)} run(s), no run {example.run}")
    return simulate(preset.runs[example.run].config)


def predict_run(question: Predict) -> Run:
    """The run a predict-then-run question is about; its regime is the correct answer."""
    if is_net_run(question.run):
        return net_predict_run(question.run)
    return simulate(question.run.to_config())


def claim_config(claim: Claim) -> RunConfig:
    """The run a claim is about: its own ``run``, or run ``preset_run`` of ``preset``."""
    if claim.run is not None:
        return claim.run.to_config()
    preset = PRESETS.get(claim.preset or "")
    if preset is None:
        raise ValueError(f"claim {claim.id!r} names unknown preset {claim.preset!r}")
    if claim.preset_run >= len(preset.runs):
        raise ValueError(f"claim {claim.id!r}: preset {claim.preset!r} has {len(preset.runs)} "
                         f"run(s), no run {claim.preset_run}")
    return preset.runs[claim.preset_run].config


def run_quantity(run: Run, quantity: str, at: float | None = None) -> float:
    """One number measured on a finished run (see `schema.CLAIM_QUANTITIES`); NaN if absent."""
    cfg = run.config
    if quantity == "final_loss":
        return run.final_loss
    if quantity == "diverged_at":
        return float("nan") if run.diverged_at is None else float(run.diverged_at)
    if quantity == "loss_at_step":
        return float(run.losses[int(at)])
    if quantity in ("mean_loss_tail", "max_loss_tail", "min_loss_tail"):
        reduce = {"mean_loss_tail": np.mean, "max_loss_tail": np.max, "min_loss_tail": np.min}
        return float(reduce[quantity](run.losses[-int(at):]))
    if quantity == "lambda_at_step":
        return float("nan") if run.lambda_max is None else float(run.lambda_max[int(at)])
    if quantity in ("arrival_step", "crossings"):
        value = run.facts.get(quantity)
        return float("nan") if value is None else float(value)
    if quantity == "final_distance":
        minima = get_surface(cfg.surface).minima(cfg.surface_values())
        x, y = run.final_point
        return float(min(np.hypot(x - m.point[0], y - m.point[1]) for m in minima))
    if quantity == "distance_moved":
        return float(np.hypot(*(run.points[-1] - run.points[0])))
    if quantity == "lr_at_step":
        return float(run.lrs[int(at)])
    if quantity in ("first_lr_cut", "lr_cuts"):
        cuts = np.flatnonzero(run.lrs[1:] < run.lrs[:-1]) + 1
        if quantity == "lr_cuts":
            return float(cuts.size)
        return float(cuts[0]) if cuts.size else float("nan")
    if quantity in ("final_gap", "steps_to_gap", "settles_at"):
        fmin = get_surface(cfg.surface).global_min_value(cfg.surface_values())
        gaps = run.losses - fmin
        if quantity == "final_gap":
            return float(gaps[-1])
        if quantity == "settles_at":
            above = np.flatnonzero(~(gaps <= at))
            return 0.0 if not above.size else (float(above[-1] + 1) if above[-1] + 1 < gaps.size
                                                else float("inf"))
        hits = np.flatnonzero(gaps <= at)
        return float(hits[0]) if hits.size else float("inf")
    ratio = run.stability_ratio
    if ratio is None:
        return float("nan")
    if quantity == "edge_ratio_at_step":
        return float(ratio[int(at)])
    ratio = ratio[np.isfinite(ratio)]
    if quantity == "max_edge_ratio":
        return float(ratio.max())
    if quantity == "first_over_edge":
        over = np.flatnonzero(run.stability_ratio > (2.0 if at is None else at))
        return float(over[0]) if over.size else float("nan")
    if quantity == "steps_over_edge":
        return float((ratio > (2.0 if at is None else at)).sum())
    raise ValueError(f"unknown claim quantity {quantity!r}")


def measure_claim(claim: Claim) -> float:
    """What the engine says the claimed number is (the median over seeds for ``seeds > 1``)."""
    if is_net_run(claim.run) or is_net_preset(claim.preset or ""):
        return net_claim_value(claim)
    cfg = claim_config(claim)
    cfgs = [cfg] if claim.seeds == 1 else [cfg.with_(seed=s) for s in range(claim.seeds)]
    values = [run_quantity(run, claim.quantity, claim.at) for run in simulate_many(cfgs)]
    return float(values[0] if len(values) == 1 else np.median(values))


def check_claims(lesson: Lesson) -> list[str]:
    """Every claim of a lesson whose measured value is off by more than its tolerance."""
    problems: list[str] = []
    for claim in lesson.claims:
        try:
            value = measure_claim(claim)
        except ValueError as exc:
            problems.append(f"{lesson.id}: {exc}")
            continue
        if not abs(value - claim.expected) <= claim.tolerance:
            problems.append(f"{lesson.id}: claim {claim.id!r} states {claim.shown()} "
                            f"({claim.quantity}, tolerance {claim.tolerance:g}) but the engine "
                            f"measures {value:.6g}")
    return problems


def predict_agreement(question: Predict) -> tuple[int, int]:
    """(seeds whose regime equals the question's own run, seeds tried): 1 of 1 without noise."""
    if is_net_run(question.run):  # a network run is fixed by its config, seed included
        return 1, 1
    cfg = question.run.to_config()
    if cfg.noise == 0:
        return 1, 1
    key = simulate(cfg).regime
    runs = simulate_many([cfg.with_(seed=s) for s in range(NOISY_SEEDS)])
    return Counter(r.regime for r in runs)[key], NOISY_SEEDS


@dataclass(frozen=True)
class TuneResult:
    success: bool
    run: Run | None
    message: str
    gap: float | None = None


def tune_config(question: Tune, settings: dict[str, float | str]) -> RunConfig:
    """The base run with the learner's adjustable settings applied (others are ignored).

    A setting named after an optimizer hyperparameter (``momentum``) goes into the optimizer's
    parameters, and is dropped when the chosen optimizer has no such parameter (the registry
    says which do)."""
    changes: dict = {}
    for key in question.adjustable:
        if key not in settings:
            continue
        value = settings[key]
        if hyperparameter(key) is not None:
            changes.setdefault("optimizer_params", {})[key] = float(value)
        elif key == "lr":
            changes["lr"] = float(value)
        else:
            changes[key] = str(value)
    cfg = question.base.to_config()
    if "optimizer" in changes and "optimizer_params" not in changes:
        changes["optimizer_params"] = {}
    if "optimizer_params" in changes:
        takes = {p.name for p in get_optimizer(changes.get("optimizer", cfg.optimizer)).params}
        changes["optimizer_params"] = {k: v for k, v in changes["optimizer_params"].items()
                                       if k in takes}
    return cfg.with_(**changes)


def tune_outcome(question: Tune, settings: dict[str, float | str]) -> TuneResult:
    """Run the learner's settings and say whether they reach the goal, and why not."""
    try:
        cfg = tune_config(question, settings)
    except ValueError as exc:
        return TuneResult(False, None, f"Those settings are not valid: {exc}")
    run = simulate(cfg)
    fmin = get_surface(cfg.surface).global_min_value(cfg.surface_values())
    gap = run.final_loss - fmin
    goal = question.goal
    if run.regime in goal.forbid:
        return TuneResult(False, run, f"Not yet: the run ended {run.regime.label}. "
                          f"{run.explanation}", gap)
    if gap > goal.max_final_loss:
        return TuneResult(False, run, f"Not yet: after {cfg.steps} steps the loss is "
                          f"{gap:.3g} above the minimum; the goal is below "
                          f"{goal.max_final_loss:g}. {run.explanation}", gap)
    return TuneResult(True, run, f"Goal reached: the loss ends {gap:.3g} above the minimum "
                      f"({run.regime.label}). {run.explanation}", gap)


def check_lesson(lesson: Lesson) -> list[str]:
    """Every simulation-backed claim of a lesson that does not hold (empty when all hold)."""
    problems: list[str] = []
    for ex in lesson.examples:
        if is_net_preset(ex.preset):
            problems += check_net_example(lesson.id, ex)
            continue
        try:
            run = example_run(ex)
        except ValueError as exc:
            problems.append(f"{lesson.id}: {exc}")
            continue
        if ex.expect is not None and run.regime != ex.expect:
            problems.append(f"{lesson.id}: example {ex.title!r} claims {ex.expect.value} but "
                            f"preset {ex.preset!r} run {ex.run} is {run.regime.value}")
    for scene in lesson.dialogue:
        if (scene.ending.preset and scene.ending.preset not in PRESETS
                and not is_net_preset(scene.ending.preset)):
            problems.append(f"{lesson.id}: scene {scene.title!r} links unknown preset "
                            f"{scene.ending.preset!r}")
    for q in lesson.quiz:
        if isinstance(q, Predict):
            run = predict_run(q)
            if run.regime not in q.choices:
                problems.append(f"{lesson.id}: predict question {q.id!r}: the run is "
                                f"{run.regime.value}, which is not among its choices")
            agree, tried = predict_agreement(q)
            if tried > 1 and agree < NOISY_AGREE:
                problems.append(f"{lesson.id}: predict question {q.id!r} is noisy and its run "
                                f"is {run.regime.value} for only {agree} of {tried} seeds "
                                f"(needs {NOISY_AGREE}); the answer must not depend on luck")
        elif isinstance(q, Tune):
            result = tune_outcome(q, q.solution)
            if not result.success:
                problems.append(f"{lesson.id}: tune question {q.id!r}: its solution fails: "
                                f"{result.message}")
            base = tune_outcome(q, {})
            if base.success:
                problems.append(f"{lesson.id}: tune question {q.id!r}: the untouched base "
                                f"already reaches the goal, so there is nothing to tune")
    return problems + check_claims(lesson)


def main(argv: list[str]) -> int:
    """Check the whole course, or one lesson folder when given one (``lessons/01-...``)."""
    from pathlib import Path

    from lrviz.learning.content import BrokenLesson, load_course, load_lesson

    target = Path(argv[0]) if argv else None
    if target is not None and (target / "lesson.md").exists():
        one = load_lesson(target)
        lessons, failures = ([], [str(e) for e in one.errors]) if isinstance(
            one, BrokenLesson) else ([one], [])
    else:
        course = load_course(target)
        lessons = list(course.lessons)
        failures = [str(e) for e in course.errors]
        for broken in course.broken:
            failures += [str(e) for e in broken.errors]
    for lesson in lessons:
        failures += check_lesson(lesson)
        print(f"checked {lesson.id}: {len(lesson.dialogue)} scenes, {len(lesson.flashcards)} "
              f"flashcards, {len(lesson.quiz)} questions, {len(lesson.claims)} claims")
    for line in failures:
        print("PROBLEM:", line)
    print("all claims hold" if not failures else f"{len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
