"""The progress database's plumbing: opening it safely, read and write transactions, busy waits.

Rules this module enforces
    * A file is judged before it is used (`store_file.inspect_sqlite_file`): a foreign, damaged or
      wrong-version SQLite file is refused before any connection could switch it to WAL or
      create ``-wal``/``-shm`` files next to it, so it stays byte-for-byte as it was.
    * Reads are read-only transactions (SQLite ``BEGIN`` + ``PRAGMA query_only``; PostgreSQL
      ``SET TRANSACTION READ ONLY``): they never take the write lock, so signing in and viewing
      progress work while another process writes. Only real writes use ``BEGIN IMMEDIATE``.
    * A busy database is waited for in short slices (SQLite ``busy_timeout`` of
      `BUSY_SLICE_S`, PostgreSQL ``lock_timeout`` likewise) and retried for at most
      `BUSY_BUDGET_S` seconds in total (and, for `BUSY_BUDGET_S` after giving up, two slices
      only, so a page doing several writes still does not hang). The first busy slice calls
      the thread's busy handler (`busy_handler`), so a page can say "busy, retrying" at once.
    * A write that still fails (busy, disk full, read-only file) and that the caller marked as
      keepable is kept in memory (`pending_count`) and written before the next write, or by
      `flush_pending`; nothing the learner did is dropped while the server runs.
    * A file this process may read but not write (permissions, read-only folder or mount) is
      opened read-only: progress can be viewed; every write raises `StoreReadOnlyError`.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from lrviz.learning.sql_engine import WRITE_OPTION, postgres_engine, sqlite_engine
from lrviz.learning.store_file import inspect_sqlite_file
from lrviz.learning.store_schema import (
    COMPANION_PREFIX,
    SCHEMA_VERSION,
    metadata,
    schema_version,
)

ENV_DB_URL = "LRVIZ_DB_URL"
BUSY_SLICE_S = 0.25  # one wait for a lock before we look up and maybe tell the learner
BUSY_BUDGET_S = 3.5  # all waits of one operation together (a page never hangs > 5 s)
MAX_PENDING = 10_000
T = TypeVar("T")

_LOCKED = re.compile(r"database is locked|database table is locked|\bbusy\b|lock timeout|"
                     r"could not obtain lock|deadlock detected|could not serialize", re.I)
_FULL = re.compile(r"database or disk is full|disk is full|no space left", re.I)
_READ_ONLY = re.compile(r"readonly|read-only|read only|permission denied|attempt to write",
                        re.I)
_DAMAGED = re.compile(r"not a database|malformed|corrupt|disk image", re.I)


class StoreError(RuntimeError):
    """The progress database cannot be used; the message says which file and why."""


class StoreBusyError(StoreError):
    """Another program held the database's lock for longer than `BUSY_BUDGET_S`."""


class StoreReadOnlyError(StoreError):
    """The database cannot take writes (permissions, read-only mount, disk full)."""


def _now() -> datetime:
    return datetime.now(UTC)


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


# --- busy notices --------------------------------------------------------------------------

_handlers = threading.local()
BusyHandler = Callable[[float], None]  # called with the seconds waited so far


_default_handler: list[BusyHandler | None] = [None]


def set_busy_handler(handler: BusyHandler | None) -> None:
    """Install the current thread's busy handler (Streamlit runs each session in a thread)."""
    _handlers.current = handler


def set_default_busy_handler(handler: BusyHandler | None) -> None:
    """The handler for threads that installed none (e.g. a widget callback's first moments)."""
    _default_handler[0] = handler


@contextmanager
def busy_handler(handler: BusyHandler) -> Iterator[None]:
    """Call ``handler(waited_s)`` whenever the database is busy inside this block."""
    previous = getattr(_handlers, "current", None)
    _handlers.current = handler
    try:
        yield
    finally:
        _handlers.current = previous


