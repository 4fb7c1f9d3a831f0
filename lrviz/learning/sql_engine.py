"""One way to open a SQLAlchemy engine for lrviz's databases (progress store and class polls).

SQLite connections get the same rules everywhere:
    * SQLAlchemy, not the ``sqlite3`` module, decides where transactions start
      (``isolation_level = None``), so ``BEGIN`` is issued exactly once per transaction;
    * a lock is waited for at most ``busy_ms`` per statement (``PRAGMA busy_timeout``), so the
      caller can tell the learner "busy" instead of hanging;
    * a write transaction takes the lock up front (``BEGIN IMMEDIATE``, chosen by the execution
      option ``lrviz_write=True``) so it queues instead of failing half-way; a read is a deferred
      ``BEGIN`` marked ``PRAGMA query_only`` and can never take the write lock.

PostgreSQL engines get a bounded pool and a ``lock_timeout`` of the same length, so a starved pool
or a held lock is reported as busy rather than waited on without end. Nothing here imports
streamlit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

WRITE_OPTION = "lrviz_write"


def postgres_engine(url: str, *, lock_ms: int, pool_timeout_s: float) -> Engine:
    """A PostgreSQL engine whose pool and locks give up after bounded waits."""
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=pool_timeout_s,
        connect_args={"connect_timeout": 5, "options": f"-c lock_timeout={int(lock_ms)}"})


def sqlite_engine(url: str, *, busy_ms: int, wal: bool, in_memory: bool = False,
                  synchronous_full: bool = True) -> Engine:
    """A SQLite engine with bounded lock waits, read-only reads and up-front write locks.

    ``wal`` switches the file to write-ahead logging on connect; pass it only for a file the
    caller has already judged to be lrviz's own (switching changes the file). ``in_memory``
    shares one connection, or every checkout would see a new empty database.
    """
    kwargs: dict[str, Any] = {"connect_args": {"timeout": busy_ms / 1000,
                                               "check_same_thread": False}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        cur.execute("PRAGMA foreign_keys = ON")
        if wal:
            cur.execute("PRAGMA journal_mode = WAL")
        if synchronous_full:
            cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql(f"PRAGMA query_only = {0 if write else 1}")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
