"""Simulation-backed content: run what a lesson claims, grade what a learner tunes.

* an `Example` claims that run ``run`` of preset ``preset`` shows regime ``expect``;
* a `Predict` question's answer is whatever its run does;
* a `Tune` challenge is met when the learner's settings reach the goal without a forbidden
  regime. These functions are the single source of truth for all three.

``python -m lrviz.learning.simcheck [lessons-dir | lesson-folder]`` validates the course (or one
lesson) and checks every claim.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from lrviz.engine.config import RunConfig
from lrviz.engine.presets import PRESETS
from lrviz.engine.simulate import Run, simulate
from lrviz.engine.surfaces import get_surface
from lrviz.learning.net_questions import (
    check_net_example,
    is_net_preset,
    is_net_run,
    net_predict_run,
)
from lrviz.learning.schema import Example, Lesson, Predict, Tune


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


@dataclass(frozen=True)
class TuneResult:
    success: bool
    run: Run | None
    message: str
    gap: float | None = None


def tune_config(question: Tune, settings: dict[str, float | str]) -> RunConfig:
    """The base run with the learner's adjustable settings applied (others are ignored)."""
    changes: dict = {}
    for key in question.adjustable:
        if key not in settings:
            continue
        value = settings[key]
        if key == "momentum":
            changes.setdefault("optimizer_params", {})["momentum"] = float(value)
        elif key == "lr":
            changes["lr"] = float(value)
        else:
            changes[key] = str(value)
    cfg = question.base.to_config()
    if "optimizer" in changes and "optimizer_params" not in changes:
        changes["optimizer_params"] = {}
    if "momentum" in changes.get("optimizer_params", {}):
        optimizer = changes.get("optimizer", cfg.optimizer)
        if optimizer not in ("momentum", "nesterov"):
            changes["optimizer_params"] = {}
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
        elif isinstance(q, Tune):
            result = tune_outcome(q, q.solution)
            if not result.success:
                problems.append(f"{lesson.id}: tune question {q.id!r}: its solution fails: "
                                f"{result.message}")
            base = tune_outcome(q, {})
            if base.success:
                problems.append(f"{lesson.id}: tune question {q.id!r}: the untouched base "
                                f"already reaches the goal, so there is nothing to tune")
    return problems


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
              f"flashcards, {len(lesson.quiz)} questions")
    for line in failures:
        print("PROBLEM:", line)
    print("all claims hold" if not failures else f"{len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
