"""Quiz practice: the state of one question, scoring, mastery and the mixed review.

Rules (also shown to learners on the quiz page):

* a question's credit is decided by the first answer: 1 if right without hints, 0.5 if right
  after hints, 0 otherwise (later tries teach but do not score); an attempt's score is the mean
  credit over its questions;
* a tune challenge is explored, not guessed: runs that miss the goal are free exploration and
  settle nothing; the first run that reaches the goal is the answer (1 without hints, 0.5 with
  hints), and revealing the solution settles it at 0;
* the hint ladder comes before the solution: the solution unlocks once every hint is shown;
* a lesson is *mastered* when one of its quiz attempts scores at least 80 %, and *confirmed*
  when a later mixed review gets at least 80 % of that lesson's questions in it;
* the mixed review draws from every lesson the learner has started (read a section, answered a
  question or reviewed a card), missed questions first, interleaved so consecutive questions
  come from different lessons.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lrviz.learning import grading
from lrviz.learning.content import LESSON_SECTIONS, Course
from lrviz.learning.grading import Grade
from lrviz.learning.srs import due_today
from lrviz.learning.store import Answer, Attempt, ProgressStore

MASTERY_THRESHOLD = 0.8
REVIEW_SIZE = 10
REVIEW_ID = "review"  # the quiz id of the mixed review (lesson ids are slugs, never this)

QuestionKey = tuple[str, str]  # (lesson_id, question_id)


def find_question(course: Course, key: QuestionKey) -> Any | None:
    lesson = course.get(key[0])
    if lesson is None:
        return None
    return next((q for q in lesson.quiz if q.id == key[1]), None)


def lesson_questions(course: Course, lesson_id: str) -> list[QuestionKey]:
    lesson = course.get(lesson_id)
    return [] if lesson is None else [(lesson.id, q.id) for q in lesson.quiz]


# --- one question in one attempt ---------------------------------------------------------


@dataclass
class QuestionState:
    """What happened to one question so far (kept in session state: small, no arrays)."""

    tries: int = 0  # graded submissions
    hints_shown: int = 0
    revealed: bool = False  # the learner asked for the solution
    solved: bool = False  # some submission was right
    first_correct: bool | None = None  # None until the first graded submission
    hints_at_first: int = 0
    retrying: bool = False  # a fresh (reshuffled) form is showing after a wrong answer
    last_grade: Grade | None = None
    first_answer: Any = None  # what the learner submitted first (saved with the attempt)
    saved: bool = False  # the first answer is in the store

    @property
    def answered(self) -> bool:
        return self.first_correct is not None

    @property
    def closed(self) -> bool:
        """Solved or revealed: the explanation is shown and no more tries are offered."""
        return self.solved or self.revealed

    @property
    def credit(self) -> float:
        return grading.credit(bool(self.first_correct), self.hints_at_first)

    def shuffle_seed(self, attempt_seed: int, position: int) -> int:
        """Option order for this try: changes with every retry, stable within one."""
        return attempt_seed * 7919 + position * 104729 + self.tries

    def can_hint(self, question: Any) -> bool:
        return not self.closed and self.hints_shown < len(question.hints)

    def show_hint(self, question: Any) -> None:
        if self.can_hint(question):
            self.hints_shown += 1

    def can_reveal(self, question: Any) -> bool:
        return not self.closed and self.hints_shown >= len(question.hints)

    def reveal(self, question: Any) -> bool:
        """Show the solution (only after the ladder). True when this settles the credit."""
        if not self.can_reveal(question):
            return False
        self.revealed = True
        self.retrying = False
        if self.first_correct is None:
            self.first_correct = False
            self.hints_at_first = self.hints_shown
            self.first_answer = {"revealed": True}
            return True
        return False

    @property
    def attempted(self) -> bool:
        """Something was submitted (an exploratory tune run counts): the learner may move on."""
        return self.answered or self.tries > 0

    def submit(self, grade: Grade, answer: Any = None, *, final: bool = False,
               explore: bool = False) -> bool:
        """Record a graded answer; True when it is the first one (the one that scores).

        ``final``: the feedback gives the answer away (a predict question shows the run), so
        the question closes whatever the verdict.
        ``explore``: a miss is exploration (a tune challenge): its feedback shows, but it
        neither scores nor closes the question; the first right answer is the one that scores.
        """
        if not grade.valid or self.closed:
            return False
        self.tries += 1
        self.retrying = False
        self.last_grade = grade.without_run()
        if explore and not grade.correct:
            return False
        if grade.correct:
            self.solved = True
        elif final:
            self.revealed = True
        if self.first_correct is None:
            self.first_correct = grade.correct
            self.hints_at_first = self.hints_shown
            self.first_answer = answer
            return True
        return False

    def retry(self) -> None:
        if not self.closed and self.answered:
            self.retrying = True


@dataclass
class QuizRun:
    """One pass through a quiz in a browser session (persisted as an `Attempt` if signed in)."""

    quiz_id: str  # a lesson id or REVIEW_ID
    questions: list[QuestionKey]
    seed: int
    attempt_id: int | None = None
    index: int = 0
    states: dict[str, QuestionState] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "review" if self.quiz_id == REVIEW_ID else "lesson"

    def state(self, key: QuestionKey) -> QuestionState:
        return self.states.setdefault(f"{key[0]}/{key[1]}", QuestionState())

    @property
    def answered(self) -> int:
        return sum(1 for k in self.questions if self.state(k).answered)

    @property
    def finished(self) -> bool:
        return self.answered == len(self.questions)

    @property
    def score(self) -> float:
        """Mean credit over all questions (unanswered ones count 0)."""
        return sum(self.state(k).credit for k in self.questions) / len(self.questions)

    def go(self, index: int) -> None:
        self.index = min(max(0, index), len(self.questions) - 1)

    @classmethod
    def resume(cls, attempt: Attempt, answers: Iterable[Answer]) -> QuizRun:
        """Continue an unfinished saved attempt: answered questions keep their credit."""
        quiz_id = attempt.lesson_id if attempt.kind == "lesson" else REVIEW_ID
        run = cls(quiz_id or REVIEW_ID, list(attempt.questions), attempt.seed, attempt.id)
        for a in answers:
            state = run.state((a.lesson_id, a.question_id))
            state.first_correct, state.hints_at_first = a.correct, a.hints_used
            state.tries, state.solved, state.saved = 1, a.correct, True
            state.revealed = not a.correct  # no second chances across sessions: show the answer
        unanswered = [i for i, k in enumerate(run.questions) if not run.state(k).answered]
        run.index = unanswered[0] if unanswered else 0
        return run


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31 - 1)


# --- the mixed review ---------------------------------------------------------------------


def started_lessons(course: Course, store: ProgressStore, learner_id: int) -> list[str]:
    """Lessons (in course order) where the learner read, answered or reviewed something."""
    touched = set(store.all_sections_read(learner_id))
    touched |= {a.lesson_id for a in store.answers(learner_id)}
    touched |= {s.lesson_id for s in store.card_states(learner_id).values()}
    return [lesson.id for lesson in course.lessons if lesson.id in touched]


def question_priority(history: Sequence[Answer]) -> dict[QuestionKey, int]:
    """0 = missed last time, 1 = right only with hints, 2 = right first time (unseen: absent)."""
    out: dict[QuestionKey, int] = {}
    for a in history:  # oldest first, so the latest answer wins
        out[(a.lesson_id, a.question_id)] = 0 if a.credit == 0 else (1 if a.credit < 1 else 2)
    return out


UNSEEN_PRIORITY = 1  # never answered ranks with "needed hints": before questions already known


def review_questions(course: Course, lesson_ids: Sequence[str], history: Sequence[Answer],
                     size: int = REVIEW_SIZE, seed: int = 0) -> list[QuestionKey]:
    """Up to ``size`` questions from ``lesson_ids``, missed ones first, lessons interleaved.

    Each lesson's questions are ranked (missed, then hinted or unseen, then known; random
    within a rank) and the lessons take turns, so consecutive questions come from different
    lessons while more than one lesson has questions left.
    """
    rng = random.Random(seed)
    priority = question_priority(history)
    queues: list[list[QuestionKey]] = []
    for lesson_id in lesson_ids:
        keys = lesson_questions(course, lesson_id)
        rng.shuffle(keys)
        keys.sort(key=lambda k: priority.get(k, UNSEEN_PRIORITY))
        if keys:
            queues.append(keys)
    rng.shuffle(queues)  # which lesson opens the review varies
    chosen: list[QuestionKey] = []
    while len(chosen) < size and any(queues):
        for queue in queues:
            if queue and len(chosen) < size:
                chosen.append(queue.pop(0))
    return chosen


# --- mastery and the progress overview ------------------------------------------------------


@dataclass(frozen=True)
class Mastery:
    best_score: float | None  # best finished lesson-quiz attempt, 0..1
    attempts: int  # finished lesson-quiz attempts
    mastered_at: datetime | None
    confirmed_at: datetime | None

    @property
    def mastered(self) -> bool:
        return self.mastered_at is not None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def label(self) -> str:
        if self.confirmed:
            return "mastered, confirmed by review"
        if self.mastered:
            return "mastered, confirm it in a mixed review"
        if self.attempts:
            return f"not yet ({MASTERY_THRESHOLD:.0%} needed)"
        return "not attempted"


def mastery(lesson_id: str, attempts: Sequence[Attempt], answers: Sequence[Answer]) -> Mastery:
    """Mastery of one lesson from all of a learner's attempts and answers."""
    own = sorted((a for a in attempts if a.kind == "lesson" and a.lesson_id == lesson_id
                  and a.finished_at is not None), key=lambda a: a.finished_at)
    best = max((a.score for a in own), default=None)
    mastered_at = next((a.finished_at for a in own if a.score >= MASTERY_THRESHOLD - 1e-9), None)
    confirmed_at = None
    if mastered_at is not None:
        reviews = sorted((a for a in attempts if a.kind == "review" and a.finished_at is not None
                          and a.finished_at > mastered_at), key=lambda a: a.finished_at)
        for review in reviews:
            credits = [x.credit for x in answers
                       if x.attempt_id == review.id and x.lesson_id == lesson_id]
            if credits and sum(credits) / len(credits) >= MASTERY_THRESHOLD - 1e-9:
                confirmed_at = review.finished_at
                break
    return Mastery(best, len(own), mastered_at, confirmed_at)


@dataclass(frozen=True)
class LessonProgress:
    lesson_id: str
    order: int
    title: str
    sections_read: tuple[str, ...]  # known section ids, in the lesson page's order
    sections_total: int
    mastery: Mastery
    cards_total: int
    cards_started: int
    cards_due_today: int


def course_progress(course: Course, store: ProgressStore, learner_id: int,
                    now: datetime) -> list[LessonProgress]:
    """One row per lesson: reading, quiz mastery and flashcards, as the progress page shows."""
    sections = store.all_sections_read(learner_id)
    attempts = store.attempts(learner_id)
    answers = store.answers(learner_id)
    cards = store.card_states(learner_id)
    order = [sid for sid, _ in LESSON_SECTIONS]
    rows = []
    for lesson in course.lessons:
        read = sections.get(lesson.id, set())
        own_cards = [cards[c.id] for c in lesson.flashcards if c.id in cards]
        rows.append(LessonProgress(
            lesson.id, lesson.order, lesson.title,
            tuple(s for s in order if s in read),
            len(order), mastery(lesson.id, attempts, answers), len(lesson.flashcards),
            len(own_cards), due_today(own_cards, now)))
    return rows
