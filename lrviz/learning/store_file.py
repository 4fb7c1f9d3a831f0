"""Look at a SQLite file before using it, without changing a byte of it.

Opening a file with SQLite normally has side effects: switching it to WAL rewrites its header and
creates ``-wal``/``-shm`` files, and even a read-only WAL reader writes to ``-shm``. So the file is
first judged from its header bytes and then through an ``immutable=1`` connection, which takes
no locks and creates no side files (or, when a non-empty ``-wal`` holds committed pages that
connection would not see, through a private copy of the file and its ``-wal``). Only a file
that is empty, missing, or an lrviz database of a version this code can handle is then opened
normally.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class FileVerdict:
    """What a SQLite file is, as far as can be told without writing to it."""

    exists: bool
    tables: frozenset[str]
    version: int | None  # max(schema_version.version); None without that table or row
    has_version_table: bool
    problem: str | None  # a reason to refuse the file, or None
    writable: bool  # this process may change the file and create files beside it


def _writable(path: Path) -> bool:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:  # created on first use
        folder = folder.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def inspect_sqlite_file(path: Path) -> FileVerdict:
    """Judge ``path`` read-only: header bytes first, then an immutable SQLite connection."""
    if not path.exists():
        return FileVerdict(False, frozenset(), None, False, None, _writable(path))
    writable = _writable(path)
    if not path.is_file():
        return FileVerdict(True, frozenset(), None, False, "it is not a file", writable)
    if not os.access(path, os.R_OK):
        return FileVerdict(True, frozenset(), None, False, "this user cannot read it", writable)
    size = path.stat().st_size
    if size == 0:  # sqlite3 creates empty files; nothing to lose in one
        return FileVerdict(True, frozenset(), None, False, None, writable)
    with open(path, "rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return FileVerdict(True, frozenset(), None, False,
                           "it is damaged or is not an lrviz database (its first bytes are "
                           "not a SQLite header)", writable)
    wal = Path(f"{path}-wal")
    try:
        if wal.exists() and wal.stat().st_size > 0:
            # Committed pages may still sit in the -wal, which an immutable connection does
            # not read: judge a private copy of the pair instead of the files themselves.
            with tempfile.TemporaryDirectory(prefix="lrviz-inspect-") as scratch:
                copy = Path(scratch) / "copy.sqlite3"
                shutil.copyfile(path, copy)
                shutil.copyfile(wal, f"{copy}-wal")
                checks, tables, version = _look(sqlite3.connect(copy))
        else:
            uri = f"file:{quote(str(path.resolve()))}?immutable=1"
            checks, tables, version = _look(sqlite3.connect(uri, uri=True))
    except sqlite3.DatabaseError as exc:
        return FileVerdict(True, frozenset(), None, False,
                           f"it is damaged or is not an lrviz database ({exc})", writable)
    if checks != ["ok"]:
        return FileVerdict(True, frozenset(), None, False,
                           f"it is damaged or is not an lrviz database "
                           f"({'; '.join(checks[:3])})", writable)
    return FileVerdict(True, tables, version, "schema_version" in tables, None, writable)



def _look(con: sqlite3.Connection) -> tuple[list[str], frozenset[str], int | None]:
    """quick_check, the table names and the schema version seen through ``con`` (closed)."""
    try:
        checks = [row[0] for row in con.execute("PRAGMA quick_check").fetchall()]
        if checks != ["ok"]:
            return checks, frozenset(), None
        tables = frozenset(row[0] for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"))
        version = None
        if "schema_version" in tables:
            version = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        return checks, tables, version
    finally:
        con.close()
