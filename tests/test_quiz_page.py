"""The quiz page (AppTest): answer right and wrong, feedback, hints, retries, runs, saving."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lrviz.learning import grading
from lrviz.learning.content import load_course
from lrviz.learning.practice import find_question
from lrviz.learning.store import get_store

FIXTURE = str(Path(__file__).parent / "fixtures" / "practice_course")
QUIZ = "lrviz/ui/pages/quiz.py"


@pytest.fixture(autouse=True)
def _fixture_course(monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", FIXTURE)


@pytest.fixture
def quiz_page(app_test):
    def make(name: str | None = None, query: dict | None = None):
        at = app_test(QUIZ, query=query)
        if name:
            at.sidebar.text_input(key="learner").set_value(name).run()
        return at
    return make


# --- helpers shared with the progress page tests ------------------------------------------


def current(at, quiz_id: str):
    """(position, question key, question, widget prefix) of the question on screen."""
    run = at.session_state["quiz_runs"][quiz_id]
    key = run.questions[run.index]
    q = find_question(load_course(FIXTURE), key)
    state = run.state(key)
    prefix = f"quiz-{quiz_id}-{run.index}"
    return run.index, key, q, prefix if q.type == "tune" else f"{prefix}-t{state.tries}"


def fill(at, q, prefix: str, answer) -> None:
    """Set the form widgets of ``q`` to ``answer`` (in grading's answer format)."""
    if q.type in ("single", "predict"):
        at.radio(key=f"{prefix}-choice").set_value(answer)
    elif q.type == "multiple":
        for i in answer:
            at.checkbox(key=f"{prefix}-opt{i}").check()
    elif q.type == "numeric":
        at.text_input(key=f"{prefix}-value").input(str(answer))
    elif q.type == "ordering":
        for k, item in enumerate(answer):
            at.selectbox(key=f"{prefix}-pos{k}").set_value(item)
    elif q.type == "matching":
        for j, pair in enumerate(q.pairs):
            at.selectbox(key=f"{prefix}-match{j}").set_value(answer[pair.left])
    else:
        for name, value in answer.items():
            if name == "lr":
                at.text_input(key=f"{prefix}-lr").input(str(value))
            elif name == "momentum":
                at.slider(key=f"{prefix}-momentum").set_value(float(value))
            else:
                at.selectbox(key=f"{prefix}-{name}").set_value(value)


def submit(at, quiz_id: str, answer=None, *, right: bool = True):
    """Answer the current question (its model answer by default) and return the question."""
    _, _, q, prefix = current(at, quiz_id)
    if answer is None:
        answer = grading.model_answer(q) if right else wrong_answer(q)
    fill(at, q, prefix, answer)
    at.button(key=f"{prefix}-submit").click().run()
    assert not at.exception
    return q


def wrong_answer(q):
    if q.type == "single":
        return next(i for i, o in enumerate(q.options) if not o.correct)
    if q.type == "multiple":
        return [i for i, o in enumerate(q.options) if not o.correct]
    if q.type == "numeric":
        return q.answer + 10 * q.tolerance + 1
    if q.type == "ordering":
        return list(reversed(q.items))
    if q.type == "matching":
        rights = [p.right for p in q.pairs]
        return {p.left: rights[(k + 1) % len(rights)] for k, p in enumerate(q.pairs)}
    if q.type == "predict":
        run = grading.predict_run(q)
        arrived = grading.reached_minimum(run)
        return next(c.value for c in q.choices
                    if not grading.prediction_holds(c, run.regime, arrived=arrived))
    return {"lr": 1e-6}


def give_up(at, quiz_id: str) -> None:
    """Climb the hint ladder of the current question and reveal its solution (credit 0)."""
    run = at.session_state["quiz_runs"][quiz_id]
    prefix = f"quiz-{quiz_id}-{run.index}"
    while [b for b in at.button if b.key == f"{prefix}-hint"]:
        at.button(key=f"{prefix}-hint").click().run()
    at.button(key=f"{prefix}-reveal").click().run()


def answer_all(at, quiz_id: str, *, right: bool = True) -> None:
    """Start ``quiz_id`` and answer every question (right or wrong), pressing Next between."""
    if at.selectbox(key="quiz_lesson").value != quiz_id:
        at.selectbox(key="quiz_lesson").set_value(quiz_id).run()
    at.button(key=f"start-{quiz_id}").click().run()
    n = len(at.session_state["quiz_runs"][quiz_id].questions)
    for k in range(n):
        q = submit(at, quiz_id, right=right)
        if q.type == "tune" and not right:  # a missed run is exploration: give up to settle it
            give_up(at, quiz_id)
        if k + 1 < n:
            at.button(key="quiz-next").click().run()


def texts(elements) -> list[str]:
    return [e.value for e in elements]


# --- tests ------------------------------------------------------------------------------


def test_wrong_then_right_with_feedback_retry_and_explanation(quiz_page):
    at = quiz_page()
    assert not at.exception
    at.button(key="start-step-size").click().run()
    q = submit(at, "step-size", 1)  # "The loss"
    assert texts(at.error) == ["Not quite. The loss itself never enters the update."]
    assert not any("Why:" in t for t in texts(at.info))  # no explanation while still open
    first_order = at.session_state["quiz_runs"]["step-size"].state(("step-size", q.id)).tries
    at.button(key="quiz-step-size-0-retry").click().run()
    radio = at.radio(key="quiz-step-size-0-t1-choice")  # a fresh, reshuffled form
    assert sorted(radio.options) == sorted(o.text for o in q.options)
    assert first_order == 1
    submit(at, "step-size", 0)
    assert texts(at.success) == ["Correct. Yes: it scales the gradient."]
    assert any(t.startswith("**Why:**") and "scales the gradient" in t for t in texts(at.info))
    assert "score so far 0%" in at.get("progress")[0].proto.text  # the first answer scored


def test_misconception_is_named(quiz_page):
    at = quiz_page()
    at.button(key="start-step-size").click().run()
    submit(at, "step-size", 2)
    assert any("A bigger learning rate is always faster." in t for t in texts(at.warning))


def test_hint_ladder_then_solution(quiz_page):
    at = quiz_page()
    at.button(key="start-step-size").click().run()
    assert not [b for b in at.button if b.key == "quiz-step-size-0-reveal"]
    at.button(key="quiz-step-size-0-hint").click().run()
    assert texts(at.info) == ["Hint 1 of 2: Look at the update rule."]
    assert not [b for b in at.button if b.key == "quiz-step-size-0-reveal"]
    at.button(key="quiz-step-size-0-hint").click().run()
    at.button(key="quiz-step-size-0-reveal").click().run()
    assert not at.exception
    assert any("The right answer: **The gradient**" in m for m in texts(at.markdown))
    assert any("**Why:**" in t for t in texts(at.info))
    assert not [r for r in at.radio if r.key and r.key.startswith("quiz-step-size-0")]


def test_hinted_right_answer_scores_half(quiz_page):
    at = quiz_page()
    at.button(key="start-step-size").click().run()
    at.button(key="quiz-step-size-0-hint").click().run()
    submit(at, "step-size", 0)
    assert "score so far 5%" in at.get("progress")[0].proto.text  # 0.5 of 10 questions


def test_absurd_numeric_answer_is_a_message_not_a_wrong_answer(quiz_page):
    at = quiz_page()
    at.button(key="start-step-size").click().run()
    at.session_state["quiz_runs"]["step-size"].go(2)  # the numeric question
    at.run()
    submit(at, "step-size", "banana")
    assert any("is not a number I can read" in t for t in texts(at.warning))
    assert not at.error and not at.success
    assert not at.session_state["quiz_runs"]["step-size"].state(("step-size", "q-numeric")).answered
    submit(at, "step-size", "1e-1")
    assert texts(at.success)[0].startswith("Correct: 0.1 is within ±0.005")


def test_predict_shows_the_run_next_to_the_feedback(quiz_page):
    at = quiz_page()
    at.button(key="start-step-size").click().run()
    at.session_state["quiz_runs"]["step-size"].go(5)
    at.run()
    assert not at.get("plotly_chart")  # nothing is run before the prediction
    submit(at, "step-size", "converged")
    assert texts(at.error) == ["Not this time: you predicted converged, the run diverged."]
    shown = " ".join(texts(at.markdown))
    assert "It would converge only below lr = 2/18." in shown  # feedback on the prediction
    assert "lr * lambda_max = 2.16 > 2" in shown  # and on what really happened
    assert not [b for b in at.button if b.key == "quiz-step-size-5-retry"]  # the run told
    assert any("**Why:**" in t for t in texts(at.info))
    assert any("The run ends **diverged**" in m for m in texts(at.markdown))
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # trajectory map and loss curve
    spec = json.loads(charts[0].proto.spec)
    assert any(t.get("name") == "loss surface" for t in spec["data"])
    assert spec["layout"]["images"][0]["source"].startswith("data:image/png;base64,")


def test_tune_is_graded_by_running_the_engine(quiz_page):
    at = quiz_page()
    at.button(key="start-step-size").click().run()
    at.session_state["quiz_runs"]["step-size"].go(6)
    at.run()
    submit(at, "step-size", {"lr": "0.112"})
    # A miss is exploration: a warning that says how the run ended, and nothing is scored yet.
    assert texts(at.warning)[0].startswith("Not yet: the run diverged")
    assert not at.error
    assert not [b for b in at.button if b.key == "quiz-step-size-6-retry"]
    assert at.text_input(key="quiz-step-size-6-lr").value == "0.112"  # the form stays open
    state = at.session_state["quiz_runs"]["step-size"].state(("step-size", "q-tune"))
    assert not state.answered and state.attempted
    assert [b for b in at.button if b.key == "quiz-next"]  # exploring lets the learner move on
    submit(at, "step-size", {"lr": "0.05"})
    assert texts(at.success)[0].startswith("Goal reached")
    assert len(at.get("plotly_chart")) == 2
    state = at.session_state["quiz_runs"]["step-size"].state(("step-size", "q-tune"))
    assert state.closed and state.credit == 1.0  # the run that reached the goal scores
    assert "score so far 10%" in at.get("progress")[0].proto.text  # 1 of 10 questions


def test_tune_absurd_learning_rate(quiz_page):
    at = quiz_page()
    at.button(key="start-step-size").click().run()
    at.session_state["quiz_runs"]["step-size"].go(6)
    at.run()
    submit(at, "step-size", {"lr": "1e300"})
    assert any("outside the range" in t for t in texts(at.warning))
    assert not at.error and not at.success


def test_full_attempt_is_scored_saved_and_masters_the_lesson(quiz_page):
    at = quiz_page("Ada")
    answer_all(at, "step-size")
    assert any("Attempt complete: score **100%**" in t and "Lesson mastered!" in t
               for t in texts(at.success))
    store = get_store()
    ada = store.find_learner("Ada")
    attempts = store.attempts(ada.id)
    assert len(attempts) == 1 and attempts[0].score == 1.0 and attempts[0].finished_at
    assert len(store.answers(ada.id)) == 10
    # A new attempt reshuffles and shows the best score on its intro.
    at.button(key="again-step-size").click().run()
    assert any("Your best score: **100%**" in m and "confirm it in a mixed review" in m
               for m in texts(at.markdown))


def test_all_wrong_attempt_is_not_mastered(quiz_page):
    at = quiz_page("Bob")
    answer_all(at, "momentum-fx", right=False)
    assert any("score **0%**" in t and "80% masters the lesson" in t for t in texts(at.success))
    bob = get_store().find_learner("Bob")
    assert get_store().attempts(bob.id)[0].score == 0.0


def test_unfinished_attempt_can_be_resumed_in_a_new_session(quiz_page):
    at = quiz_page("Cleo")
    at.button(key="start-step-size").click().run()
    submit(at, "step-size")
    at.button(key="quiz-next").click().run()
    submit(at, "step-size", right=False)
    code = at.sidebar.code[0].value  # the recovery code shown when "Cleo" was created
    later = quiz_page()  # a reload: new session, same name, which needs its code
    later.sidebar.text_input(key="learner").set_value("Cleo")
    later.sidebar.text_input(key="learner_secret").set_value(code)
    later.run()
    resume = [b for b in later.button if b.key == "resume-step-size"]
    assert resume and "2 of 10 answered" in resume[0].label
    resume[0].click().run()
    run = later.session_state["quiz_runs"]["step-size"]
    assert run.index == 2 and run.answered == 2
    assert "score so far 10%" in later.get("progress")[0].proto.text


def test_mixed_review_confirms_mastery(quiz_page):
    at = quiz_page("Dana")
    answer_all(at, "step-size")
    at.selectbox(key="quiz_lesson").set_value("review").run()
    assert any("10 questions from 1 lesson(s)" in c for c in texts(at.caption))
    answer_all(at, "review")
    assert any("Review complete." in t for t in texts(at.success))
    store = get_store()
    dana = store.find_learner("Dana")
    kinds = [a.kind for a in store.attempts(dana.id)]
    assert kinds == ["lesson", "review"]
    at.selectbox(key="quiz_lesson").set_value("step-size").run()
    assert any("mastered, confirmed by review" in m for m in texts(at.markdown))


def test_review_needs_a_name_and_a_started_lesson(quiz_page):
    at = quiz_page(query={"lesson": "review"})
    assert any("Enter your display name" in t for t in texts(at.info))
    at.sidebar.text_input(key="learner").set_value("Eve").run()
    assert any("not started a lesson yet" in t for t in texts(at.info))


def test_url_picks_the_quiz_and_rejects_nonsense(quiz_page):
    at = quiz_page(query={"lesson": "momentum-fx"})
    assert at.selectbox(key="quiz_lesson").value == "momentum-fx"
    bad = quiz_page(query={"lesson": "../../etc/passwd"})
    assert not bad.exception
    assert any("does not exist" in t for t in texts(bad.warning))
    assert bad.selectbox(key="quiz_lesson").value == "step-size"


def test_damaged_database_shows_a_message_and_the_quiz_still_works(quiz_page, monkeypatch,
                                                                   tmp_path):
    db = tmp_path / "broken.sqlite3"
    db.write_bytes(b"\x00not sqlite\xff" * 500)
    monkeypatch.setenv("LRVIZ_DB_URL", f"sqlite:///{db}")
    at = quiz_page("Ada")
    assert not at.exception
    assert any("damaged or is not an lrviz database" in e for e in texts(at.error))
    at.button(key="start-step-size").click().run()
    submit(at, "step-size", 0)
    assert texts(at.success) == ["Correct. Yes: it scales the gradient."]
    assert db.read_bytes() == b"\x00not sqlite\xff" * 500


def test_answers_before_signing_in_are_adopted_and_a_new_name_starts_afresh(quiz_page):
    at = quiz_page()
    at.button(key="start-step-size").click().run()
    submit(at, "step-size")  # answered anonymously
    at.sidebar.text_input(key="learner").set_value("Fay").run()
    at.button(key="quiz-next").click().run()
    submit(at, "step-size")  # the first answer is saved along with this one
    store = get_store()
    fay = store.find_learner("Fay")
    assert [a.question_id for a in store.answers(fay.id)] == ["q-single", "q-multiple"]
    at.sidebar.text_input(key="learner").set_value("Gus").run()
    assert any("quizzes in progress were set aside" in i for i in texts(at.info))
    assert [b for b in at.button if b.key == "start-step-size"]
    assert store.answers(store.find_learner("Gus").id) == []


# --- math in options ------------------------------------------------------------------------


def test_ordering_options_with_math_render_as_markdown_math(app_test, monkeypatch):
    """Lesson 1's ordering question lists $\\eta = ...$ items: shown as math, not raw `$`."""
    lessons = Path(__file__).parent.parent / "lessons"
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", str(lessons))
    course = load_course(lessons)
    lesson = course.get("lr-basics")
    position, q = next((k, q) for k, q in enumerate(lesson.quiz) if q.type == "ordering"
                       and any("$" in item for item in q.items))
    at = app_test(QUIZ, query={"lesson": "lr-basics"})
    at.button(key="start-lr-basics").click().run()
    at.session_state["quiz_runs"]["lr-basics"].go(position)
    at.run()
    assert not at.exception
    listed = [m.value for m in at.markdown if all(item in m.value for item in q.items)]
    assert len(listed) == 1  # every item, its $...$ intact for the Markdown math renderer
    assert all(f"** {item}" in listed[0] for item in q.items)  # "- **A.** $\eta = 1.0$"
    boxes = [s for s in at.selectbox if s.key and s.key.startswith("quiz-lr-basics-")]
    assert len(boxes) == len(q.items)
    for box in boxes:
        assert len(box.options) == len(q.items)
        assert not any("$" in label or "\\" in label for label in box.options)
        assert any("η = 1.0" in label for label in box.options)
    # the dropdown letters match the rendered list, and the answer is still the item itself
    for item in q.items:
        letter = listed[0].split(f"** {item}")[0].rsplit("**", 1)[-1].rstrip(".")
        assert any(label.startswith(f"{letter}. ") for label in boxes[0].options)
    run = at.session_state["quiz_runs"]["lr-basics"]
    prefix = f"quiz-lr-basics-{position}-t{run.state(run.questions[position]).tries}"
    for k, item in enumerate(q.items):
        at.selectbox(key=f"{prefix}-pos{k}").set_value(item)
    at.button(key=f"{prefix}-submit").click().run()
    assert texts(at.success)[0].startswith("Correct order.")


def test_an_explored_tune_challenge_keeps_the_attempt_open_until_settled(quiz_page):
    at = quiz_page("Hal")
    at.button(key="start-step-size").click().run()
    run = at.session_state["quiz_runs"]["step-size"]
    n = len(run.questions)
    for k in range(n):
        q = submit(at, "step-size", {"lr": "0.001"} if current(at, "step-size")[2].type ==
                   "tune" else None)
        if k + 1 < n:
            at.button(key="quiz-next").click().run()
    tune_position = next(i for i, key in enumerate(run.questions) if key[1] == "q-tune")
    assert at.session_state["quiz_runs"]["step-size"].answered == n - 1
    assert any(f"settle question {tune_position + 1}:" in t for t in texts(at.info))
    assert not any("Attempt complete" in t for t in texts(at.success))
    at.session_state["quiz_runs"]["step-size"].go(tune_position)
    at.run()
    q = submit(at, "step-size", {"lr": "0.05"})
    assert q.id == "q-tune"
    assert any("Attempt complete: score **100%**" in t for t in texts(at.success))
    hal = get_store().find_learner("Hal")
    assert get_store().attempts(hal.id)[0].score == 1.0  # exploring cost nothing
