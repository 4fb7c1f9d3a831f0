"""Grading every question type, including the simulation-graded ones at their boundaries."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from lrviz.engine.diagnose import Regime
from lrviz.engine.surfaces import get_surface
from lrviz.learning import grading
from lrviz.learning.content import load_course
from lrviz.learning.practice import QuestionState
from lrviz.learning.schema import MISCONCEPTIONS, QUESTION_TYPES, Predict

FIXTURE = "tests/fixtures/practice_course"


@pytest.fixture(scope="module")
def quiz():
    course = load_course(FIXTURE)
    assert not course.broken and len(course.lessons) == 2
    return {q.id: q for lesson in course.lessons for q in lesson.quiz}


def test_fixture_covers_every_question_type(quiz):
    assert {q.type for q in quiz.values()} == set(QUESTION_TYPES)


# --- choice questions ---------------------------------------------------------------------


def test_single_right_wrong_and_misconception(quiz):
    q = quiz["q-single"]
    right = grading.grade(q, 0)
    assert right.valid and right.correct and "scales the gradient" in right.message
    wrong = grading.grade(q, 1)
    assert wrong.valid and not wrong.correct and "never enters the update" in wrong.message
    myth = grading.grade(q, 2)
    assert myth.misconceptions == (MISCONCEPTIONS["bigger-is-faster"],)


@pytest.mark.parametrize("answer", [None, -1, 3, 99, "0", True, 1.5])
def test_single_unreadable_answers_are_not_graded(quiz, answer):
    result = grading.grade(quiz["q-single"], answer)
    assert not result.valid and not result.correct and result.message


def test_multiple_needs_exactly_the_right_set(quiz):
    q = quiz["q-multiple"]
    assert grading.grade(q, [0, 1]).correct
    assert grading.grade(q, (1, 0)).correct  # order does not matter
    partial = grading.grade(q, [0])
    assert not partial.correct and "missed 1 right option" in partial.message
    extra = grading.grade(q, [0, 1, 2])
    assert not extra.correct and "1 of your choices is wrong" in extra.message
    assert any("too-small signature" in d for d in extra.details)  # per-option feedback
    assert len(extra.details) == 3  # one line per chosen option
    for bad in ([], None, [7], "x"):
        assert not grading.grade(q, bad).valid


# --- numeric ------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "correct"), [
    ("0.1", True), ("1e-1", True), ("2/20", True), ("0,1", True), ("10%", True),
    (0.095, True), (0.105, True),  # exactly at answer ± tolerance: still right
    (0.0949, False), (0.1051, False), ("0.2", False), (-0.1, False),
])
def test_numeric_tolerance_boundaries(quiz, typed, correct):
    result = grading.grade(quiz["q-numeric"], typed)
    assert result.valid and result.correct is correct


def test_numeric_low_and_high_feedback(quiz):
    q = quiz["q-numeric"]
    assert grading.grade(q, 0.05).message == q.feedback_low
    assert grading.grade(q, 0.5).message == q.feedback_high


@pytest.mark.parametrize("typed", ["banana", "", "   ", "1/0", "nan", "inf", "1e999",
                                   "1" * 80, "0.1.2", "--1", None, float("nan")])
def test_numeric_absurd_input_is_a_message_not_a_grade(quiz, typed):
    result = grading.grade(quiz["q-numeric"], typed)
    assert not result.valid and "number" in result.message


@given(hs.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_parse_number_reads_what_python_writes(x):
    assert grading.parse_number(repr(x)) == x
    assert grading.parse_number(x) == x


@given(hs.text(max_size=30))
def test_parse_number_never_raises_and_is_finite(text):
    value = grading.parse_number(text)
    assert value is None or math.isfinite(value)


# --- ordering and matching ------------------------------------------------------------------


def test_ordering(quiz):
    q = quiz["q-ordering"]
    assert grading.grade(q, list(q.items)).correct
    swapped = [q.items[1], q.items[0], *q.items[2:]]
    result = grading.grade(q, swapped)
    assert not result.correct and result.message.startswith("2 of 4 items")
    assert result.details[0].startswith("✗") and result.details[2].startswith("✓")
    assert not grading.grade(q, [q.items[0]] * 4).valid  # an item used twice
    assert not grading.grade(q, q.items[:3]).valid
    assert not grading.grade(q, [*q.items[:3], None]).valid


def test_matching(quiz):
    q = quiz["q-matching"]
    right = {p.left: p.right for p in q.pairs}
    assert grading.grade(q, right).correct
    wrong = dict(right)
    a, b = q.pairs[0].left, q.pairs[1].left
    wrong[a], wrong[b] = right[b], right[a]
    result = grading.grade(q, wrong)
    assert not result.correct and result.message.startswith("1 of 3 matches")
    assert not grading.grade(q, {a: right[a]}).valid  # incomplete
    assert not grading.grade(q, {**right, a: "made up"}).valid
    assert not grading.grade(q, ["not", "a", "mapping"]).valid


# --- simulation-graded ----------------------------------------------------------------------


def test_predict_is_graded_by_the_engine(quiz):
    q = quiz["q-predict"]  # SGD on Booth, lr 0.12: lr * lambda_max = 2.16 > 2
    right = grading.grade(q, "diverged")
    assert right.correct and right.run is not None and right.run.regime == Regime.DIVERGED
    assert right.config.lr == 0.12
    wrong = grading.grade(q, Regime.CONVERGED)
    assert not wrong.correct
    assert "you predicted converged, the run diverged" in wrong.message
    assert q.feedback[Regime.CONVERGED] in wrong.details
    assert q.feedback[Regime.DIVERGED] in wrong.details  # what really happened, explained
    assert not grading.grade(q, "stuck").valid  # a regime that is not offered
    assert not grading.grade(q, None).valid
    assert grading.model_answer(q) == "diverged"


@pytest.mark.parametrize(("lr", "success", "regime"), [
    (0.05, True, Regime.CONVERGED),      # near 1/lambda_max = 0.056: fastest
    (0.1, True, Regime.OVERSHOOTING),    # zig-zags (lr * lambda = 1.8) but ends close enough
    (0.11, False, Regime.OVERSHOOTING),  # lr * lambda = 1.98: still stable, too slow to settle
    (0.112, False, Regime.DIVERGED),     # lr * lambda = 2.016 > 2: forbidden
    (0.001, False, Regime.SLOW),         # the untouched base crawls
])
def test_tune_boundaries_around_two_over_lambda(quiz, lr, success, regime):
    result = grading.grade(quiz["q-tune"], {"lr": str(lr)})
    assert result.valid and result.correct is success
    assert result.run.regime == regime
    assert result.config.lr == pytest.approx(lr)
    if not success:
        assert result.message.startswith("Not yet")


def test_tune_ignores_settings_that_are_not_adjustable(quiz):
    result = grading.grade(quiz["q-tune"], {"lr": 0.05, "optimizer": "adam"})
    assert result.correct and result.config.optimizer == "sgd"


def test_tune_optimizer_and_momentum(quiz):
    q = quiz["m-tune"]  # the ravine: plain SGD at 0.01 is slow, heavy ball reaches the goal
    assert grading.grade(q, {"optimizer": "momentum", "momentum": 0.9, "lr": "0.01"}).correct
    slow = grading.grade(q, {"optimizer": "sgd", "lr": "0.01"})
    assert slow.valid and not slow.correct and slow.run.regime == Regime.SLOW


@pytest.mark.parametrize(("settings", "says"), [
    ({"lr": "banana"}, "not a number"),
    ({"lr": "-0.1"}, "outside the range"),
    ({"lr": "0"}, "outside the range"),
    ({"lr": "1e9"}, "outside the range"),
    ({"lr": "nan"}, "not a number"),
    ("lr=0.1", "Set the values"),
])
def test_tune_absurd_settings_give_a_message(quiz, settings, says):
    result = grading.grade(quiz["q-tune"], settings)
    assert not result.valid and says in result.message


def test_tune_unknown_optimizer_and_bad_momentum(quiz):
    q = quiz["m-tune"]
    assert "not valid" in grading.grade(q, {"optimizer": "lion"}).message
    assert not grading.grade(q, {"optimizer": "momentum", "momentum": 1.5}).valid


def test_model_answers_are_right_for_every_fixture_question(quiz):
    for q in quiz.values():
        assert grading.grade(q, grading.model_answer(q)).correct, q.id
        assert grading.solution_text(q)


# --- shuffling, credit and the hint ladder ------------------------------------------------


def test_option_order_is_a_reproducible_permutation():
    for n in (2, 3, 5, 8):
        for seed in range(20):
            order = grading.option_order(n, seed)
            assert sorted(order) == list(range(n))
            assert order == grading.option_order(n, seed)
    assert len({tuple(grading.option_order(5, s)) for s in range(50)}) > 10


def test_retries_reshuffle_the_options(quiz):
    q = quiz["q-single"]
    state = QuestionState()
    first = grading.option_order(len(q.options), state.shuffle_seed(11, 0))
    orders = {tuple(first)}
    for _ in range(6):
        state.submit(grading.grade(q, 1), 1)
        state.retry()
        orders.add(tuple(grading.option_order(len(q.options), state.shuffle_seed(11, 0))))
    assert len(orders) > 1  # 3 options, 7 tries: the order changes


def test_first_answer_decides_credit(quiz):
    q = quiz["q-single"]
    unaided = QuestionState()
    assert unaided.submit(grading.grade(q, 0), 0) is True
    assert unaided.credit == 1.0 and unaided.closed

    hinted = QuestionState()
    hinted.show_hint(q)
    hinted.submit(grading.grade(q, 0), 0)
    assert hinted.credit == 0.5

    wrong_then_right = QuestionState()
    assert wrong_then_right.submit(grading.grade(q, 1), 1) is True
    assert not wrong_then_right.closed
    assert wrong_then_right.submit(grading.grade(q, 0), 0) is False  # a later try
    assert wrong_then_right.solved and wrong_then_right.credit == 0.0
    assert wrong_then_right.first_answer == 1

    unread = QuestionState()
    assert unread.submit(grading.grade(q, None)) is False  # an empty answer is no attempt
    assert not unread.answered


def test_hint_ladder_comes_before_the_solution(quiz):
    q = quiz["q-tune"]  # three hints
    state = QuestionState()
    assert not state.can_reveal(q) and not state.reveal(q)
    for k in range(len(q.hints)):
        assert state.can_hint(q)
        state.show_hint(q)
        assert state.hints_shown == k + 1
    assert not state.can_hint(q)
    assert state.can_reveal(q)
    assert state.reveal(q) is True  # revealing before any answer settles the credit at 0
    assert state.closed and state.credit == 0.0 and state.first_answer == {"revealed": True}


def test_a_wrong_prediction_closes_the_question(quiz):
    q = quiz["q-predict"]
    state = QuestionState()
    assert state.submit(grading.grade(q, "converged"), "converged", final=True)
    assert state.closed and state.revealed and state.credit == 0.0
    assert not state.can_hint(q) and not state.can_reveal(q)


# --- predictions that name a broader regime -------------------------------------------------


def _predict(run: dict, choices: list[str]) -> Predict:
    return Predict.model_validate({
        "id": "p", "type": "predict", "prompt": "What happens?", "hints": ["h"],
        "explanation": "e", "run": run, "choices": choices,
        "feedback": {c: f"feedback for {c}" for c in choices}})


@pytest.mark.parametrize("arrived", [True, False])
@pytest.mark.parametrize("actual", list(Regime))
@pytest.mark.parametrize("guess", list(Regime))
def test_prediction_relation_is_equality_plus_arrived_overshooting_counts_as_converged(
        guess, actual, arrived):
    expected = guess == actual or (
        arrived and (actual, guess) == (Regime.OVERSHOOTING, Regime.CONVERGED))
    assert grading.prediction_holds(guess, actual, arrived=arrived) is expected


def test_converged_is_a_right_prediction_for_an_overshooting_run():
    q = _predict({"surface": "bowl", "lr": 1.9, "steps": 50},
                 ["converged", "overshooting", "diverged"])  # factor -0.9: zig-zags in
    broad = grading.grade(q, "converged")
    assert broad.run.regime is Regime.OVERSHOOTING
    assert broad.valid and broad.correct
    assert broad.message == "Yes — it converged, zig-zagging on the way (overshooting)."
    assert "feedback for converged" not in broad.details  # not a "close, but" line
    assert "feedback for overshooting" in broad.details
    exact = grading.grade(q, "overshooting")
    assert exact.correct and exact.message == "Correct: the run overshooting."
    assert not grading.grade(q, "diverged").correct
    assert "“converged” counts too" in grading.solution_text(q, broad.run)


def test_overshooting_is_wrong_for_a_run_that_slides_straight_in():
    q = _predict({"surface": "bowl", "lr": 0.5, "steps": 50}, ["converged", "overshooting"])
    wrong = grading.grade(q, "overshooting")
    assert wrong.run.regime is Regime.CONVERGED and not wrong.correct
    assert "you predicted overshooting, the run converged" in wrong.message


@pytest.mark.parametrize("question_id", ["basics-predict-bowl-1-9", "optim-predict-heavy-ball"])
def test_course_questions_accept_converged_for_their_overshooting_runs(course_quiz, question_id):
    q = course_quiz[question_id]
    result = grading.grade(q, "converged")
    assert result.run.regime is Regime.OVERSHOOTING and grading.reached_minimum(result.run)
    assert result.correct and result.message.startswith("Yes — it converged")


def test_converged_is_wrong_for_a_run_still_zig_zagging_in_when_the_steps_run_out(course_quiz):
    q = course_quiz["practice-lr-predict-range-test-edge"]  # lr x lambda_max = 1.98, 100 steps
    result = grading.grade(q, "converged")
    assert result.run.regime is Regime.OVERSHOOTING
    assert result.run.facts["arrival_step"] > result.run.config.steps  # never arrived
    assert not grading.reached_minimum(result.run) and not result.correct
    assert "you predicted converged, the run overshooting" in result.message
    assert "counts too" not in grading.solution_text(q, result.run)


@pytest.fixture(scope="module")
def course_quiz():
    return {q.id: q for lesson in load_course().lessons for q in lesson.quiz}


# --- tune feedback: one verdict, one set of numbers -----------------------------------------


def _gap(result) -> float:
    cfg = result.run.config
    return result.run.final_loss - get_surface(cfg.surface).global_min_value(
        cfg.surface_values())


@pytest.mark.parametrize("lr", [0.001, 0.02, 0.05, 0.1, 0.11, 0.112, 0.3])
def test_tune_headline_agrees_with_the_verdict_and_the_run(quiz, lr):
    q = quiz["q-tune"]
    result = grading.grade(q, {"lr": lr})
    gap = _gap(result)
    assert f"loss ends {gap:.3g} above the minimum" in result.message or (
        result.run.regime in q.goal.forbid)
    assert result.message.startswith("Goal reached" if result.correct else "Not yet")
    assert result.correct is (result.run.regime not in q.goal.forbid
                              and gap <= q.goal.max_final_loss)
    if result.correct:
        assert f"below the goal {q.goal.max_final_loss:g}" in result.message
    elif result.run.regime not in q.goal.forbid:
        assert f"the goal is below {q.goal.max_final_loss:g}" in result.message
    assert result.details == (result.run.explanation,)


def test_tune_converged_but_short_of_the_goal_says_so_without_contradiction(course_quiz):
    q = course_quiz["basics-tune-ravine"]  # lr 0.1: converged, loss 3.23e-06, goal 1e-06
    result = grading.grade(q, {"lr": "0.1"})
    assert result.run.regime is Regime.CONVERGED and not result.correct
    gap = f"{_gap(result):.3g}"
    assert result.message.startswith(f"Not yet: the run converged, but after 60 steps the loss "
                                     f"ends {gap} above the minimum, and the goal is below "
                                     f"1e-06 — ")
    assert "larger rate" in result.message  # the way on: the flat direction is too slow
    assert f"final loss {gap}" in result.details[0]  # the explanation quotes the same number


def test_tune_forbidden_regime_names_the_step(quiz):
    result = grading.grade(quiz["q-tune"], {"lr": 0.3})  # lr x lambda_max = 5.4: blows up
    assert result.run.regime is Regime.DIVERGED and result.run.diverged_at is not None
    assert result.message.startswith(
        f"Not yet: the run diverged at step {result.run.diverged_at}, which this challenge "
        f"rules out")


# --- exploring a tune challenge ---------------------------------------------------------------


def test_tune_misses_are_exploration_and_the_first_success_scores(quiz):
    q = quiz["q-tune"]
    miss, hit = grading.grade(q, {"lr": 0.001}), grading.grade(q, {"lr": 0.05})
    assert not miss.correct and hit.correct

    explorer = QuestionState()
    for _ in range(3):
        assert explorer.submit(miss, {"lr": 0.001}, explore=True) is False
    assert not explorer.answered and not explorer.closed and explorer.attempted
    assert explorer.submit(hit, {"lr": 0.05}, explore=True) is True  # this one scores
    assert explorer.closed and explorer.credit == 1.0
    assert explorer.first_answer == {"lr": 0.05} and explorer.tries == 4

    hinted = QuestionState()
    hinted.submit(miss, {"lr": 0.001}, explore=True)
    hinted.show_hint(q)
    assert hinted.submit(hit, {"lr": 0.05}, explore=True) is True
    assert hinted.credit == 0.5

    giving_up = QuestionState()
    giving_up.submit(miss, {"lr": 0.001}, explore=True)
    for _ in q.hints:
        giving_up.show_hint(q)
    assert giving_up.reveal(q) is True  # the reveal settles it, at 0
    assert giving_up.credit == 0.0 and giving_up.first_answer == {"revealed": True}

    # Without ``explore`` (every other question type) the first answer decides.
    strict = QuestionState()
    assert strict.submit(miss, {"lr": 0.001}) is True
    strict.submit(hit, {"lr": 0.05})
    assert strict.credit == 0.0


def test_tune_run_still_zig_zagging_in_is_not_called_converged(course_quiz):
    q = course_quiz["basics-tune-ravine"]  # lr 0.195: lr x lambda_max = 1.95, 60 steps
    result = grading.grade(q, {"lr": "0.195"})
    assert result.run.regime is Regime.OVERSHOOTING and not grading.reached_minimum(result.run)
    assert result.message.startswith("Not yet: the run was still zig-zagging in (overshooting), "
                                     "but after 60 steps")
    assert "converged" not in result.message.lower()
