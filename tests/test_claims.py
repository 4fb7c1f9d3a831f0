"""Checked claims: every number the lessons state about a run is re-measured by the engine.

A claim is declared in a lesson file's front matter (``claims:``) and shown in the text through a
``{{claim:<id>}}`` marker. These tests run simcheck's claim checks on the real course, and show
that a drifted number, an undeclared marker and a noisy predict question that depends on its
seed all fail.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from lrviz.learning.content import LESSONS_DIR, BrokenLesson, load_course, load_lesson
from lrviz.learning.schema import CLAIM_MARKER, Claim, Lesson, Predict
from lrviz.learning.simcheck import (
    NOISY_AGREE,
    check_claims,
    check_lesson,
    main,
    measure_claim,
    predict_agreement,
)

REAL_LESSONS = sorted(p for p in LESSONS_DIR.iterdir() if p.is_dir()
                      and not p.name.startswith((".", "_")))


def _lesson(folder: Path) -> Lesson:
    lesson = load_lesson(folder)
    assert isinstance(lesson, Lesson), "\n".join(str(e) for e in lesson.errors)
    return lesson


@pytest.mark.parametrize("folder", REAL_LESSONS, ids=lambda p: p.name)
def test_every_claim_of_the_real_course_holds(folder):
    lesson = _lesson(folder)
    assert check_claims(lesson) == []


def test_the_course_declares_claims_in_every_lesson_and_the_text_uses_each():
    for folder in REAL_LESSONS:
        lesson = _lesson(folder)
        assert lesson.claims, f"{lesson.id} declares no claims"
        raw = "".join(f.read_text() for f in folder.glob("*.md"))
        used = set(CLAIM_MARKER.findall(raw))
        unused = {c.id for c in lesson.claims} - used
        assert not unused, f"{lesson.id}: claims never shown in the text: {sorted(unused)}"


@pytest.mark.parametrize("folder", REAL_LESSONS, ids=lambda p: p.name)
def test_markers_become_the_stated_number_in_the_loaded_text(folder):
    lesson = _lesson(folder)
    loaded = lesson.model_dump(exclude={"claims"})
    text = str(loaded)
    assert "{{claim:" not in text
    for claim in lesson.claims:
        assert claim.shown() in text


def _copy_course(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    shutil.copytree(LESSONS_DIR, root)
    return root


def _first_claim_file(root: Path) -> tuple[Path, str, str]:
    """A lesson file with a claim: (file, the claim's id, its 'expected:' line)."""
    for file in sorted(root.glob("*/*.md")):
        text = file.read_text()
        match = re.search(r"- id: ([a-z0-9-]+)\n(?:\s+\w.*\n)*?(\s+expected: .*)\n", text)
        if match and "claims:" in text:
            return file, match.group(1), match.group(2)
    raise AssertionError("no claims in the course")


def test_a_drifted_claim_value_fails_simcheck(tmp_path, capsys):
    root = _copy_course(tmp_path)
    file, claim_id, line = _first_claim_file(root)
    indent = line[: len(line) - len(line.lstrip())]
    file.write_text(file.read_text().replace(line, f"{indent}expected: 123456.0", 1))
    lesson = _lesson(file.parent)
    problems = check_claims(lesson)
    assert any(f"claim {claim_id!r} states 123456" in p for p in problems), problems
    assert main([str(file.parent)]) == 1
    assert "PROBLEM" in capsys.readouterr().out


def test_a_marker_without_a_claim_breaks_the_lesson(tmp_path):
    root = _copy_course(tmp_path)
    lesson_md = next(root.glob("01-*/lesson.md"))
    text = lesson_md.read_text()
    lesson_md.write_text(text.replace("Every optimizer in this course",
                                      "{{claim:no-such-claim}} Every optimizer in this course"))
    result = load_lesson(lesson_md.parent)
    assert isinstance(result, BrokenLesson)
    assert any("undeclared claim 'no-such-claim'" in e.message for e in result.errors)


def test_claims_measure_what_their_quantity_says():
    rosenbrock = {"surface": "rosenbrock", "optimizer": "sgd", "lr": 0.003, "steps": 100}
    blows_up = Claim(id="a", run=rosenbrock, quantity="diverged_at", expected=4, tolerance=0)
    assert measure_claim(blows_up) == 4.0
    bowl = {"surface": "bowl", "optimizer": "sgd", "lr": 0.01, "steps": 200}
    # On a bowl of curvature 1 the loss shrinks by (1 - 0.01)^2 per step.
    ratio = Claim(id="b", run=bowl, quantity="final_loss", expected=0, tolerance=1)
    first = Claim(id="c", run=bowl, quantity="loss_at_step", at=0, expected=0, tolerance=1)
    assert measure_claim(ratio) / measure_claim(first) == pytest.approx(0.99 ** 400, rel=1e-4)
    never = Claim(id="d", run=bowl, quantity="steps_to_gap", at=1e-12, expected=0, tolerance=1)
    assert measure_claim(never) == float("inf")


def test_every_noisy_predict_question_agrees_for_19_of_20_seeds():
    for lesson in load_course(LESSONS_DIR).lessons:
        for q in lesson.quiz:
            if isinstance(q, Predict) and q.run.noise > 0:
                agree, tried = predict_agreement(q)
                assert tried == 20 and agree >= NOISY_AGREE, (q.id, agree)


def test_a_seed_dependent_predict_question_fails_simcheck(tmp_path):
    root = _copy_course(tmp_path)
    practice = next(root.glob("04-*/practice.md"))
    text = practice.read_text()
    start = text.index("  - id: land-predict-noisy-wells")
    # The old version of the question: a cosine decay makes the ending depend on the seed.
    mutated = text[:start] + text[start:].replace("      seed: 1\n",
                                                  "      seed: 1\n      schedule: cosine\n", 1)
    practice.write_text(mutated)
    problems = [p for p in check_lesson(_lesson(practice.parent)) if "noisy" in p]
    assert problems and "land-predict-noisy-wells" in problems[0]
    assert "of 20 seeds" in problems[0]


# Phrases that report what a run did at a step; the step must come from a claim, never a literal.
RUN_OUTCOME = re.compile(
    r"(blows? up|diverge[sd]?|settles?|converge[sd]?|arrives?|reach(?:es)? (?:the|a) minimum"
    r"|leaves the surface|(?:is )?cut) (?:at|by) (?:about )?step \d", re.IGNORECASE)


@pytest.mark.parametrize("folder", REAL_LESSONS, ids=lambda p: p.name)
def test_no_lesson_states_a_run_outcome_step_as_a_literal_number(folder):
    found = [f"{file.name}: {m.group(0)}" for file in sorted(folder.glob("*.md"))
             for m in RUN_OUTCOME.finditer(file.read_text())]
    assert not found, f"declare these as claims: {found}"


def test_the_outcome_lint_catches_a_literal_and_passes_a_marker():
    assert RUN_OUTCOME.search("and the run blows up at step 4, on a surface")
    assert RUN_OUTCOME.search("it reaches the minimum by step 779.")
    assert not RUN_OUTCOME.search("and the run blows up at step {{claim:rosen-003-blowup}}")


def test_numbers_can_be_spelled_out_for_narration():
    from lrviz.learning.schema import number_words

    assert number_words(779) == "seven hundred seventy-nine"
    assert number_words(0.07) == "zero point zero seven"
    assert number_words(-1.03) == "minus one point zero three"
    claim = Claim(id="w", preset="divergence", quantity="diverged_at", expected=4,
                  tolerance=0, format="words")
    assert claim.shown() == "four" and measure_claim(claim) == 4.0
