"""Quiz practice logic: mastery and its confirmation, the mixed review, resuming attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from lrviz.learning.content import load_course
from lrviz.learning.practice import (
    REVIEW_ID,
    QuizRun,
    course_progress,
    lesson_questions,
    mastery,
    review_questions,
    started_lessons,
)
from lrviz.learning.store import Answer, Attempt, ProgressStore
from lrviz.ui.practice.question import has_math, plain_math

T0 = datetime(2030, 5, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def course():
    return load_course("tests/fixtures/practice_course")


@pytest.fixture
def store(tmp_path):
    return ProgressStore(f"sqlite:///{tmp_path / 'p.sqlite3'}")


def _attempt(i, kind, lesson, finished, score, questions=()):
    return Attempt(i, 1, kind, lesson, tuple(questions), 0, T0 - timedelta(days=9), finished,
                   score)


def _answer(attempt_id, lesson, qid, credit):
    return Answer(attempt_id, lesson, qid, credit == 1, credit, 0, None, T0)


def test_mastery_needs_eighty_percent():
    attempts = [_attempt(1, "lesson", "a", T0, 0.7), _attempt(2, "lesson", "a", T0 + timedelta(1),
                                                               0.79)]
    m = mastery("a", attempts, [])
    assert m.best_score == 0.79 and m.attempts == 2 and not m.mastered
    attempts.append(_attempt(3, "lesson", "a", T0 + timedelta(2), 0.8))
    m = mastery("a", attempts, [])
    assert m.mastered and m.mastered_at == T0 + timedelta(2) and not m.confirmed
    assert "confirm it in a mixed review" in m.label


def test_mastery_is_confirmed_only_by_a_later_good_review():
    lesson_pass = _attempt(2, "lesson", "a", T0, 0.9)
    early_review = _attempt(1, "review", None, T0 - timedelta(hours=1), 1.0)
    weak_review = _attempt(3, "review", None, T0 + timedelta(hours=1), 0.5)
    good_review = _attempt(4, "review", None, T0 + timedelta(hours=2), 0.6)
    answers = [_answer(1, "a", "q1", 1.0),  # before mastery: does not count
               _answer(3, "a", "q1", 1.0), _answer(3, "a", "q2", 0.0),  # 50 % on lesson a
               _answer(4, "a", "q1", 1.0), _answer(4, "a", "q3", 1.0),  # 100 % on lesson a
               _answer(4, "b", "q9", 0.0)]  # other lessons do not drag lesson a down
    m = mastery("a", [early_review, lesson_pass, weak_review], answers)
    assert m.mastered and not m.confirmed
    m = mastery("a", [early_review, lesson_pass, weak_review, good_review], answers)
    assert m.confirmed and m.confirmed_at == good_review.finished_at
    assert m.label == "mastered, confirmed by review"
    assert not mastery("b", [good_review], answers).mastered


def test_unfinished_attempts_do_not_count():
    m = mastery("a", [_attempt(1, "lesson", "a", None, None)], [])
    assert m.best_score is None and m.attempts == 0 and m.label == "not attempted"


def test_review_interleaves_lessons_and_puts_missed_questions_first(course):
    ids = [x.id for x in course.lessons]
    missed = [("step-size", "q-numeric"), ("step-size", "q-matching"), ("momentum-fx", "m-tune")]
    known = [k for k in lesson_questions(course, "step-size") if k not in missed][:5]
    history = [_answer(1, a, b, 1.0) for a, b in known]
    history += [_answer(1, a, b, 1.0) for a, b in missed]  # right once…
    history += [_answer(2, a, b, 0.0) for a, b in missed]  # …then missed: the latest counts
    for seed in range(25):
        picked = review_questions(course, ids, history, size=6, seed=seed)
        assert len(picked) == len(set(picked)) == 6
        lessons = [k[0] for k in picked]
        assert all(a != b for a, b in pairwise(lessons))
        assert set(missed) <= set(picked)  # every missed question fits in, so it is in
        assert not set(known) & set(picked)  # known ones only once nothing better is left


def test_review_size_and_single_lesson(course):
    only = review_questions(course, ["momentum-fx"], [], size=4, seed=1)
    assert len(only) == 4 and {k[0] for k in only} == {"momentum-fx"}
    everything = review_questions(course, ["step-size", "momentum-fx"], [], size=100, seed=1)
    assert len(everything) == 20  # capped by the questions that exist
    assert review_questions(course, [], [], seed=1) == []
    assert review_questions(course, ["no-such-lesson"], [], seed=1) == []


def test_started_lessons_and_course_progress(course, store):
    ada = store.learner("Ada")
    assert started_lessons(course, store, ada.id) == []
    store.mark_section_read(ada.id, "momentum-fx", "summary")
    store.mark_section_read(ada.id, "momentum-fx", "not-a-real-section")
    assert started_lessons(course, store, ada.id) == ["momentum-fx"]
    store.save_review(ada.id, "fx-bound", "step-size", card_json="{}", due=T0, rating=3,
                      reviewed_at=T0 - timedelta(days=1), log_json="{}")
    assert started_lessons(course, store, ada.id) == ["step-size", "momentum-fx"]

    qs = lesson_questions(course, "step-size")
    attempt = store.start_attempt(ada.id, "lesson", "step-size", qs, seed=3)
    for k, key in enumerate(qs):
        store.record_answer(attempt.id, *key, correct=k < 8, credit=1.0 if k < 8 else 0.0,
                            hints_used=0, answer=k)
    rows = {r.lesson_id: r for r in course_progress(course, store, ada.id, T0)}
    assert rows["step-size"].mastery.best_score == pytest.approx(0.8)
    assert rows["step-size"].mastery.mastered
    assert rows["step-size"].cards_started == 1 and rows["step-size"].cards_due_today == 1
    assert rows["momentum-fx"].sections_read == ("summary",)  # unknown sections are not counted
    assert rows["momentum-fx"].sections_total == 7
    assert not rows["momentum-fx"].mastery.mastered


def test_resume_continues_an_unfinished_attempt(course, store):
    ada = store.learner("Ada")
    qs = lesson_questions(course, "momentum-fx")
    attempt = store.start_attempt(ada.id, "lesson", "momentum-fx", qs, seed=42)
    store.record_answer(attempt.id, *qs[0], correct=True, credit=1.0, hints_used=0, answer=0)
    store.record_answer(attempt.id, *qs[1], correct=False, credit=0.0, hints_used=1, answer=9)
    run = QuizRun.resume(store.get_attempt(attempt.id), store.answers(ada.id, attempt.id))
    assert run.quiz_id == "momentum-fx" and run.seed == 42 and run.attempt_id == attempt.id
    assert run.answered == 2 and run.index == 2
    assert run.state(qs[0]).credit == 1.0 and run.state(qs[1]).credit == 0.0
    assert run.state(qs[1]).closed  # a missed question is shown with its answer, not retried
    assert run.score == pytest.approx(1 / len(qs))
    review = store.start_attempt(ada.id, "review", None, qs[:2], seed=1)
    assert QuizRun.resume(review, []).quiz_id == REVIEW_ID


# --- plain text for dropdowns that cannot render math -------------------------------------


@pytest.mark.parametrize(("text", "plain"), [
    (r"$\eta = 1.0$", "η = 1.0"),
    (r"1/t decay, $\eta_0/(1+0.01\,t)$", "1/t decay, η_0/(1+0.01 t)"),
    (r"$\frac{2}{\lambda_{\max}}$", "2/λ_max"),
    (r"$\frac{2}{\lambda_{\min}+\lambda_{\max}}$", "2/(λ_min+λ_max)"),
    (r"$10^{-3}$", "10^-3"),
    (r"$\sqrt{\hat v_t} + \epsilon$", "√v_t + ε"),
    (r"$\eta \times \lambda \approx 2$", "η × λ ≈ 2"),
    (r"costs \$5, no math", "costs $5, no math"),
    ("no math at all", "no math at all"),
])
def test_plain_math_for_dropdown_labels(text, plain):
    assert plain_math(text) == plain
    assert has_math(text) is ("$" in text and "\\$" not in text)
