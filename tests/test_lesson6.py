"""Lesson 6, "From the bowl to a real network": valid, complete, and every number it states
about a network run re-measured here with the network engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lrviz import nets
from lrviz.engine.diagnose import Regime
from lrviz.learning import grading
from lrviz.learning.content import load_course, load_lesson
from lrviz.learning.net_questions import NetPrediction, NetRunSpec
from lrviz.learning.schema import Lesson, Predict
from lrviz.learning.simcheck import check_lesson

LESSON_DIR = Path(__file__).resolve().parents[1] / "lessons" / "06-bowl-to-network"

# The network the lesson's predict questions and explanations are about.
MOONS_MSE = dict(dataset="moons", hidden=(32,), loss="mse", optimizer="sgd", steps=500)


@pytest.fixture(scope="module")
def lesson() -> Lesson:
    result = load_lesson(LESSON_DIR)
    assert isinstance(result, Lesson), getattr(result, "errors", result)
    return result


@pytest.fixture(scope="module")
def moons_runs() -> dict[float, nets.NetRun]:
    """The three rates the lesson discusses, with the sharpness measured every 10 steps."""
    return {lr: nets.train(nets.NetConfig(lr=lr, sharpness_every=10, **MOONS_MSE))
            for lr in (0.1, 0.45, 1.0)}


def test_lesson_has_every_part(lesson):
    assert lesson.order == 6 and len(lesson.dialogue) >= 3 and len(lesson.chapters) >= 2
    assert len(lesson.flashcards) >= 8 and len(lesson.quiz) >= 10
    types = {q.type for q in lesson.quiz}
    assert {"single", "multiple", "numeric", "ordering", "matching", "predict"} <= types
    net_questions = [q for q in lesson.quiz if isinstance(q, Predict)
                     and isinstance(q.run, NetRunSpec)]
    assert len(net_questions) >= 3
    terms = {g.id for g in lesson.glossary}
    for term in ("sharpness", "edge-of-stability", "catapult", "progressive-sharpening",
                 "linear-scaling-heuristic", "trainability"):
        assert term in terms
    assert all(ch.limits.strip() for ch in lesson.chapters)


def test_course_still_loads_with_lesson_six():
    course = load_course()
    assert not course.errors and not course.broken
    assert course.ids[-1] == "bowl-to-network"


def test_every_claim_holds(lesson):
    """Examples' network presets show the promised regime; predict answers are among choices."""
    assert check_lesson(lesson) == []


def test_initial_sharpness_the_prompts_state(moons_runs):
    """The prompts say: sharpness about 6.1 at the initial weights, so the edge is about 0.33."""
    lam0 = moons_runs[0.1].sharpness[0]
    assert lam0 == pytest.approx(6.1, abs=0.15)
    assert 2 / lam0 == pytest.approx(0.33, abs=0.01)
    # eta * lambda at the start: about 0.6, 2.7 and 6 for the three rates
    assert 0.1 * lam0 == pytest.approx(0.6, abs=0.05)
    assert 0.45 * lam0 == pytest.approx(2.7, abs=0.1)
    assert 1.0 * lam0 == pytest.approx(6.0, abs=0.2)


def test_rate_point_one_stays_far_below_the_ceiling(moons_runs):
    run = moons_runs[0.1]
    assert run.regime is Regime.CONVERGED
    assert run.sharpness.max() < 6.6 < 20  # "only drifts up to about 6.4, far below 20"
    assert run.train_loss[0] == pytest.approx(0.71, abs=0.01)
    assert run.train_loss[-1] == pytest.approx(0.07, abs=0.01)


def test_rate_point_four_five_catapults(moons_runs):
    run, gentle = moons_runs[0.45], moons_runs[0.1]
    assert run.diverged_at is None and run.regime is Regime.OVERSHOOTING
    assert run.sharpness[0] > 2 / 0.45  # past the edge at the start
    spike = int(np.argmax(run.train_loss))
    assert spike <= 5 and run.train_loss[spike] == pytest.approx(3.9, abs=0.2)  # "nearly 4"
    ceiling = 2 / 0.45
    after = run.sharpness[run.sharpness_steps == 10][0]
    assert after == pytest.approx(4.3, abs=0.1) and after < ceiling  # "about 4.3, below 4.4"
    late = run.sharpness[run.sharpness_steps >= 20]
    assert late.max() > ceiling and late.max() < 5  # "pokes above the line, never above 5"
    assert np.median(late) == pytest.approx(ceiling, rel=0.05)  # "hovering around 2/eta"
    assert run.train_loss[-1] == pytest.approx(0.04, abs=0.005)
    assert run.train_loss[-1] < gentle.train_loss[-1]  # "ends lower than the run at 0.1"


