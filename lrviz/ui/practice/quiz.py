"""The quiz page: one question at a time, feedback, hint ladder, solution, score, saved attempts.

State per browser session: ``st.session_state["quiz_runs"][quiz_id]`` holds a `QuizRun` (small:
ids, counters and texts, no arrays). Every first answer is written to the store at once, so a
reload or a crash loses nothing; an unfinished saved attempt can be resumed.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lrviz.learning import grading
from lrviz.learning.content import Course
from lrviz.learning.net_questions import is_net_run
from lrviz.learning.practice import (
    MASTERY_THRESHOLD,
    REVIEW_ID,
    QuizRun,
    find_question,
    lesson_questions,
    mastery,
    new_seed,
    review_questions,
    started_lessons,
)
from lrviz.learning.schema import Predict, Tune
from lrviz.learning.simcheck import tune_config
from lrviz.learning.store import Learner, ProgressStore, StoreError
from lrviz.ui import state
from lrviz.ui.lab import runs
from lrviz.ui.practice.common import course_or_stop, open_store, percent, pick, show_run
from lrviz.ui.practice.learner import escape_markdown, learner_sidebar
from lrviz.ui.practice.question import answer_form, read_answer, show_feedback

RUNS_KEY = "quiz_runs"
OWNER_KEY = "quiz_runs_owner"  # the learner id the runs in progress belong to (None: nobody)
ERROR_KEY = "quiz_save_error"


def _runs() -> dict[str, QuizRun]:
    return st.session_state.setdefault(RUNS_KEY, {})


def _check_owner(learner: Learner | None) -> None:
    """Set quizzes in progress aside when another name signs in (answers go to their owner).

    Runs started without a name are adopted by the first name entered, so answers given before
    signing in are saved with the rest of the attempt.
    """
    owner = st.session_state.get(OWNER_KEY)
    current = None if learner is None else learner.id
    if owner is not None and owner != current and _runs():
        st.session_state[RUNS_KEY] = {}
        st.info("The name changed, so quizzes in progress were set aside; answers already "
                "saved stay with the previous name.")
    st.session_state[OWNER_KEY] = current


# --- saving ------------------------------------------------------------------------------


def _save(run: QuizRun, store: ProgressStore | None, learner: Learner | None) -> None:
    """Write every first answer not yet saved (opening the attempt on the first one)."""
    if store is None or learner is None:
        return
    try:
        try:
            _write_answers(run, store, learner)
        except ValueError:  # the saved attempt is gone (progress reset elsewhere): start anew
            run.attempt_id = None
            for key in run.questions:
                run.state(key).saved = False
            _write_answers(run, store, learner)
        st.session_state.pop(ERROR_KEY, None)
    except StoreError as exc:
        st.session_state[ERROR_KEY] = f"Your answer could not be saved: {exc}"


def _write_answers(run: QuizRun, store: ProgressStore, learner: Learner) -> None:
    if run.attempt_id is None:
        lesson_id = None if run.kind == "review" else run.quiz_id
        run.attempt_id = store.start_attempt(learner.id, run.kind, lesson_id, run.questions,
                                             run.seed).id
    for key in run.questions:
        state = run.state(key)
        if state.answered and not state.saved:
            store.record_answer(run.attempt_id, key[0], key[1],
                                correct=bool(state.first_correct), credit=state.credit,
                                hints_used=state.hints_at_first, answer=state.first_answer)
            state.saved = True


def _grade(q: Any, answer: Any) -> grading.Grade:
    if isinstance(q, Predict) and not is_net_run(q.run) and answer is not None:
        try:
            return grading.grade_predict(q, answer, run=runs.run(q.run.to_config()))
        except ValueError:
            return grading.invalid("Pick a prediction first.")
    return grading.grade(q, answer)


def _target(quiz_id: str, position: int) -> tuple[QuizRun, Any, Any] | None:
    """The run, question and its state a button refers to (None if the run was set aside)."""
    run = _runs().get(quiz_id)
    if run is None or not 0 <= position < len(run.questions):
        return None
    key = run.questions[position]
    q = find_question(st.session_state["_quiz_course"], key)
    return None if q is None else (run, q, run.state(key))


def _save_now(run: QuizRun) -> None:
    _save(run, st.session_state.get("_quiz_store"), st.session_state.get("_quiz_learner"))


def _on_submit(quiz_id: str, position: int, prefix: str, order: list[int]) -> None:
    target = _target(quiz_id, position)
    if target is None:
        return
    run, q, state = target
    answer = read_answer(q, prefix, order)
    result = _grade(q, answer)
    if not result.valid:
        st.session_state[f"{prefix}-invalid"] = result.message
        return
    st.session_state.pop(f"{prefix}-invalid", None)
    if state.submit(result, answer, final=q.type == "predict", explore=q.type == "tune"):
        _save_now(run)


def _on_hint(quiz_id: str, position: int) -> None:
    if (target := _target(quiz_id, position)) is not None:
        _, q, state = target
        state.show_hint(q)


def _on_reveal(quiz_id: str, position: int) -> None:
    if (target := _target(quiz_id, position)) is not None:
        run, q, state = target
        if state.reveal(q):
            _save_now(run)


def _on_retry(quiz_id: str, position: int) -> None:
    if (target := _target(quiz_id, position)) is not None:
        target[2].retry()


def _on_go(quiz_id: str, index: int) -> None:
    if (run := _runs().get(quiz_id)) is not None:
        run.go(index)


def _on_start(quiz_id: str, questions: list, resume: QuizRun | None = None) -> None:
    _runs()[quiz_id] = resume or QuizRun(quiz_id, list(questions), new_seed())


# --- drawing one question ------------------------------------------------------------------


def _question(run: QuizRun, position: int, course: Course) -> None:
    key = run.questions[position]
    q = find_question(course, key)
    state = run.state(key)
    prefix = f"quiz-{run.quiz_id}-{position}"
    if run.kind == "review":
        st.caption(f"From the lesson “{course.get(key[0]).title}”")
    st.markdown(f"#### {q.prompt}")
    # A tune challenge keeps its form open: adjusting and re-running is the point.
    if not state.closed and (q.type == "tune" or not state.answered or state.retrying):
        try_prefix = prefix if q.type == "tune" else f"{prefix}-t{state.tries}"
        with st.form(f"{try_prefix}-form"):
            order = answer_form(q, try_prefix, state.shuffle_seed(run.seed, position))
            st.form_submit_button(
                "Run it" if q.type in ("tune", "predict") else "Check answer",
                on_click=_on_submit, args=(run.quiz_id, position, try_prefix, order),
                key=f"{try_prefix}-submit", type="primary")
        problem = st.session_state.get(f"{try_prefix}-invalid")
        if problem:
            st.warning(problem)
        if q.type == "tune":
            st.caption("Explore freely: runs that miss the goal cost nothing. Your first run "
                       "that reaches the goal is your answer (a hint first halves its credit).")
    show_feedback(q, state.last_grade, prefix)
    for k, hint in enumerate(q.hints[:state.hints_shown]):
        st.info(f"Hint {k + 1} of {len(q.hints)}: {hint}")
    buttons = st.columns(3)
    if state.can_hint(q):
        buttons[0].button(f"Show a hint ({len(q.hints) - state.hints_shown} left)",
                          key=f"{prefix}-hint", on_click=_on_hint, args=(run.quiz_id, position))
    if state.can_reveal(q):
        buttons[1].button("Show the solution", key=f"{prefix}-reveal", on_click=_on_reveal,
                          args=(run.quiz_id, position))
    if state.answered and not state.closed and not state.retrying and q.type != "tune":
        buttons[2].button("Try again (reshuffled)", key=f"{prefix}-retry", on_click=_on_retry,
                          args=(run.quiz_id, position))
    if state.closed:
        if state.revealed:
            st.markdown(grading.solution_text(q, runs.run(q.run.to_config())
                                              if isinstance(q, Predict)
                                              and not is_net_run(q.run) else None))
            if isinstance(q, Tune):
                show_run(tune_config(q, q.solution), f"{prefix}-solution", "a solution")
        st.info(f"**Why:** {q.explanation}")


# --- the page ------------------------------------------------------------------------------


def _intro(quiz_id: str, course: Course, store: ProgressStore | None,
           learner: Learner | None) -> None:
    """Before a run starts: what this quiz is, the learner's record, start / resume."""
    if quiz_id == REVIEW_ID:
        st.markdown("A mixed review interleaves questions from every lesson you have started, "
                    "missed questions first. It also confirms mastery: a lesson you mastered is "
                    f"confirmed when you get {MASTERY_THRESHOLD:.0%} of its review questions.")
        if learner is None or store is None:
            st.info("Enter your display name in the sidebar: the review is built from your own "
                    "history.")
            return
        started = started_lessons(course, store, learner.id)
        if not started:
            st.info("You have not started a lesson yet: read a section, try a lesson quiz or "
                    "review its flashcards, then come back for a mixed review.")
            return
        questions = review_questions(course, started, store.answers(learner.id),
                                     seed=new_seed())
        st.caption(f"{len(questions)} questions from {len(started)} lesson(s).")
    else:
        questions = lesson_questions(course, quiz_id)
        st.markdown(f"{len(questions)} questions. A question scores 1 if your first answer is "
                    f"right, ½ if you needed hints first, 0 otherwise (a tune challenge "
                    f"scores its first run that reaches the goal: exploring is free); "
                    f"{MASTERY_THRESHOLD:.0%} masters the lesson.")
        if learner is not None and store is not None:
            attempts = store.attempts(learner.id)  # reviews too: they confirm mastery
            m = mastery(quiz_id, attempts, store.answers(learner.id))
            st.markdown(f"Your best score: **{percent(m.best_score)}** ({m.attempts} finished "
                        f"attempt(s)) — {m.label}.")
            open_attempt = next((a for a in reversed(attempts) if a.finished_at is None
                                 and a.kind == "lesson" and a.lesson_id == quiz_id), None)
            if open_attempt is not None and all(find_question(course, k) is not None
                                                for k in open_attempt.questions):
                done = len(store.answers(learner.id, open_attempt.id))
                resumed = QuizRun.resume(open_attempt, store.answers(learner.id, open_attempt.id))
                st.button(f"Resume your unfinished attempt ({done} of "
                          f"{len(open_attempt.questions)} answered)", key=f"resume-{quiz_id}",
                          on_click=_on_start, args=(quiz_id, [], resumed), type="primary")
    if learner is None:
        st.caption("Enter a display name in the sidebar to save your score.")
    st.button("Start the quiz", key=f"start-{quiz_id}", on_click=_on_start,
              args=(quiz_id, questions))