def _notify_busy(waited: float) -> None:
    handler = getattr(_handlers, "current", None) or _default_handler[0]
    if handler is not None:
        with contextlib.suppress(Exception):  # a notice must never turn a wait into a failure
            handler(waited)


# --- the core --------------------------------------------------------------------------------


class StoreCore:
    """One engine per database URL; safe opening, transactions, retries and kept writes."""

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
        self.read_only = False
        self.write_problem: str | None = None  # why the last write failed, until one succeeds
        self._pending: deque[tuple[str, Callable[[Connection], Any]]] = deque()
        self._pending_lock = threading.Lock()
        # SQLite has one writer at a time anyway; queueing this process's writers on a Python
        # lock is fairer than SQLite's busy polling (which can starve one thread for seconds).
        self._write_lock = threading.Lock()
        self._last_failure: StoreError | None = None
        self._busy_until = 0.0  # monotonic time until which waits are cut short
        create = True
        if self.is_sqlite and parsed.database not in (None, "", ":memory:"):
            self.path = Path(parsed.database).expanduser()
            self.where = str(self.path)
            create = self._judge_file()
        self.engine = self._make_engine()
        try:
            self._open(create)
        except BaseException:
            self.engine.dispose()
            raise

    # --- opening ---------------------------------------------------------------------------

    def _refuse(self, why: str) -> StoreError:
        return StoreError(
            f"The progress database {self.where} cannot be used: {why}. It has not been "
            f"changed: move it aside (or restore a backup), or point {ENV_DB_URL} at another "
            f"file, then reload.")

    def _judge_file(self) -> bool:
        """Refuse a file lrviz must not touch; return whether the schema may be created."""
        path = self.path
        assert path is not None
        verdict = inspect_sqlite_file(path)
        if verdict.problem:
            raise self._refuse(verdict.problem)
        if verdict.tables and not verdict.has_version_table:
            raise self._refuse(
                f"it already holds tables that are not lrviz progress "
                f"({', '.join(sorted(verdict.tables)[:5])})")
        if verdict.has_version_table:
            self._check_version(verdict.version)
        if not verdict.writable:
            if not verdict.exists or not verdict.tables:
                raise StoreError(
                    f"The progress database {path} does not exist yet and its folder cannot be "
                    f"written by this user; point {ENV_DB_URL} at a writable place.")
            self.read_only = True
            self.write_problem = (f"The progress database {path} is read-only for this "
                                  f"server (file or folder permissions, or a read-only disk); "
                                  f"your progress can be viewed but not saved.")
            return False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the folder for the progress database {path}: "
                             f"{exc}") from exc
        return True

    def _check_version(self, found: int | None) -> None:
        if found is None:
            raise self._refuse("its schema_version table is empty, so it was not written by "
                               "lrviz")
        if found > SCHEMA_VERSION:
            raise self._refuse(
                f"it uses schema version {found}, written by a newer lrviz (this one "
                f"understands up to version {SCHEMA_VERSION}); update lrviz to open it")
        if found < 1:
            raise self._refuse(f"its schema version {found} is not one lrviz ever wrote")

    def _make_engine(self) -> Engine:
        if not self.is_sqlite:
            try:
                # A starved pool or a held lock reports busy, not a hang.
                return postgres_engine(self.url, lock_ms=int(BUSY_SLICE_S * 1000),
                                       pool_timeout_s=BUSY_BUDGET_S)
            except Exception as exc:  # missing driver, bad options: say so plainly
                raise StoreError(f"Cannot use the database {self.where}: {exc}") from exc
        url = self.url
        if self.read_only and self.path is not None:
            # A WAL reader needs a writable -shm; with no WAL content to read, an immutable
            # connection shows everything without creating or writing any file.
            wal = Path(f"{self.path}-wal")
            mode = "mode=ro" if wal.exists() and wal.stat().st_size > 0 else "immutable=1"
            url = f"sqlite:///file:{quote(str(self.path.resolve()))}?{mode}&uri=true"
        # WAL only after _judge_file accepted the file, and never for a read-only one.
        return sqlite_engine(url, busy_ms=int(BUSY_SLICE_S * 1000),
                             wal=self.path is not None and not self.read_only,
                             in_memory=self.path is None)

    def _open(self, create: bool) -> None:
        """Check the schema read-only; create or migrate it only when needed (and allowed)."""
        found = self._schema_state()
        self.schema_found = SCHEMA_VERSION if found is None else found
        if found is not None and found == SCHEMA_VERSION:
            return
        if found is not None:
            self._check_version(found)
        if not create or self.read_only:
            if found is None:
                raise StoreError(f"The progress database {self.where} has no lrviz schema and "
                                 f"is read-only, so it cannot be set up.")
            return  # an older version, read-only: readable, and migrated once writable
        self._write(self._ensure_schema)
        self.schema_found = SCHEMA_VERSION

    def _schema_state(self) -> int | None:
        """The schema version found (None: no lrviz tables yet); refuses foreign databases."""
        with self._reading() as conn:
            existing = set(inspect(conn).get_table_names())
            if "schema_version" not in existing:
                companions = {t for t in existing if t.startswith(COMPANION_PREFIX)}
                if existing - companions - {t.name for t in metadata.sorted_tables}:
                    raise self._refuse(
                        f"it already holds tables that are not lrviz progress "
                        f"({', '.join(sorted(existing)[:5])})")
                return None
            found = conn.execute(select(func.max(schema_version.c.version))).scalar()
        self._check_version(found)
        return int(found)

    def _ensure_schema(self, conn: Connection) -> None:
        if not self.is_sqlite:  # replicas starting together: one creates, the others wait
            conn.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
        existing = set(inspect(conn).get_table_names())
        found = None
        if "schema_version" in existing:
            found = conn.execute(select(func.max(schema_version.c.version))).scalar()
            self._check_version(found)
        metadata.create_all(conn)  # only adds the tables that are missing
        # Migrations: 1 -> 2 only adds learner_secrets (create_all did it).
        if found != SCHEMA_VERSION:
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))

    @property
    def version(self) -> int:
        with self._reading() as conn:
            return int(conn.execute(select(func.max(schema_version.c.version))).scalar())

    def close(self) -> None:
        self.engine.dispose()

    # --- errors ----------------------------------------------------------------------------

    def _fail(self, exc: Exception) -> StoreError:
        text_ = str(getattr(exc, "orig", exc))
        if _DAMAGED.search(text_):
            return self._refuse(f"it is damaged or is not an lrviz database ({text_})")
        if _FULL.search(text_):
            return StoreReadOnlyError(
                f"The disk holding the progress database {self.where} is full ({text_}); "
                f"new progress cannot be saved until space is freed. What is saved can still "
                f"be viewed.")
        if _READ_ONLY.search(text_):
            return StoreReadOnlyError(f"The progress database {self.where} is read-only ({text_}); "
                                 f"your progress can be viewed but not saved until that is "
                                 f"fixed.")
        return StoreError(f"The progress database {self.where} cannot be used: {text_}")

    # --- transactions ----------------------------------------------------------------------

    def _retrying(self, attempt: Callable[[], T], start: float | None = None) -> T:
        """Run ``attempt`` until it is not blocked by a lock, until `BUSY_BUDGET_S` after
        ``start`` (default: now)."""
        start = time.monotonic() if start is None else start
        # Just gave up on a busy database: later operations (the rest of the same page) try
        # one slice only, so a page with several writes still never waits much over budget.
        budget = BUSY_SLICE_S * 2 if start < self._busy_until else BUSY_BUDGET_S
        next_notice = 0.0  # tell at once, then about once a second
        while True:
            try:
                return attempt()
            except PoolTimeout as exc:
                raise StoreBusyError(f"The progress database {self.where} is busy: every "
                                     f"connection of this server is in use.") from exc
            except OperationalError as exc:
                if not _LOCKED.search(str(exc.orig)):
                    raise
                waited = time.monotonic() - start
                if waited + BUSY_SLICE_S > budget:
                    self._busy_until = time.monotonic() + BUSY_BUDGET_S
                    raise StoreBusyError(
                        f"The progress database {self.where} is busy: another program has "
                        f"held its lock for {waited:.1f} s.") from exc
                if waited >= next_notice:
                    _notify_busy(waited)
                    next_notice = waited + 1.0
                time.sleep(0.05)

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A read-only transaction (never takes the write lock)."""
        def begin() -> tuple[Connection, Any]:
            conn = self.engine.connect()
            try:
                if not self.is_sqlite:
                    conn = conn.execution_options(postgresql_readonly=True)
                transaction = conn.begin()
                if self.is_sqlite:  # touch the snapshot now, so busy shows up here
                    conn.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1").all()
                return conn, transaction
            except BaseException:
                conn.close()
                raise

        try:
            conn, transaction = self._retrying(begin)
        except DBAPIError as exc:
            raise self._fail(exc) from exc
        try:
            with conn, transaction:
                yield conn
        except DBAPIError as exc:
            raise self._fail(exc) from exc

    def _write(self, work: Callable[[Connection], T], keep: str | None = None) -> T:
        """Run ``work`` in one write transaction, waiting out a busy lock (bounded).

        With ``keep`` (a description), a write that fails because the database is busy or
        cannot take writes is kept and retried before the next write; the error still tells
        the caller (and so the learner) that it is not saved yet.
        """
        try:
            if self._pending and self.flush_pending():  # still failing: do not wait twice
                raise self._last_failure or StoreBusyError(f"{self.where} is busy.")
            result = self._write_now(work)
        except (StoreBusyError, StoreReadOnlyError) as exc:
            if keep is None:
                raise
            with self._pending_lock:
                if len(self._pending) < MAX_PENDING:
                    self._pending.append((keep, work))
                waiting = len(self._pending)
            raise type(exc)(f"{exc} Your change ({keep}) is kept by this server and will be "
                            f"saved when the database takes writes again ({waiting} waiting)."
                            ) from exc
        return result

    def _write_now(self, work: Callable[[Connection], T]) -> T:
        if self.read_only:
            raise StoreReadOnlyError(self.write_problem or f"{self.where} is read-only.")

        def attempt() -> T:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    return work(conn)

        start = time.monotonic()
        serial = self.is_sqlite
        if serial and not self._write_lock.acquire(timeout=BUSY_BUDGET_S):
            raise StoreBusyError(f"The progress database {self.where} is busy with other "
                                 f"writes from this server.")
        try:
            result = self._retrying(attempt, start)
        except IntegrityError:
            raise
        except StoreBusyError:
            raise
        except DBAPIError as exc:
            failure = self._fail(exc)
            if isinstance(failure, StoreReadOnlyError):
                self.write_problem = str(failure)
            raise failure from exc
        finally:
            if serial:
                self._write_lock.release()
        self.write_problem = None
        return result

    def pending_count(self) -> int:
        """Kept writes not yet in the database."""
        return len(self._pending)

    def flush_pending(self) -> int:
        """Write the kept writes, oldest first; stop at the first that still fails.

        Returns how many are still waiting.
        """
        while True:
            with self._pending_lock:
                if not self._pending:
                    return 0
                _label, work = self._pending[0]
            try:
                self._write_now(work)
            except (StoreBusyError, StoreReadOnlyError) as exc:
                self._last_failure = exc
                return len(self._pending)
            except (StoreError, IntegrityError, ValueError):
                pass  # it can never succeed (e.g. its learner was deleted): drop it
            with self._pending_lock:
                if self._pending and self._pending[0][1] is work:
                    self._pending.popleft()
