"""A content report for authors: what each lesson contains and where the course has gaps.

``python -m lrviz.learning.report [lessons-dir]`` prints, per lesson, the number of dialogue
turns, flashcards, quiz questions by type and memory aids by kind, the course concepts it covers
and the misconceptions it voices (in the dialogue) or uses (as quiz distractors); then the
course-wide gaps: concepts no lesson covers, misconceptions never voiced or never a distractor.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lrviz.learning.content import BrokenLesson, Course, load_course
from lrviz.learning.schema import (
    COURSE_CONCEPTS,
    MEMORY_AID_KINDS,
    MISCONCEPTIONS,
    QUESTION_TYPES,
    Lesson,
)


@dataclass(frozen=True)
class LessonReport:
    """Counts and coverage of one valid lesson."""

    id: str
    order: int
    title: str
    minutes: int
    scenes: int
    turns: dict[str, int]  # speaker -> number of turns
    flashcards: int
    questions: dict[str, int]  # question type -> count, every type listed
    memory_aids: dict[str, int]  # kind -> count, every kind listed
    concepts: tuple[str, ...]
    voiced: tuple[str, ...]  # misconceptions a student voices in the dialogue
    distractors: tuple[str, ...]  # misconceptions behind wrong quiz options
    claims: int = 0  # numbers in the text that simcheck re-measures
    terms: int = 0  # glossary terms the lesson lists

    @property
    def total_turns(self) -> int:
        return sum(self.turns.values())


@dataclass(frozen=True)
class CourseReport:
    lessons: tuple[LessonReport, ...]
    broken: tuple[BrokenLesson, ...]
    missing_concepts: tuple[str, ...]
    unvoiced: tuple[str, ...]
    never_distractors: tuple[str, ...]
    unused_terms: tuple[str, ...] = ()  # shared glossary terms no valid lesson lists
    glossary_size: int = 0

    def concept_lessons(self, concept: str) -> list[str]:
        """Ids of the lessons that cover ``concept``."""
        return [r.id for r in self.lessons if concept in r.concepts]


def lesson_report(lesson: Lesson) -> LessonReport:
    """Count what one lesson contains."""
    speakers = Counter(t.speaker for scene in lesson.dialogue for t in scene.turns)
    types = Counter(q.type for q in lesson.quiz)
    kinds = Counter(a.kind for a in lesson.memory_aids)
    return LessonReport(
        id=lesson.id, order=lesson.order, title=lesson.title, minutes=lesson.minutes,
        scenes=len(lesson.dialogue),
        turns={"teacher": speakers["teacher"], "student": speakers["student"]},
        flashcards=len(lesson.flashcards),
        questions={t: types[t] for t in QUESTION_TYPES},
        memory_aids={k: kinds[k] for k in MEMORY_AID_KINDS},
        concepts=tuple(c for c in COURSE_CONCEPTS if c in lesson.concepts),
        voiced=tuple(m for m in MISCONCEPTIONS if m in lesson.misconceptions_voiced),
        distractors=tuple(m for m in MISCONCEPTIONS
                          if m in lesson.misconceptions_as_distractors),
        claims=len(lesson.claims),
        terms=len(lesson.glossary),
    )


def course_report(course: Course) -> CourseReport:
    """Per-lesson reports plus what the valid lessons together still miss."""
    reports = tuple(lesson_report(lesson) for lesson in course.lessons)
    covered = {c for r in reports for c in r.concepts}
    voiced = {m for r in reports for m in r.voiced}
    distractors = {m for r in reports for m in r.distractors}
    return CourseReport(
        lessons=reports,
        broken=course.broken,
        missing_concepts=tuple(c for c in COURSE_CONCEPTS if c not in covered),
        unvoiced=tuple(m for m in MISCONCEPTIONS if m not in voiced),
        never_distractors=tuple(m for m in MISCONCEPTIONS if m not in distractors),
        unused_terms=tuple(entry.id for entry, users in course.glossary() if not users),
        glossary_size=len(course.terms),
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def _ids(ids: tuple[str, ...] | list[str]) -> str:
    return ", ".join(ids) if ids else "none"


def format_lesson(r: LessonReport) -> list[str]:
    return [
        f"Lesson {r.order}: {r.title} [{r.id}] ({r.minutes} min)",
        f"  dialogue      {r.scenes} scenes, {r.total_turns} turns ({_counts(r.turns)})",
        f"  flashcards    {r.flashcards}",
        f"  quiz          {sum(r.questions.values())} questions: {_counts(r.questions)}",
        f"  memory aids   {sum(r.memory_aids.values())}: {_counts(r.memory_aids)}",
        f"  concepts      {len(r.concepts)}: {_ids(r.concepts)}",
        f"  misconceptions voiced in dialogue: {_ids(r.voiced)}",
        f"  misconceptions used as distractors: {_ids(r.distractors)}",
        f"  checked claims {r.claims}; glossary terms listed {r.terms}",
    ]


def format_report(report: CourseReport) -> str:
    """The report as plain text (what ``python -m lrviz.learning.report`` prints)."""
    lines: list[str] = []
    for r in report.lessons:
        lines += [*format_lesson(r), ""]
    for b in report.broken:
        lines.append(f"BROKEN lesson {b.id} ({b.title}): not counted below")
        lines += [f"  {e}" for e in b.errors]
        lines.append("")
    n_concepts, n_mis = len(COURSE_CONCEPTS), len(MISCONCEPTIONS)
    lines += [
        f"Course: {len(report.lessons)} valid lesson(s), {len(report.broken)} broken",
        f"  concepts covered: {n_concepts - len(report.missing_concepts)}/{n_concepts}; "
        f"missing: {_ids(report.missing_concepts)}",
        f"  misconceptions voiced: {n_mis - len(report.unvoiced)}/{n_mis}; "
        f"never voiced: {_ids(report.unvoiced)}",
        f"  misconceptions used as distractors: {n_mis - len(report.never_distractors)}/{n_mis}; "
        f"never a distractor: {_ids(report.never_distractors)}",
        f"  glossary: {report.glossary_size} terms, each defined once; listed by no lesson: "
        f"{_ids(report.unused_terms)}",
        "",
        "Concept coverage (lessons that cover each concept):",
    ]
    width = max(len(c) for c in COURSE_CONCEPTS)
    for concept in COURSE_CONCEPTS:
        where = report.concept_lessons(concept)
        lines.append(f"  {concept:<{width}}  {_ids(where) if where else '-- MISSING --'}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Print the report for ``argv[0]`` (default: the course folder). Always exits 0."""
    root = Path(argv[0]) if argv else None
    print(format_report(course_report(load_course(root))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
