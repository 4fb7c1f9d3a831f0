"""What a class poll asks and how a class did: polls built from the course's predict-then-run
questions and from lab presets, the engine's answer, and the teacher's dashboard tables.

The correct answer of every poll is the regime the engine produces for its run, computed when
the poll is launched (never typed in by hand), so the projector and the lab always agree.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Regime
from lrviz.engine.presets import PRESETS
from lrviz.engine.simulate import simulate
from lrviz.learning.classroom import Poll
from lrviz.learning.content import Course
from lrviz.learning.export import csv_text
from lrviz.learning.grading import prediction_holds, reached_minimum
from lrviz.learning.net_questions import is_net_run
from lrviz.learning.schema import COURSE_CONCEPTS, Predict
from lrviz.learning.simcheck import predict_run
from lrviz.nets import NetConfig

__all__ = ["PollSpec", "concept_results", "poll_csv", "poll_options",
           "poll_run_config", "question_results"]


@dataclass(frozen=True)
class PollSpec:
    """Everything `ClassroomStore.launch` needs, with the engine's answer filled in."""

    kind: str  # "question" | "preset"
    ref: str  # "lesson_id/question_id" or the preset id
    title: str  # what the teacher picks from
    prompt: str
    choices: tuple[str, ...]
    answer: str
    accepted: tuple[str, ...]  # choices graded right: the answer and any that also hold
    concepts: tuple[str, ...]


def describe_run(config: RunConfig) -> str:
    """The settings of a run in one neutral sentence (it must not give the answer away)."""
    parts = [f"{config.optimizer} on the {config.surface.replace('_', ' ')} surface",
             f"learning rate {config.lr:g}", f"{config.schedule.replace('_', ' ')} schedule",
             f"{config.steps} steps"]
    if config.noise:
        parts.append(f"gradient noise {config.noise:g}")
    return ", ".join(parts) + ". What will the run do?"


def question_poll(course: Course, lesson_id: str, question: Predict) -> PollSpec:
    """A poll from a predict-then-run question: its prompt, its choices, the engine's regime."""
    lesson = course.get(lesson_id)
    concepts = tuple(lesson.concepts) if lesson is not None else ()
    run = predict_run(question)  # the 2-D engine, or the network engine for lesson 6
    choices = tuple(Regime(c).value for c in question.choices)
    return PollSpec("question", f"{lesson_id}/{question.id}",
                    f"{lesson.title if lesson else lesson_id}: {question.id}",
                    " ".join(question.prompt.split()), choices, run.regime.value,
                    _accepted(choices, run), concepts)


def _accepted(choices: Sequence[str], run) -> tuple[str, ...]:
    """The choices the quiz would grade right for this run (the same rule as the quiz)."""
    arrived = reached_minimum(run)
    return tuple(c for c in choices if prediction_holds(Regime(c), run.regime, arrived=arrived))


def preset_poll(course: Course, preset_id: str) -> PollSpec:
    """A poll from a lab preset's main run: every regime is a choice."""
    preset = PRESETS[preset_id]
    lesson = course.get(preset.lesson)
    run = simulate(preset.config)
    choices = tuple(r.value for r in Regime)
    return PollSpec("preset", preset.id, f"Preset: {preset.title}", describe_run(preset.config),
                    choices, run.regime.value, _accepted(choices, run),
                    tuple(lesson.concepts) if lesson is not None else ())


def poll_options(course: Course) -> list[tuple[str, str, str]]:
    """``(kind, ref, title)`` of everything a teacher can launch: predict questions first."""
    out = [("question", f"{lesson.id}/{q.id}", f"{lesson.title}: {q.id}")
           for lesson in course.lessons for q in lesson.quiz if q.type == "predict"]
    out += [("preset", p.id, f"Preset: {p.title}") for p in PRESETS.values()]
    return out


def build_poll(course: Course, kind: str, ref: str) -> PollSpec:
    """The `PollSpec` for one of `poll_options` (ValueError for anything else)."""
    if kind == "preset" and ref in PRESETS:
        return preset_poll(course, ref)
    if kind == "question" and "/" in ref:
        lesson_id, question_id = ref.split("/", 1)
        lesson = course.get(lesson_id)
        question = next((q for q in (lesson.quiz if lesson else [])
                         if q.id == question_id and q.type == "predict"), None)
        if question is not None:
            return question_poll(course, lesson_id, question)
    raise ValueError(f"There is no predict question or preset {ref!r} to launch.")


def poll_run_config(course: Course, poll: Poll) -> RunConfig | NetConfig:
    """The run a poll is about (to show it beside the distribution when revealed): a 2-D
    `RunConfig`, or a `NetConfig` for a question about a network."""
    if poll.kind == "preset":
        return PRESETS[poll.ref].config
    lesson_id, question_id = poll.ref.split("/", 1)
    lesson = course.get(lesson_id)
    question = next(q for q in lesson.quiz if q.id == question_id)
    if is_net_run(question.run):
        return question.run.to_net_config()
    return question.run.to_config()


# --- the dashboard -------------------------------------------------------------------------


def question_results(polls: Sequence[Poll], rows: Iterable[dict]) -> list[dict[str, object]]:
    """Per poll: how many answered, how many were right, and the share right."""
    answered: dict[int, int] = defaultdict(int)
    right: dict[int, int] = defaultdict(int)
    for row in rows:
        answered[row["poll"]] += 1
        right[row["poll"]] += bool(row["correct"])
    return [dict(poll=p.id, question=p.ref, answer=p.answer, answered=answered[p.id],
                 correct=right[p.id],
                 share_correct=(right[p.id] / answered[p.id]) if answered[p.id] else None)
            for p in polls]


def concept_results(polls: Sequence[Poll], rows: Iterable[dict]) -> list[dict[str, object]]:
    """Per course concept touched by some poll: answers and the share right, weakest first."""
    concepts_of = {p.id: p.concepts for p in polls}
    answered: dict[str, int] = defaultdict(int)
    right: dict[str, int] = defaultdict(int)
    for row in rows:
        for concept in concepts_of.get(row["poll"], ()):
            answered[concept] += 1
            right[concept] += bool(row["correct"])
    out = [dict(concept=COURSE_CONCEPTS.get(c, c), answered=n, correct=right[c],
                share_correct=right[c] / n) for c, n in answered.items()]
    return sorted(out, key=lambda r: (r["share_correct"], r["concept"]))


def poll_csv(rows: Sequence[dict]) -> str:
    """The class's answers as CSV (one row per student per poll), safe to open in a sheet."""
    fields = ["poll", "question", "student", "prediction", "answer", "correct", "answered_at"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(fields)
    for row in rows:
        writer.writerow([csv_text(row[f]) for f in fields])
    return out.getvalue()
