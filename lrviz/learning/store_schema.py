"""The progress database's tables and the records the store returns (no logic here).

The schema is versioned: bump `SCHEMA_VERSION` with every change and add a migration step in
`ProgressStore._ensure_schema`; a database with a newer version is refused, never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

SCHEMA_VERSION = 2  # 2: learner_secrets (passphrases and recovery codes)
# Tables of lrviz's class polls (lrviz.learning.classroom) start with this; on PostgreSQL they
# share the progress database, so the progress store must not call them foreign.
COMPANION_PREFIX = "class_"
NAME_MAX = 40


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store datetimes must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True))

learners = Table(
    "learners", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(NAME_MAX * 2), nullable=False),
    Column("name_key", String(NAME_MAX * 2), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)


def _learner_fk() -> Column:
    return Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"),
                  nullable=False)


# A learner's secrets, as salted scrypt hashes (see store_auth). No row, or both hashes NULL:
# a learner from before version 2, whose name is claimed by the next sign-in.
learner_secrets = Table(
    "learner_secrets", metadata,
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"),
           primary_key=True),
    Column("passphrase_hash", Text),
    Column("recovery_hash", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

learner_settings = Table(
    "learner_settings", metadata,
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"),
           primary_key=True),
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

sections_read = Table(
    "sections_read", metadata,
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"),
           primary_key=True),
    Column("lesson_id", String(80), primary_key=True),
    Column("section", String(120), primary_key=True),
    Column("read_at", UTCDateTime, nullable=False),
)

quiz_attempts = Table(
    "quiz_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _learner_fk(),
    Column("kind", String(10), nullable=False),  # "lesson" or "review"
    Column("lesson_id", String(80)),  # None for a mixed review
    Column("questions", Text, nullable=False),  # JSON list of [lesson_id, question_id]
    Column("seed", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("score", Float),  # mean credit over the questions, 0..1, set when finished
    Index("ix_attempts_learner", "learner_id", "lesson_id"),
)

quiz_answers = Table(
    "quiz_answers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attempt_id", Integer, ForeignKey("quiz_attempts.id", ondelete="CASCADE"),
           nullable=False),
    _learner_fk(),
    Column("lesson_id", String(80), nullable=False),
    Column("question_id", String(80), nullable=False),
    Column("correct", Boolean, nullable=False),  # the first submitted answer was right
    Column("credit", Float, nullable=False),
    Column("hints_used", Integer, nullable=False),
    Column("answer", Text, nullable=False),  # JSON of what the learner submitted first
    Column("answered_at", UTCDateTime, nullable=False),
    UniqueConstraint("attempt_id", "lesson_id", "question_id", name="uq_answer_once"),
    Index("ix_answers_learner", "learner_id"),
)

card_states = Table(
    "card_states", metadata,
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"),
           primary_key=True),
    Column("card_id", String(80), primary_key=True),
    Column("lesson_id", String(80), nullable=False),
    Column("card", Text, nullable=False),  # fsrs Card.to_json()
    Column("due", UTCDateTime, nullable=False),
    Column("introduced_at", UTCDateTime, nullable=False),  # first review: counts as "new" that day
    Column("last_review", UTCDateTime, nullable=False),
)

review_logs = Table(
    "review_logs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _learner_fk(),
    Column("card_id", String(80), nullable=False),
    Column("lesson_id", String(80), nullable=False),
    Column("rating", Integer, nullable=False),  # 1 Again, 2 Hard, 3 Good, 4 Easy
    Column("reviewed_at", UTCDateTime, nullable=False),
    Column("due_after", UTCDateTime, nullable=False),
    Column("log", Text, nullable=False),  # fsrs ReviewLog.to_json()
    Index("ix_reviews_learner", "learner_id", "reviewed_at"),
)

PROGRESS_TABLES = (review_logs, card_states, quiz_answers, quiz_attempts, sections_read,
                   learner_settings)


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Learner:
    id: int
    name: str


@dataclass(frozen=True)
class Attempt:
    id: int
    learner_id: int
    kind: str
    lesson_id: str | None
    questions: tuple[tuple[str, str], ...]
    seed: int
    started_at: datetime
    finished_at: datetime | None
    score: float | None


@dataclass(frozen=True)
class Answer:
    attempt_id: int
    lesson_id: str
    question_id: str
    correct: bool
    credit: float
    hints_used: int
    answer: Any
    answered_at: datetime


@dataclass(frozen=True)
class CardState:
    card_id: str
    lesson_id: str
    card_json: str
    due: datetime
    introduced_at: datetime
    last_review: datetime


@dataclass(frozen=True)
class ReviewRecord:
    card_id: str
    lesson_id: str
    rating: int
    reviewed_at: datetime
    due_after: datetime
