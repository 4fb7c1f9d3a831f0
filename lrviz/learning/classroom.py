"""The live class poll: a teacher opens a class, students join with its code, the teacher
launches a predict-then-run question or a preset, students predict, the projector shows the
distribution and then the simulated run.

Storage is one small SQLAlchemy schema (tables ``class_*``) in its own database, so several app
replicas behind a load balancer share one class (see README, "Deploy for a school"):

* ``LRVIZ_CLASS_DB_URL`` when set; otherwise, when the progress store is a SQLite file, the file
  ``classroom.sqlite3`` beside it; otherwise (PostgreSQL) the progress database itself.

Secrets: the teacher passcode is stored only as a salted scrypt hash (`store_auth.hash_secret`,
the same scheme as learners' passphrases). A student's rejoin token is 128 random bits, so a
plain SHA-256 of it suffices (a slow KDF protects guessable secrets, and the token is checked on
every two-second refresh of every student's phone). A student is known
by a display name that is unique *within one class*; the token kept in the student's browser
session is what lets them change their answer, so typing someone else's name gives "that name
is taken", never their answers. Nothing here imports streamlit.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from lrviz.learning.sql_engine import WRITE_OPTION, postgres_engine, sqlite_engine
from lrviz.learning.store import normalize_name, resolve_url
from lrviz.learning.store_auth import hash_secret, verify_secret
from lrviz.learning.store_schema import COMPANION_PREFIX, NAME_MAX

__all__ = [
    "CODE_ALPHABET", "ClassError", "ClassRoom", "ClassroomStore", "Member", "Poll",
    "classroom_url", "get_classroom",
]

ENV_CLASS_DB_URL = "LRVIZ_CLASS_DB_URL"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector
CODE_LENGTH = 6
PASSCODE_MIN = 4
T = TypeVar("T")

metadata = MetaData()
class_rooms = Table(
    "class_rooms", metadata,
    Column("code", String(CODE_LENGTH), primary_key=True),
    Column("title", String(120), nullable=False),
    Column("passcode_hash", String(200), nullable=False),  # store_auth.hash_secret format
    Column("active_poll", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
class_polls = Table(
    "class_polls", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(CODE_LENGTH), ForeignKey("class_rooms.code", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # "question" | "preset"
    Column("ref", String(200), nullable=False),  # "lesson/question" or the preset id
    Column("prompt", Text, nullable=False),
    Column("choices", Text, nullable=False),  # regime values, comma-separated, in order
    Column("answer", String(32), nullable=False),  # the regime the engine produced
    Column("accepted", Text, nullable=False),  # choices graded right (grading.prediction_holds)
    Column("concepts", Text, nullable=False),  # course concept ids, comma-separated
    Column("state", String(16), nullable=False),  # "open" | "revealed"
    Column("opened_at", DateTime(timezone=True), nullable=False),
)
class_members = Table(
    "class_members", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(CODE_LENGTH), ForeignKey("class_rooms.code", ondelete="CASCADE"),
           nullable=False),
    Column("name_key", String(NAME_MAX), nullable=False),
    Column("name", String(NAME_MAX), nullable=False),
    Column("token_hash", String(200), nullable=False),  # sha256 hex of the random token
    Column("joined_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("code", "name_key", name="uq_class_member_name"),
)
class_answers = Table(
    "class_answers", metadata,
    Column("poll_id", Integer, ForeignKey("class_polls.id", ondelete="CASCADE"),
           primary_key=True),
    Column("member_id", Integer, ForeignKey("class_members.id", ondelete="CASCADE"),
           primary_key=True),
    Column("choice", String(32), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
)


assert all(t.startswith(COMPANION_PREFIX) for t in metadata.tables)  # see store_schema


class ClassError(ValueError):
    """A class action that cannot be done; the message says why in plain words."""


@dataclass(frozen=True)
class ClassRoom:
    code: str
    title: str
    active_poll: int | None


@dataclass(frozen=True)
class Member:
    id: int
    code: str
    name: str
    token: str  # only known right after joining; kept in the student's session


@dataclass(frozen=True)
class Poll:
    id: int
    code: str
    kind: str
    ref: str
    prompt: str
    choices: tuple[str, ...]
    answer: str
    accepted: tuple[str, ...]  # the answer, and any broader prediction that also holds
    concepts: tuple[str, ...]
    state: str

    @property
    def revealed(self) -> bool:
        return self.state == "revealed"


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def name_key(name: str) -> str:
    """How names are compared within a class: case and spacing ignored."""
    return " ".join(name.split()).casefold()


def clean_name(name: str) -> str:
    """A display name with spacing collapsed (the progress store's rules); ClassError when it
    is empty, too long or unprintable."""
    try:
        return normalize_name(name)
    except ValueError as exc:
        raise ClassError(str(exc)) from None


def clean_code(code: str) -> str:
    """A class code as typed on a phone (any case, spaces and dashes ignored)."""
    text = "".join(ch for ch in str(code).upper() if ch.isalnum())
    if len(text) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in text):
        raise ClassError(f"A class code is {CODE_LENGTH} letters and digits, like K7MX2Q; "
                         f"check the code on the projector.")
    return text


def classroom_url(url: str | None = None) -> str:
    """Where classes are kept (module docstring): explicit, beside the SQLite progress file,
    or the progress database."""
    explicit = url or os.environ.get(ENV_CLASS_DB_URL, "").strip()
    if explicit:
        return resolve_url(explicit)
    progress = make_url(resolve_url())
    if progress.get_backend_name() == "sqlite" and progress.database not in (None, "",
                                                                            ":memory:"):
        return f"sqlite:///{Path(progress.database).expanduser().parent / 'classroom.sqlite3'}"
    return progress.render_as_string(hide_password=False)


def _now() -> datetime:
    return datetime.now(UTC)


class ClassroomStore:
    """Classes, polls, members and answers behind one SQLAlchemy engine (thread-safe)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = classroom_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.engine = self._make_engine()
        self._write(lambda conn: metadata.create_all(conn))

    def _make_engine(self) -> Engine:
        if not self.is_sqlite:
            return postgres_engine(self.url, lock_ms=2000, pool_timeout_s=2.0)
        parsed = make_url(self.url)
        # A poll refresh must never hang: each lock wait is at most 2 s.
        return sqlite_engine(self.url, busy_ms=2000, wal=True,
                             in_memory=parsed.database in (None, "", ":memory:"))

    def _write(self, work: Callable[[Connection], T]) -> T:
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    return work(conn)
        except IntegrityError:
            raise
        except OperationalError as exc:
            raise ClassError("The class database is busy; try again in a moment.") from exc
        except DBAPIError as exc:
            raise ClassError(f"The class database cannot be used: {exc.orig}") from exc

    def _read(self, work: Callable[[Connection], T]) -> T:
        try:
            with self.engine.connect() as conn, conn.begin():
                return work(conn)
        except DBAPIError as exc:
            raise ClassError(f"The class database cannot be read right now: {exc.orig}") from exc

    def close(self) -> None:
        self.engine.dispose()

    # --- teacher ------------------------------------------------------------------------

    def open_class(self, title: str, passcode: str) -> ClassRoom:
        """A new class with a fresh random code, guarded by the teacher's passcode."""
        title = " ".join(str(title).split())[:120] or "Class"
        if len(passcode) < PASSCODE_MIN:
            raise ClassError(f"Choose a teacher passcode of at least {PASSCODE_MIN} characters.")
        digest = hash_secret(passcode)
        for _ in range(20):  # 31^6 ~ 8.9e8 codes: a clash is rare, so retry a few times
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                self._write(lambda conn, code=code: conn.execute(insert(class_rooms).values(
                    code=code, title=title, passcode_hash=digest,
                    created_at=_now())))
                return ClassRoom(code, title, None)
            except IntegrityError:
                continue
        raise ClassError("Could not find a free class code; try again.")

    def teacher_login(self, code: str, passcode: str) -> ClassRoom:
        """The class, when ``passcode`` is its teacher passcode; ClassError otherwise."""
        code = clean_code(code)
        row = self._read(lambda conn: conn.execute(
            select(class_rooms).where(class_rooms.c.code == code)).first())
        if row is None or not verify_secret(passcode, row.passcode_hash):
            raise ClassError("That class code and passcode do not match.")
        return ClassRoom(row.code, row.title, row.active_poll)

    def launch(self, code: str, *, kind: str, ref: str, prompt: str, choices: Sequence[str],
               answer: str, accepted: Sequence[str] = (), concepts: Sequence[str] = ()) -> Poll:
        """Open a poll and make it the class's active one (the previous one stays recorded).

        ``accepted`` lists the choices graded right (default: just ``answer``).
        """
        if kind not in ("question", "preset"):
            raise ClassError(f"unknown poll kind {kind!r}")
        accepted = tuple(accepted) or (answer,)
        if answer not in choices or not set(accepted) <= set(choices):
            raise ClassError(f"the answer {answer!r} is not among the choices")

        def work(conn: Connection) -> int:
            poll_id = conn.execute(insert(class_polls).values(
                code=code, kind=kind, ref=ref, prompt=prompt, choices=",".join(choices),
                answer=answer, accepted=",".join(accepted), concepts=",".join(concepts),
                state="open",
                opened_at=_now())).inserted_primary_key[0]
            conn.execute(update(class_rooms).where(class_rooms.c.code == code)
                         .values(active_poll=poll_id))
            return int(poll_id)

        return self.poll(self._write(work))

    def reveal(self, poll_id: int) -> Poll:
        """Close a poll for answers and show the run; students then see if they were right."""
        self._write(lambda conn: conn.execute(update(class_polls).where(
            class_polls.c.id == poll_id).values(state="revealed")))
        return self.poll(poll_id)

    def tally(self, poll_id: int) -> Counter[str]:
        """How many students chose each choice (every choice present, zero included)."""
        poll = self.poll(poll_id)
        rows = self._read(lambda conn: conn.execute(
            select(class_answers.c.choice).where(class_answers.c.poll_id == poll_id)).all())
        counts = Counter({c: 0 for c in poll.choices})
        counts.update(r.choice for r in rows)
        return counts

    def members(self, code: str) -> list[str]:
        return self._read(lambda conn: [r.name for r in conn.execute(
            select(class_members.c.name).where(class_members.c.code == code)
            .order_by(class_members.c.joined_at))])

    def polls(self, code: str) -> list[Poll]:
        rows = self._read(lambda conn: conn.execute(
            select(class_polls).where(class_polls.c.code == code)
            .order_by(class_polls.c.id)).all())
        return [_poll(r) for r in rows]

    def answer_rows(self, code: str) -> list[dict[str, object]]:
        """One row per (poll, student) answer: for the dashboard and the CSV export."""
        query = (select(class_polls.c.id, class_polls.c.ref, class_polls.c.answer,
                        class_polls.c.accepted, class_members.c.name, class_answers.c.choice,
                        class_answers.c.answered_at)
                 .join(class_answers, class_answers.c.poll_id == class_polls.c.id)
                 .join(class_members, class_members.c.id == class_answers.c.member_id)
                 .where(class_polls.c.code == code)
                 .order_by(class_polls.c.id, class_members.c.name))
        rows = self._read(lambda conn: conn.execute(query).all())
        return [dict(poll=r.id, question=r.ref, student=r.name, prediction=r.choice,
                     answer=r.answer, correct=r.choice in r.accepted.split(","),
                     answered_at=r.answered_at.isoformat(timespec="seconds"))
                for r in rows]

    # --- students -----------------------------------------------------------------------

    def join(self, code: str, name: str) -> Member:
        """Join a class under a name unique in it; the returned token proves it later."""
        code, name = clean_code(code), clean_name(name)
        if self.room(code) is None:
            raise ClassError("No class has that code; check the code on the projector.")
        token = secrets.token_urlsafe(16)
        digest = _token_digest(token)
        try:
            member_id = self._write(lambda conn: conn.execute(insert(class_members).values(
                code=code, name_key=name_key(name), name=name, token_hash=digest,
                joined_at=_now())).inserted_primary_key[0])
        except IntegrityError:
            raise ClassError("Someone in this class already uses that name; add an initial "
                             "or choose another.") from None
        return Member(int(member_id), code, name, token)

    def _member_id(self, member: Member) -> int:
        row = self._read(lambda conn: conn.execute(
            select(class_members).where(class_members.c.id == member.id)).first())
        if row is None or row.code != member.code or not hmac.compare_digest(
                _token_digest(member.token), row.token_hash):
            raise ClassError("This device is not signed in to that class; join again.")
        return row.id

    def submit(self, member: Member, poll_id: int, choice: str) -> None:
        """Record (or change) a student's prediction while the poll is open."""
        poll = self.poll(poll_id)
        if poll.code != member.code:
            raise ClassError("That poll belongs to another class.")
        if poll.revealed:
            raise ClassError("The run has been revealed: predictions are closed.")
        if choice not in poll.choices:
            raise ClassError("That prediction is not one of the choices.")
        member_id = self._member_id(member)

        def work(conn: Connection) -> None:
            done = conn.execute(update(class_answers).where(
                (class_answers.c.poll_id == poll_id) & (class_answers.c.member_id == member_id)
            ).values(choice=choice, answered_at=_now())).rowcount
            if not done:
                conn.execute(insert(class_answers).values(
                    poll_id=poll_id, member_id=member_id, choice=choice, answered_at=_now()))

        self._write(work)

    def my_answer(self, member: Member, poll_id: int) -> str | None:
        """This student's own prediction (the only answer a student can read)."""
        member_id = self._member_id(member)
        return self._read(lambda conn: conn.execute(
            select(class_answers.c.choice).where((class_answers.c.poll_id == poll_id)
                                                 & (class_answers.c.member_id == member_id))
        ).scalar())

    # --- reading ------------------------------------------------------------------------

    def room(self, code: str) -> ClassRoom | None:
        row = self._read(lambda conn: conn.execute(
            select(class_rooms).where(class_rooms.c.code == code)).first())
        return None if row is None else ClassRoom(row.code, row.title, row.active_poll)

    def poll(self, poll_id: int) -> Poll:
        row = self._read(lambda conn: conn.execute(
            select(class_polls).where(class_polls.c.id == poll_id)).first())
        if row is None:
            raise ClassError(f"There is no poll {poll_id}.")
        return _poll(row)

    def active_poll(self, code: str) -> Poll | None:
        room = self.room(code)
        return None if room is None or room.active_poll is None else self.poll(room.active_poll)


def _poll(row) -> Poll:
    return Poll(row.id, row.code, row.kind, row.ref, row.prompt,
                tuple(row.choices.split(",")), row.answer, tuple(row.accepted.split(",")),
                tuple(c for c in row.concepts.split(",") if c), row.state)


_STORES: dict[str, ClassroomStore] = {}
_STORES_LOCK = threading.Lock()


def get_classroom(url: str | None = None) -> ClassroomStore:
    """One shared store per database URL (engines are thread-safe and pool connections)."""
    resolved = classroom_url(url)
    with _STORES_LOCK:
        store = _STORES.get(resolved)
        if store is None:
            store = _STORES[resolved] = ClassroomStore(resolved)
        return store
