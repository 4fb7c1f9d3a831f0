"""The content report: per-lesson counts, course gaps, and the real course's coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrviz.learning.content import LESSONS_DIR, load_course
from lrviz.learning.report import course_report, format_report, main
from lrviz.learning.schema import COURSE_CONCEPTS, MISCONCEPTIONS

FIXTURE = Path(__file__).parent / "fixtures" / "course"


def test_fixture_lesson_counts():
    report = course_report(load_course(FIXTURE))
    basics = next(r for r in report.lessons if r.id == "fixture-basics")
    assert basics.scenes == 3
    assert basics.turns == {"teacher": 4, "student": 5} and basics.total_turns == 9
    assert basics.flashcards == 8
    assert basics.questions == {"single": 3, "multiple": 1, "numeric": 2, "ordering": 1,
                                "matching": 1, "predict": 1, "tune": 1}
    assert basics.memory_aids == {"rhyme": 1, "story": 1, "acronym": 1, "mnemonic": 1}
    assert basics.concepts == ("update-rule", "overshoot", "divergence", "slow-convergence",
                               "curvature")
    assert basics.voiced == ("bigger-is-faster", "nan-is-data-bug")
    assert basics.distractors == ("bigger-is-faster", "nan-is-data-bug")


def test_fixture_course_gaps_and_broken_lessons():
    report = course_report(load_course(FIXTURE))
    assert [b.id for b in report.broken] == ["fixture-broken"]
    covered = {"update-rule", "overshoot", "divergence", "slow-convergence", "curvature",
               "momentum", "condition-number", "adam"}
    assert set(report.missing_concepts) == set(COURSE_CONCEPTS) - covered
    assert set(report.unvoiced) == set(MISCONCEPTIONS) - {
        "bigger-is-faster", "nan-is-data-bug", "adam-needs-no-tuning"}
    assert report.concept_lessons("momentum") == ["fixture-momentum"]


def test_printed_report_names_counts_gaps_and_problems(capsys):
    assert main([str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "Lesson 1: Fixture: what the learning rate does [fixture-basics]" in out
    assert "9 turns (teacher 4, student 5)" in out
    assert "single 3, multiple 1, numeric 2" in out
    assert "rhyme 1, story 1, acronym 1, mnemonic 1" in out
    assert "BROKEN lesson fixture-broken" in out and "dialogue[1]" in out
    assert "concepts covered: 8/25" in out
    assert "misconceptions voiced: 3/10" in out
    assert "hyperparameter     -- MISSING --" in out
    assert "checked claims 0; glossary terms listed 2" in out
    assert "glossary: 4 terms, each defined once; listed by no lesson: none" in out


def test_format_report_is_the_printed_text(capsys):
    main([str(FIXTURE)])
    assert capsys.readouterr().out.strip() == format_report(
        course_report(load_course(FIXTURE))).strip()


def test_real_course_covers_every_concept_and_voices_every_misconception():
    course = load_course(LESSONS_DIR)
    if len(course.lessons) < 5:
        pytest.skip(f"only {len(course.lessons)} valid lesson(s) of 5 so far; coverage is "
                    "checked once the whole course exists")
    report = course_report(course)
    assert report.missing_concepts == (), f"concepts no lesson covers: {report.missing_concepts}"
    assert report.unvoiced == (), f"misconceptions no dialogue voices: {report.unvoiced}"
    assert all(r.claims > 0 for r in report.lessons)
    assert report.unused_terms == (), f"glossary terms no lesson lists: {report.unused_terms}"