def _summary(run: QuizRun, store: ProgressStore | None, learner: Learner | None) -> None:
    score = run.score
    right = sum(1 for k in run.questions if run.state(k).first_correct)
    verdict = ("Lesson mastered!" if run.kind == "lesson" and score >= MASTERY_THRESHOLD
               else "Review complete." if run.kind == "review" else
               f"{MASTERY_THRESHOLD:.0%} masters the lesson; try again when you are ready.")
    st.success(f"Attempt complete: score **{score:.0%}** ({right} of {len(run.questions)} right "
               f"first time). {verdict}")
    if learner is not None and store is not None and run.attempt_id is not None:
        st.caption(f"Saved for {escape_markdown(learner.name)}. Your history is on the Progress "
                   f"page.")
        if run.kind == "lesson":
            m = mastery(run.quiz_id, store.attempts(learner.id), store.answers(learner.id))
            st.markdown(f"Best score **{percent(m.best_score)}** — {m.label}.")
    st.button("Start a new attempt (questions reshuffled)", key=f"again-{run.quiz_id}",
              on_click=_runs().pop, args=(run.quiz_id, None))


def page() -> None:
    state.check_plain_url("quiz")
    st.title("Quiz")
    learner = learner_sidebar()
    course = course_or_stop()
    store = open_store()
    labels = {lesson.id: f"{lesson.order}. {lesson.title}" for lesson in course.lessons}
    labels[REVIEW_ID] = "Mixed review (all lessons you have started)"
    quiz_id = pick("Quiz", [lesson.id for lesson in course.lessons] + [REVIEW_ID], labels,
                   "lesson", "quiz_lesson")
    _check_owner(learner)
    # Callbacks run before the script body: give them what they need through session state.
    st.session_state["_quiz_course"] = course
    st.session_state["_quiz_store"] = store
    st.session_state["_quiz_learner"] = learner
    if st.session_state.get(ERROR_KEY):
        st.error(st.session_state[ERROR_KEY])
    run = _runs().get(quiz_id)
    if run is not None and any(find_question(course, k) is None for k in run.questions):
        st.warning("This quiz changed since you started it; starting afresh.")
        _runs().pop(quiz_id)
        run = None
    if run is None:
        try:
            _intro(quiz_id, course, store, learner)
        except StoreError as exc:
            st.error(f"Your quiz history cannot be read right now. {exc}")
        return
    if run.finished:
        try:
            _summary(run, store, learner)
        except StoreError as exc:
            st.error(f"Your quiz history cannot be read right now. {exc}")
    n = len(run.questions)
    open_ones = [i for i, k in enumerate(run.questions) if not run.state(k).answered]
    if open_ones and all(run.state(run.questions[i]).attempted for i in open_ones):
        numbers = ", ".join(str(i + 1) for i in open_ones)
        st.info(f"To finish this attempt, settle question {numbers}: reach the goal, or climb "
                f"the hint ladder and reveal the solution.")
    st.progress(run.answered / n, text=f"Question {run.index + 1} of {n} · {run.answered} "
                                       f"answered · score so far {run.score:.0%}")
    _question(run, run.index, course)
    nav = st.columns(2)
    if run.index > 0:
        nav[0].button("← Previous", key="quiz-prev", on_click=_on_go,
                      args=(quiz_id, run.index - 1))
    if run.index + 1 < n and run.state(run.questions[run.index]).attempted:
        nav[1].button("Next question →", key="quiz-next", on_click=_on_go,
                      args=(quiz_id, run.index + 1), type="primary")
