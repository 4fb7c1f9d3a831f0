"""The progress store: learners, sections read, quiz attempts, flashcard states and review logs.

Where the data lives
    The environment variable ``LRVIZ_DB_URL`` chooses the database. It takes a SQLAlchemy URL
    (``sqlite:////abs/path/progress.sqlite3``, ``postgresql+psycopg://user@host/lrviz``) or a
    plain file path (treated as a SQLite file). Unset, progress goes to the SQLite file
    ``$XDG_DATA_HOME/lrviz/progress.sqlite3`` (``~/.local/share/lrviz/progress.sqlite3``).

Why nothing gets lost
    * every write is one transaction (``BEGIN IMMEDIATE`` on SQLite, so concurrent writers queue
      behind SQLite's lock instead of failing half-way), retried when the lock stays busy;
    * SQLite runs in WAL mode with ``synchronous=FULL``: a committed transaction survives the
      process being killed, an uncommitted one simply disappears;
    * the schema is versioned (table ``schema_version``). A database written by a newer lrviz,
      a file that is not an lrviz database, or a damaged file raises `StoreError` with a message
      naming the file, and the store never writes to it, so the learner's data stays intact for
      recovery.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, delete, event, func, inspect, select, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from lrviz.learning.store_schema import (
    NAME_MAX,
    PROGRESS_TABLES,
    SCHEMA_VERSION,
    Answer,
    Attempt,
    CardState,
    Learner,
    ReviewRecord,
    card_states,
    learner_settings,
    learners,
    metadata,
    quiz_answers,
    quiz_attempts,
    review_logs,
    schema_version,
    sections_read,
)

__all__ = [
    "SCHEMA_VERSION", "Answer", "Attempt", "CardState", "Learner", "ProgressStore",
    "ReviewRecord", "StoreError", "get_store", "normalize_name", "resolve_url",
]

ENV_DB_URL = "LRVIZ_DB_URL"
T = TypeVar("T")


class StoreError(RuntimeError):
    """The progress database cannot be used; the message says which file and why."""


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/lrviz/progress.sqlite3`` (``~/.local/share/...`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lrviz" / "progress.sqlite3"


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: ``url``, else ``$LRVIZ_DB_URL``, else the default SQLite file.

    A value without ``://`` is a file path and becomes a SQLite URL.
    """
    url = (url or os.environ.get(ENV_DB_URL, "")).strip()
    if not url:
        return f"sqlite:///{default_db_path()}"
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def normalize_name(name: str) -> str:
    """A display name with whitespace collapsed; raises ValueError when unusable."""
    text = " ".join(str(name).split())
    if not text:
        raise ValueError("Please enter a display name.")
    if len(text) > NAME_MAX:
        raise ValueError(f"A display name has at most {NAME_MAX} characters.")
    if any(not ch.isprintable() for ch in text):
        raise ValueError("A display name cannot contain control characters.")
    return text


def _now() -> datetime:
    return datetime.now(UTC)


_LOCKED = re.compile(r"database is locked|database table is locked|busy", re.I)


# --- the store -----------------------------------------------------------------------------