def test_rate_one_diverges_quickly(moons_runs):
    run = moons_runs[1.0]
    assert run.regime is Regime.DIVERGED
    assert run.diverged_at is not None and run.diverged_at <= 10  # "within a handful of steps"


def test_network_predict_questions_are_graded_by_the_engine(lesson):
    expected = {"net-predict-below-edge": Regime.CONVERGED,
                "net-predict-catapult": Regime.OVERSHOOTING,
                "net-predict-far-above": Regime.DIVERGED}
    questions = {q.id: q for q in lesson.quiz}
    for qid, regime in expected.items():
        q = questions[qid]
        assert grading.model_answer(q) == regime.value
        right = grading.grade(q, regime.value)
        assert right.valid and right.correct and right.config is None
        assert isinstance(right.run, NetPrediction) and right.run.regime is regime
        wrong = next(c for c in q.choices if c is not regime)
        verdict = grading.grade(q, wrong.value)
        assert verdict.valid and not verdict.correct
        assert regime.label in verdict.message
        assert q.feedback[wrong] in verdict.details
        assert f"**{regime.label}**" in grading.solution_text(q)


def test_a_network_spec_is_validated_by_the_engine():
    with pytest.raises(ValueError, match="dataset"):
        NetRunSpec(dataset="mnist")
    with pytest.raises(ValueError):
        NetRunSpec(dataset="moons", optimizer="adamw", weight_decay=0.1)


def test_numeric_answers_follow_from_the_bound(lesson):
    questions = {q.id: q for q in lesson.quiz}
    assert questions["net-numeric-ceiling"].answer == pytest.approx(2 / 0.04)
    assert questions["net-numeric-sharpness-stable"].answer == pytest.approx(2 / 25)
    assert questions["net-numeric-linear-scaling"].answer == pytest.approx(0.01 * 256 / 32)


# --- what the examples say about the network presets, beyond their declared claims -------------


@pytest.fixture(scope="module")
def preset_runs():
    from lrviz.nets.presets import PRESETS

    def runs(preset_id: str) -> list[nets.NetRun]:
        return [nets.train(cfg) for _, cfg in PRESETS[preset_id].runs()]

    return runs


def test_edge_of_stability_ends_lower_than_the_run_below_the_edge(preset_runs):
    eos, below = preset_runs("edge-of-stability")
    assert eos.train_loss[-1] < below.train_loss[-1]
    assert np.mean(np.diff(eos.train_loss) > 0) > 0.05  # "goes up on many of them"
    assert np.all(np.diff(below.train_loss) <= 1e-7)  # the smooth run: down on every step


def test_catapult_sharpness_drops_after_the_spike(preset_runs):
    run = preset_runs("catapult")[0]
    early = run.sharpness[run.sharpness_steps <= 20]
    assert early.min() < 2 / run.config.lr < early[0]


def test_warmup_never_rises_and_generalises_better(preset_runs):
    warm, constant, _ = preset_runs("adam-warmup")
    assert warm.train_loss.max() <= warm.train_loss[0]
    assert constant.val_acc[-1] < warm.val_acc[-1]


def test_the_noisy_large_rate_generalises_better_then_overfits(preset_runs):
    noisy, careful = preset_runs("generalisation")
    assert noisy.val_loss.min() < careful.val_loss.min()
    assert noisy.val_loss[-1] > noisy.val_loss.min()  # "later its validation loss turns up"
    assert noisy.train_loss[-1] < noisy.train_loss[len(noisy.train_loss) // 2]


def test_lesson_page_trains_an_example_on_demand_and_the_engine_agrees(app_test):
    at = app_test("lrviz/ui/pages/lesson.py", query={"lesson": "bowl-to-network",
                                                      "section": "Examples"}, timeout=300)
    assert not at.exception, at.exception
    assert not at.get("plotly_chart")  # nothing trains until asked
    at.toggle(key="lesson-bowl-to-network-netex-0-live").set_value(True).run()
    assert not at.exception, at.exception
    assert any("The network engine agrees" in c.value and "converged" in c.value
               for c in at.caption)
    assert len(at.get("plotly_chart")) == 2  # sharpness against 2/eta, and the loss


def test_the_quiz_page_grades_a_network_question_with_the_network_engine(lesson):
    from lrviz.ui.practice.quiz import _grade

    q = next(q for q in lesson.quiz if q.id == "net-predict-catapult")
    result = _grade(q, "overshooting")
    assert result.valid and result.correct and result.config is None
    assert not _grade(q, "diverged").correct
