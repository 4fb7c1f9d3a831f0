"""The progress store: learners and their secrets, sections read, quiz attempts, flashcards.

Where the data lives
    The environment variable ``LRVIZ_DB_URL`` chooses the database. It takes a SQLAlchemy URL
    (``sqlite:////abs/path/progress.sqlite3``, ``postgresql+psycopg://user@host/lrviz``) or a
    plain file path (treated as a SQLite file). Unset, progress goes to the SQLite file
    ``$XDG_DATA_HOME/lrviz/progress.sqlite3`` (``~/.local/share/lrviz/progress.sqlite3``).

Why nothing gets lost
    * every write is one transaction (``BEGIN IMMEDIATE`` on SQLite, so concurrent writers queue
      behind SQLite's lock instead of failing half-way), retried while the lock stays busy for
      a bounded time (see `store_core`);
    * SQLite runs in WAL mode with ``synchronous=FULL``: a committed transaction survives the
      process being killed, an uncommitted one simply disappears;
    * the schema is versioned (table ``schema_version``). A database written by a newer lrviz,
      a file that is not an lrviz database, or a damaged file raises `StoreError` with a message
      naming the file, and the store never writes to it, so the learner's data stays intact.

Who may see what
    A learner is a display name plus secrets (`store_auth`): a recovery code issued when the
    name is first used, and optionally a passphrase. `create_learner`, `sign_in` and
    `claim_learner` are how the app signs someone in; the progress methods take the learner id
    that sign-in returned. `learner` (get-or-create by name, no secret) is for scripts and tests
    that already own the database file.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from lrviz.learning.store_auth import (
    AttemptThrottle,
    TooManyAttemptsError,
    check_new_passphrase,
    hash_secret,
    new_recovery_code,
    normalize_passphrase,
    normalize_recovery_code,
    verify_secret,
)
from lrviz.learning.store_core import (
    ENV_DB_URL,
    StoreBusyError,
    StoreCore,
    StoreError,
    StoreReadOnlyError,
    _now,
    busy_handler,
    default_db_path,
    resolve_url,
    set_busy_handler,
    set_default_busy_handler,
)
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
    learner_secrets,
    learner_settings,
    learners,
    metadata,
    quiz_answers,
    quiz_attempts,
    review_logs,
    sections_read,
)

__all__ = [
    "ENV_DB_URL", "SCHEMA_VERSION", "Answer", "Attempt", "CardState", "Learner", "NameStatus",
    "ProgressStore", "ReviewRecord", "SignInError", "StoreBusyError", "StoreError",
    "StoreReadOnlyError", "TooManyAttemptsError", "busy_handler", "default_db_path",
    "get_store", "normalize_name", "resolve_url", "set_busy_handler",
    "set_default_busy_handler",
]


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


class SignInError(ValueError):
    """Signing in failed for a reason the learner can act on (the message says which)."""


NAME_TAKEN = "That name is taken — enter its passphrase or recovery code, or choose another name."
WRONG_SECRET = ("That passphrase or recovery code does not match this name. Check it, or "
                "choose another name.")


@dataclass(frozen=True)
class NameStatus:
    """What signing in under a name involves: ``new``, ``protected`` or ``unprotected``.

    ``unprotected`` is a learner saved before passphrases existed (schema version 1): the next
    sign-in claims it by setting its secrets.
    """

    state: str
    learner: Learner | None


class ProgressStore(StoreCore):
    """All saved progress, behind one SQLAlchemy engine (thread-safe; one per database URL)."""

    def __init__(self, url: str | None = None) -> None:
        super().__init__(url)
        self.throttle = AttemptThrottle()

    # --- learners -----------------------------------------------------------------------

    def learner(self, name: str) -> Learner:
        """The learner with this display name (case-insensitive), created on first use.

        No secret is involved: for scripts and tests. The app signs in with `sign_in`.
        """
        found = self.find_learner(name)  # read-only: most calls stop here
        if found is not None:
            return found
        display = normalize_name(name)
        try:
            return self._write(lambda conn: self._insert_learner(conn, display))
        except IntegrityError:  # another process created it first
            found = self.find_learner(display)
            if found is None:
                raise
            return found

    @staticmethod
    def _insert_learner(conn: Connection, display: str) -> Learner:
        new_id = conn.execute(learners.insert().values(
            name=display, name_key=display.casefold(),
            created_at=_now())).inserted_primary_key[0]
        return Learner(int(new_id), display)

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

    # --- signing in ---------------------------------------------------------------------

    def _secrets(self, conn: Connection, learner_id: int) -> tuple[str | None, str | None]:
        if self.schema_found < 2:  # a read-only version-1 file: no secrets table yet
            return None, None
        row = conn.execute(select(learner_secrets.c.passphrase_hash,
                                  learner_secrets.c.recovery_hash)
                           .where(learner_secrets.c.learner_id == learner_id)).first()
        return (None, None) if row is None else (row.passphrase_hash, row.recovery_hash)

    def name_status(self, name: str) -> NameStatus:
        """Whether ``name`` is free, protected by secrets, or a learner from before them.

        Read-only. Raises ValueError for an unusable name.
        """
        key = normalize_name(name).casefold()
        with self._reading() as conn:
            row = conn.execute(select(learners.c.id, learners.c.name)
                               .where(learners.c.name_key == key)).first()
            if row is None:
                return NameStatus("new", None)
            secrets_ = self._secrets(conn, int(row.id))
        who = Learner(int(row.id), row.name)
        return NameStatus("protected" if any(secrets_) else "unprotected", who)

    @staticmethod
    def _put_secrets(conn: Connection, learner_id: int, passphrase_hash: str | None,
                     recovery_hash: str | None) -> None:
        values: dict[str, Any] = {"updated_at": _now()}
        if passphrase_hash is not None:
            values["passphrase_hash"] = passphrase_hash
        if recovery_hash is not None:
            values["recovery_hash"] = recovery_hash
        where = learner_secrets.c.learner_id == learner_id
        if conn.execute(update(learner_secrets).where(where).values(**values)).rowcount == 0:
            conn.execute(learner_secrets.insert().values(learner_id=learner_id, **values))

    def create_learner(self, name: str, passphrase: str | None = None) -> tuple[Learner, str]:
        """A new learner with a fresh recovery code (and ``passphrase`` if given).

        Returns the learner and the recovery code, which is never stored in clear and so can
        be shown only now. Raises `SignInError` when the name is taken (names are never
        merged) and ValueError for an unusable name or passphrase.
        """
        display = normalize_name(name)
        phrase_hash = (hash_secret(check_new_passphrase(passphrase, display))
                       if passphrase else None)
        code = new_recovery_code()
        code_hash = hash_secret(normalize_recovery_code(code))

        def work(conn: Connection) -> Learner:
            who = self._insert_learner(conn, display)
            self._put_secrets(conn, who.id, phrase_hash, code_hash)
            return who

        try:
            return self._write(work), code
        except IntegrityError as exc:
            raise SignInError(NAME_TAKEN) from exc

    def claim_learner(self, name: str, passphrase: str | None = None) -> tuple[Learner, str]:
        """Protect a learner saved before passphrases existed; returns it and a recovery code.

        Only works while the learner has no secret (checked inside the write transaction, so
        two sessions cannot both claim it); otherwise raises `SignInError`.
        """
        display = normalize_name(name)
        phrase_hash = (hash_secret(check_new_passphrase(passphrase, display))
                       if passphrase else None)
        code = new_recovery_code()
        code_hash = hash_secret(normalize_recovery_code(code))

        def work(conn: Connection) -> Learner | None:
            row = conn.execute(select(learners.c.id, learners.c.name)
                               .where(learners.c.name_key == display.casefold())).first()
            if row is None or any(self._secrets(conn, int(row.id))):
                return None
            self._put_secrets(conn, int(row.id), phrase_hash, code_hash)
            return Learner(int(row.id), row.name)

        who = self._write(work)
        if who is None:
            raise SignInError(NAME_TAKEN)
        return who, code

    def _matches(self, learner_id: int, secret: str) -> bool:
        """Whether ``secret`` is the learner's passphrase or recovery code (read-only)."""
        with self._reading() as conn:
            phrase_hash, code_hash = self._secrets(conn, learner_id)
        phrase = normalize_passphrase(secret)
        if phrase and verify_secret(phrase, phrase_hash):
            return True
        code = normalize_recovery_code(secret)
        return code is not None and verify_secret(code, code_hash)

    def check_secret(self, learner_id: int, secret: str) -> bool:
        """`_matches`, counted by the guessing throttle (raises `TooManyAttemptsError`)."""
        self.throttle.check(learner_id)
        if self._matches(learner_id, secret):
            self.throttle.succeeded(learner_id)
            return True
        self.throttle.failed(learner_id)
        return False

    def sign_in(self, name: str, secret: str) -> Learner:
        """The protected learner ``name`` if ``secret`` is its passphrase or recovery code.

        Read-only. Raises `SignInError` (unknown name, no secret set yet, wrong secret) or
        `TooManyAttemptsError` after repeated wrong secrets.
        """
        status = self.name_status(name)
        if status.learner is None:
            raise SignInError("No learner has that name yet.")
        if status.state == "unprotected":
            raise SignInError("This name has no passphrase yet; sign in to set one.")
        if not self.check_secret(status.learner.id, secret):
            raise SignInError(WRONG_SECRET)
        return status.learner

    def set_passphrase(self, learner_id: int, current: str, new_passphrase: str) -> None:
        """Replace the passphrase after checking ``current`` (passphrase or recovery code)."""
        who = self.get_learner(learner_id)
        if who is None:
            raise SignInError("That learner no longer exists.")
        phrase = check_new_passphrase(new_passphrase, who.name)
        if not self.check_secret(learner_id, current):
            raise SignInError("The current passphrase or recovery code is not right.")
        phrase_hash = hash_secret(phrase)
        self._write(lambda conn: self._put_secrets(conn, learner_id, phrase_hash, None))

    def replace_recovery_code(self, learner_id: int, current: str) -> str:
        """A new recovery code (the old one stops working) after checking ``current``."""
        if not self.check_secret(learner_id, current):
            raise SignInError("The current passphrase or recovery code is not right.")
        code = new_recovery_code()
        code_hash = hash_secret(normalize_recovery_code(code))
        self._write(lambda conn: self._put_secrets(conn, learner_id, None, code_hash))
        return code

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

        self._write(work, keep=f"setting {key}")

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

        self._write(work, keep=f"section {section} of {lesson_id} read")

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

        self._write(work, keep=f"review of card {card_id}")

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