class ProgressStore:
    """All saved progress, behind one SQLAlchemy engine (thread-safe; one per database URL)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError as exc:
            raise StoreError(f"{ENV_DB_URL} is not a valid database URL ({self.url!r}): "
                             f"{exc}") from exc
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.path: Path | None = None
        self.where = parsed.render_as_string(hide_password=True)
        if self.is_sqlite and parsed.database not in (None, "", ":memory:"):
            self.path = Path(parsed.database).expanduser()
            self.where = str(self.path)
            self._check_file()
        self.engine = self._make_engine()
        try:
            self._open()
        except BaseException:
            self.engine.dispose()
            raise

    # --- connection handling -----------------------------------------------------------

    def _check_file(self) -> None:
        path = self.path
        assert path is not None
        if path.exists() and not path.is_file():
            raise StoreError(f"The progress database {path} is not a file. Point {ENV_DB_URL} "
                             f"at a database file.")
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise StoreError(f"The progress database {path} cannot be read and written by this "
                             f"user; fix its permissions. Nothing was changed.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the folder for the progress database {path}: "
                             f"{exc}") from exc

    def _make_engine(self) -> Engine:
        if not self.is_sqlite:
            try:
                return create_engine(self.url, pool_pre_ping=True)
            except Exception as exc:  # missing driver, bad options: say so plainly
                raise StoreError(f"Cannot use the database {self.where}: {exc}") from exc
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        if self.path is None:  # in-memory: one shared connection or every call sees a new DB
            kwargs["poolclass"] = StaticPool
        engine = create_engine(self.url, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:
            # Let SQLAlchemy (not the sqlite3 module) decide where transactions start.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout = 30000")
            cur.execute("PRAGMA foreign_keys = ON")
            if self.path is not None:
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock up front: a writer waits its turn instead of
            # failing when it upgrades a read snapshot that another writer made stale.
            write = conn.get_execution_options().get("lrviz_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _fail(self, exc: Exception) -> StoreError:
        text = str(getattr(exc, "orig", exc))
        if re.search(r"not a database|malformed|corrupt|disk image", text, re.I):
            return StoreError(
                f"The progress database {self.where} is damaged or is not an lrviz database "
                f"({text}). It has not been changed: move it aside (or restore a backup), or "
                f"point {ENV_DB_URL} at another file, then reload.")
        if re.search(r"readonly|read-only|permission", text, re.I):
            return StoreError(f"The progress database {self.where} is read-only ({text}); "
                              f"your progress cannot be saved until that is fixed.")
        return StoreError(f"The progress database {self.where} cannot be used: {text}")

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except DBAPIError as exc:
            raise self._fail(exc) from exc

    def _write(self, work: Callable[[Connection], T], attempts: int = 6) -> T:
        """Run ``work`` in one write transaction; retry it while the database stays locked."""
        for attempt in range(attempts):
            try:
                with self.engine.connect() as conn:
                    conn.execution_options(lrviz_write=True)
                    with conn.begin():
                        return work(conn)
            except OperationalError as exc:
                if _LOCKED.search(str(exc.orig)) and attempt + 1 < attempts:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise self._fail(exc) from exc
            except IntegrityError:
                raise
            except DBAPIError as exc:
                raise self._fail(exc) from exc
        raise AssertionError("unreachable")

    def _open(self) -> None:
        """Check the file, then create or upgrade the schema (refusing newer versions)."""
        if self.path is not None:
            with self._reading() as conn:
                result = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
            if result != ["ok"]:
                raise StoreError(
                    f"The progress database {self.where} is damaged ({'; '.join(result[:3])}). "
                    f"It has not been changed: move it aside (or restore a backup), or point "
                    f"{ENV_DB_URL} at another file, then reload.")
        self._write(self._ensure_schema)

    def _ensure_schema(self, conn: Connection) -> None:
        existing = set(inspect(conn).get_table_names())
        if "schema_version" not in existing:
            if existing - {t.name for t in metadata.sorted_tables}:
                raise StoreError(
                    f"{self.where} already holds tables that are not lrviz progress "
                    f"({', '.join(sorted(existing)[:5])}); refusing to touch it. Point "
                    f"{ENV_DB_URL} at a new file.")
            metadata.create_all(conn)
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            return
        found = conn.execute(select(func.max(schema_version.c.version))).scalar()
        if found is None:
            raise StoreError(f"The progress database {self.where} has an empty schema_version "
                             f"table; it was not created by lrviz. Nothing was changed.")
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"The progress database {self.where} uses schema version {found}, written by a "
                f"newer lrviz (this one understands up to version {SCHEMA_VERSION}). Update "
                f"lrviz to open it; nothing was changed.")
        # Versions older than SCHEMA_VERSION would be migrated here, one step at a time.
        metadata.create_all(conn)  # only adds tables that are missing

    @property
    def version(self) -> int:
        with self._reading() as conn:
            return int(conn.execute(select(func.max(schema_version.c.version))).scalar())

    def close(self) -> None:
        self.engine.dispose()

    # --- learners -----------------------------------------------------------------------

    def learner(self, name: str) -> Learner:
        """The learner with this display name (case-insensitive), created on first use."""
        display = normalize_name(name)
        key = display.casefold()

        def work(conn: Connection) -> Learner:
            row = conn.execute(select(learners.c.id, learners.c.name)
                               .where(learners.c.name_key == key)).first()
            if row is None:
                new_id = conn.execute(learners.insert().values(
                    name=display, name_key=key, created_at=_now())).inserted_primary_key[0]
                return Learner(int(new_id), display)
            return Learner(int(row.id), row.name)

        try:
            return self._write(work)
        except IntegrityError:  # another process created it first (PostgreSQL)
            found = self.find_learner(display)
            if found is None:
                raise
            return found

    def find_learner(self, name: str) -> Learner | None:
        try:
            key = normalize_name(name).casefold()
        except ValueError:
            return None
        with self._reading() as conn:
            row = conn.execute(select(learners.c.id, learners.c.name)
                               .where(learners.c.name_key == key)).first()
        return None if row is None else Learner(int(row.id), row.name)

    def get_learner(self, learner_id: int) -> Learner | None:
        with self._reading() as conn:
            row = conn.execute(select(learners.c.id, learners.c.name)
                               .where(learners.c.id == learner_id)).first()
        return None if row is None else Learner(int(row.id), row.name)

    def get_setting(self, learner_id: int, key: str, default: str | None = None) -> str | None:
        with self._reading() as conn:
            value = conn.execute(select(learner_settings.c.value).where(
                learner_settings.c.learner_id == learner_id,
                learner_settings.c.key == key)).scalar()
        return default if value is None else value

    def set_setting(self, learner_id: int, key: str, value: str) -> None:
        def work(conn: Connection) -> None:
            where = ((learner_settings.c.learner_id == learner_id)
                     & (learner_settings.c.key == key))
            if conn.execute(update(learner_settings).where(where)
                            .values(value=value)).rowcount == 0:
                conn.execute(learner_settings.insert().values(
                    learner_id=learner_id, key=key, value=value))

        self._write(work)

    # --- sections -----------------------------------------------------------------------

    def mark_section_read(self, learner_id: int, lesson_id: str, section: str) -> None:
        """Record that a section was read (idempotent: the first time is kept)."""
        def work(conn: Connection) -> None:
            seen = conn.execute(select(sections_read.c.section).where(
                sections_read.c.learner_id == learner_id,
                sections_read.c.lesson_id == lesson_id,
                sections_read.c.section == section)).first()
            if seen is None:
                conn.execute(sections_read.insert().values(
                    learner_id=learner_id, lesson_id=lesson_id, section=section,
                    read_at=_now()))

        self._write(work)

    def sections_read(self, learner_id: int, lesson_id: str) -> set[str]:
        with self._reading() as conn:
            rows = conn.execute(select(sections_read.c.section).where(
                sections_read.c.learner_id == learner_id,
                sections_read.c.lesson_id == lesson_id)).scalars()
            return set(rows)

    def all_sections_read(self, learner_id: int) -> dict[str, set[str]]:
        """Sections read per lesson id."""
        out: dict[str, set[str]] = {}
        with self._reading() as conn:
            for row in conn.execute(select(sections_read.c.lesson_id, sections_read.c.section)
                                    .where(sections_read.c.learner_id == learner_id)):
                out.setdefault(row.lesson_id, set()).add(row.section)
        return out

    # --- quizzes ------------------------------------------------------------------------

    def start_attempt(self, learner_id: int, kind: str, lesson_id: str | None,
                      questions: list[tuple[str, str]], seed: int) -> Attempt:
        """Open a quiz attempt over ``questions`` ((lesson_id, question_id) in order)."""
        if kind not in ("lesson", "review"):
            raise ValueError(f"unknown attempt kind {kind!r}")
        if not questions:
            raise ValueError("an attempt needs at least one question")
        started = _now()

        def work(conn: Connection) -> int:
            return int(conn.execute(quiz_attempts.insert().values(
                learner_id=learner_id, kind=kind, lesson_id=lesson_id,
                questions=json.dumps([list(q) for q in questions]), seed=int(seed),
                started_at=started)).inserted_primary_key[0])

        new_id = self._write(work)
        return Attempt(new_id, learner_id, kind, lesson_id,
                       tuple((a, b) for a, b in questions), int(seed), started, None, None)

    def record_answer(self, attempt_id: int, lesson_id: str, question_id: str, *,
                      correct: bool, credit: float, hints_used: int, answer: Any) -> Attempt:
        """Save the first answer to a question of an attempt (later ones are ignored).

        When this answer completes the attempt, the attempt is finished and scored in the same
        transaction. Returns the attempt as it is now.
        """
        credit = min(1.0, max(0.0, float(credit)))

        def work(conn: Connection) -> Attempt:
            attempt = self._attempt_row(conn, attempt_id)
            if attempt is None:
                raise ValueError(f"no quiz attempt {attempt_id}")
            if (lesson_id, question_id) not in attempt.questions:
                raise ValueError(f"question {lesson_id}/{question_id} is not in attempt "
                                 f"{attempt_id}")
            done = conn.execute(select(quiz_answers.c.id).where(
                quiz_answers.c.attempt_id == attempt_id,
                quiz_answers.c.lesson_id == lesson_id,
                quiz_answers.c.question_id == question_id)).first()
            if done is None and attempt.finished_at is None:
                conn.execute(quiz_answers.insert().values(
                    attempt_id=attempt_id, learner_id=attempt.learner_id, lesson_id=lesson_id,
                    question_id=question_id, correct=bool(correct), credit=credit,
                    hints_used=int(hints_used), answer=json.dumps(answer, default=str),
                    answered_at=_now()))
                credits = conn.execute(select(quiz_answers.c.credit).where(
                    quiz_answers.c.attempt_id == attempt_id)).scalars().all()
                if len(credits) >= len(attempt.questions):
                    conn.execute(update(quiz_attempts).where(quiz_attempts.c.id == attempt_id)
                                 .values(finished_at=_now(),
                                         score=sum(credits) / len(attempt.questions)))
            return self._attempt_row(conn, attempt_id)

        return self._write(work)

    @staticmethod
    def _to_attempt(row) -> Attempt:
        return Attempt(int(row.id), int(row.learner_id), row.kind, row.lesson_id,
                       tuple((a, b) for a, b in json.loads(row.questions)), int(row.seed),
                       row.started_at, row.finished_at, row.score)

    def _attempt_row(self, conn: Connection, attempt_id: int) -> Attempt | None:
        row = conn.execute(select(quiz_attempts).where(quiz_attempts.c.id == attempt_id)).first()
        return None if row is None else self._to_attempt(row)

    def get_attempt(self, attempt_id: int) -> Attempt | None:
        with self._reading() as conn:
            return self._attempt_row(conn, attempt_id)

    def attempts(self, learner_id: int, *, kind: str | None = None,
                 lesson_id: str | None = None) -> list[Attempt]:
        """Attempts, oldest first, optionally of one kind and/or one lesson."""
        query = select(quiz_attempts).where(quiz_attempts.c.learner_id == learner_id)
        if kind is not None:
            query = query.where(quiz_attempts.c.kind == kind)
        if lesson_id is not None:
            query = query.where(quiz_attempts.c.lesson_id == lesson_id)
        with self._reading() as conn:
            rows = conn.execute(query.order_by(quiz_attempts.c.id)).all()
        return [self._to_attempt(r) for r in rows]

    def answers(self, learner_id: int, attempt_id: int | None = None) -> list[Answer]:
        """First answers, oldest first (all attempts, or one)."""
        query = select(quiz_answers).where(quiz_answers.c.learner_id == learner_id)
        if attempt_id is not None:
            query = query.where(quiz_answers.c.attempt_id == attempt_id)
        with self._reading() as conn:
            rows = conn.execute(query.order_by(quiz_answers.c.id)).all()
        return [Answer(int(r.attempt_id), r.lesson_id, r.question_id, bool(r.correct),
                       float(r.credit), int(r.hints_used), json.loads(r.answer), r.answered_at)
                for r in rows]

    # --- flashcards ---------------------------------------------------------------------

    def card_states(self, learner_id: int) -> dict[str, CardState]:
        with self._reading() as conn:
            rows = conn.execute(select(card_states)
                                .where(card_states.c.learner_id == learner_id)).all()
        return {r.card_id: CardState(r.card_id, r.lesson_id, r.card, r.due, r.introduced_at,
                                     r.last_review) for r in rows}

    def save_review(self, learner_id: int, card_id: str, lesson_id: str, *, card_json: str,
                    due: datetime, rating: int, reviewed_at: datetime, log_json: str) -> None:
        """Store a card's new state and its review log together (one transaction)."""
        def work(conn: Connection) -> None:
            where = (card_states.c.learner_id == learner_id) & (card_states.c.card_id == card_id)
            changed = conn.execute(update(card_states).where(where).values(
                card=card_json, due=due, last_review=reviewed_at, lesson_id=lesson_id)).rowcount
            if changed == 0:
                conn.execute(card_states.insert().values(
                    learner_id=learner_id, card_id=card_id, lesson_id=lesson_id, card=card_json,
                    due=due, introduced_at=reviewed_at, last_review=reviewed_at))
            conn.execute(review_logs.insert().values(
                learner_id=learner_id, card_id=card_id, lesson_id=lesson_id, rating=int(rating),
                reviewed_at=reviewed_at, due_after=due, log=log_json))

        self._write(work)

    def reviews(self, learner_id: int) -> list[ReviewRecord]:
        """Every review, oldest first."""
        with self._reading() as conn:
            rows = conn.execute(select(review_logs).where(review_logs.c.learner_id == learner_id)
                                .order_by(review_logs.c.id)).all()
        return [ReviewRecord(r.card_id, r.lesson_id, int(r.rating), r.reviewed_at, r.due_after)
                for r in rows]

    # --- whole-learner operations -------------------------------------------------------

    def export_learner(self, learner_id: int) -> dict[str, Any]:
        """Everything saved about a learner as JSON-ready data (one consistent snapshot)."""
        def iso(value: Any) -> Any:
            return value.isoformat() if isinstance(value, datetime) else value

        with self._reading() as conn:
            who = conn.execute(select(learners).where(learners.c.id == learner_id)).first()
            if who is None:
                raise ValueError(f"no learner {learner_id}")
            data: dict[str, Any] = {
                "format": "lrviz-progress", "schema_version": SCHEMA_VERSION,
                "exported_at": _now().isoformat(),
                "learner": {"name": who.name, "created_at": iso(who.created_at)},
            }
            for table in reversed(PROGRESS_TABLES):
                rows = conn.execute(select(table).where(table.c.learner_id == learner_id)
                                    .order_by(*table.primary_key.columns)).mappings().all()
                out = []
                for row in rows:
                    item = {k: iso(v) for k, v in row.items() if k != "learner_id"}
                    for key in ("questions", "answer", "card", "log"):
                        if key in item and isinstance(item[key], str):
                            item[key] = json.loads(item[key])
                    out.append(item)
                data[table.name] = out
        return data

    def reset_learner(self, learner_id: int) -> int:
        """Delete all of a learner's progress (the name stays); returns the rows removed."""
        def work(conn: Connection) -> int:
            return sum(conn.execute(delete(t).where(t.c.learner_id == learner_id)).rowcount
                       for t in PROGRESS_TABLES)

        return self._write(work)

    def count_rows(self, table_name: str) -> int:
        """Rows in one of the store's tables (for diagnostics and tests)."""
        table = metadata.tables[table_name]
        with self._reading() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar())


# --- the process-wide default --------------------------------------------------------------

_STORES: dict[str, ProgressStore] = {}
_STORES_LOCK = threading.Lock()
_MAX_STORES = 8


def get_store(url: str | None = None) -> ProgressStore:
    """The shared store for ``url`` (default: ``$LRVIZ_DB_URL``), opened once per URL.

    Raises `StoreError` (not cached, so fixing the file and reloading works).
    """
    resolved = resolve_url(url)
    with _STORES_LOCK:
        store = _STORES.get(resolved)
        if store is None:
            store = ProgressStore(resolved)
            if len(_STORES) >= _MAX_STORES:  # bounded: drop the oldest (tests open many)
                _STORES.pop(next(iter(_STORES))).close()
            _STORES[resolved] = store
        return store
