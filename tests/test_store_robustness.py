"""Store robustness on SQLite: busy locks, files left byte-for-byte alone, disk full, read-only.

"Untouched" is checked on the bytes of the database file and of its ``-wal``/``-shm``/
``-journal`` companions (hash before and after; none may appear), not on the table list.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import event

from lrviz.learning.store import (
    SCHEMA_VERSION,
    ProgressStore,
    StoreBusyError,
    StoreError,
    StoreReadOnlyError,
    busy_handler,
)
from lrviz.learning.store_core import BUSY_BUDGET_S

COMPANIONS = ("", "-wal", "-shm", "-journal")


def fingerprint(db: Path) -> dict[str, str | None]:
    """SHA-256 of the database file and each companion file (None when absent)."""
    out = {}
    for suffix in COMPANIONS:
        path = Path(f"{db}{suffix}")
        out[suffix or "main"] = (hashlib.sha256(path.read_bytes()).hexdigest()
                                 if path.exists() else None)
    return out


def refused_untouched(db: Path, match: str) -> None:
    before, listing = fingerprint(db), sorted(os.listdir(db.parent))
    with pytest.raises(StoreError, match=match) as info:
        ProgressStore(f"sqlite:///{db}")
    assert "not been changed" in str(info.value)
    assert fingerprint(db) == before
    assert sorted(os.listdir(db.parent)) == listing  # no -wal/-shm/-journal created


def lrviz_db(db: Path, learners: int = 1) -> ProgressStore:
    store = ProgressStore(f"sqlite:///{db}")
    for i in range(learners):
        who = store.learner(f"learner {i}")
        store.mark_section_read(who.id, "l1", "summary")
    return store


# --- files that are not ours are left exactly as they are --------------------------------


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_foreign_database_is_untouched_bytes_and_companions(tmp_path, journal):
    db = tmp_path / "photos.sqlite3"
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA journal_mode = {journal}")
    con.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    con.execute("INSERT INTO photos (path) VALUES ('a.jpg')")
    con.commit()
    if journal == "wal":  # leave a -wal and -shm behind, as an open app would
        keep = sqlite3.connect(db)
        keep.execute("PRAGMA wal_autocheckpoint = 0")
        keep.execute("INSERT INTO photos (path) VALUES ('b.jpg')")
        keep.commit()
        for suffix in COMPANIONS[:3]:
            shutil.copy(f"{db}{suffix}", tmp_path / f"copy.sqlite3{suffix}")
        keep.close()
        con.close()
        db = tmp_path / "copy.sqlite3"
        assert Path(f"{db}-wal").stat().st_size > 0
    else:
        con.close()
    header = db.read_bytes()[18:20]
    refused_untouched(db, "not lrviz progress")
    assert db.read_bytes()[18:20] == header  # never switched to WAL


@pytest.mark.parametrize("version", [0, -1, SCHEMA_VERSION + 1, None])
def test_wrong_schema_version_is_refused_untouched(tmp_path, version):
    db = tmp_path / "p.sqlite3"
    lrviz_db(db).close()
    con = sqlite3.connect(db)
    con.execute("DELETE FROM schema_version")
    if version is not None:
        con.execute("INSERT INTO schema_version VALUES (?)", (version,))
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode = DELETE")  # as another tool may leave it
    con.close()
    why = {0: "not one lrviz ever wrote", -1: "not one lrviz ever wrote",
           SCHEMA_VERSION + 1: "newer lrviz", None: "empty"}[version]
    refused_untouched(db, why)


def test_damaged_file_with_wal_and_shm_is_untouched(tmp_path):
    source = tmp_path / "live.sqlite3"
    store = lrviz_db(source, learners=40)
    store.close()
    con = sqlite3.connect(source)  # committed pages still in the -wal, as after a crash
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("INSERT INTO sections_read VALUES (1, 'l2', 'x', '2030-01-01 00:00:00')")
    con.commit()
    db = tmp_path / "crashed.sqlite3"
    for suffix in COMPANIONS[:3]:
        shutil.copy(f"{source}{suffix}", f"{db}{suffix}")
    con.close()
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xde\xad\xbe\xef" * 999  # the schema page
    db.write_bytes(bytes(data))
    assert Path(f"{db}-wal").exists() and Path(f"{db}-shm").exists()
    refused_untouched(db, "damaged")


def test_garbage_wal_file_beside_a_good_database_loses_nothing(tmp_path):
    db = tmp_path / "p.sqlite3"
    lrviz_db(db, learners=3).close()
    Path(f"{db}-wal").write_bytes(os.urandom(5000))  # not a WAL: SQLite ignores it
    store = ProgressStore(f"sqlite:///{db}")
    assert store.count_rows("learners") == 3
    assert store.count_rows("sections_read") == 3


# --- a busy database --------------------------------------------------------------------


@pytest.fixture
def locked(tmp_path):
    """A store plus another connection holding the write lock (as another program would)."""
    db = tmp_path / "p.sqlite3"
    store = lrviz_db(db)
    other = sqlite3.connect(db, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO sections_read VALUES (1, 'l9', 'held', '2030-01-01 00:00:00')")
    yield store, other
    other.close()


def test_reads_go_on_while_another_program_holds_the_write_lock(locked):
    store, _ = locked
    notices: list[float] = []
    with busy_handler(notices.append):
        who = store.find_learner("learner 0")
        assert store.all_sections_read(who.id) == {"l1": {"summary"}}
        assert store.name_status("learner 0").state == "unprotected"
        assert store.export_learner(who.id)["sections_read"]
    assert notices == []  # reading never waited for the lock


def test_busy_write_says_so_early_gives_up_in_time_and_keeps_the_change(locked):
    store, other = locked
    who = store.find_learner("learner 0")
    notices: list[float] = []
    with busy_handler(notices.append), pytest.raises(StoreBusyError) as info:
        store.mark_section_read(who.id, "l1", "kept")
    assert notices, "the page was never told the database is busy"
    assert notices[0] < 2.0  # the store's own clock: told within the first lock slices
    assert all(w <= BUSY_BUDGET_S for w in notices)
    assert "kept" in str(info.value) and store.pending_count() == 1
    with pytest.raises(StoreBusyError):  # a write that must not be deferred says so too
        store.create_learner("Someone New")
    other.execute("COMMIT")  # the other program lets go
    assert store.flush_pending() == 0
    assert store.sections_read(who.id, "l1") == {"summary", "kept"}
    assert store.sections_read(who.id, "l9") == {"held"}


# --- disk full and read-only ---------------------------------------------------------------


def test_disk_full_keeps_progress_viewable_and_the_change_waiting(tmp_path):
    db = tmp_path / "p.sqlite3"
    store = lrviz_db(db)
    who = store.find_learner("learner 0")
    pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]

    def full(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(store.engine, "connect", full)
    store.engine.dispose()  # new connections see the small disk
    names = [f"a long section name number {i:05d} " * 3 for i in range(400)]
    with pytest.raises(StoreReadOnlyError, match="full") as info:
        for name in names:
            store.mark_section_read(who.id, "l1", name)
    failed_at = names.index(next(n for n in names
                                 if n not in store.sections_read(who.id, "l1")))
    assert "viewed" in str(info.value) and "kept" in str(info.value)
    assert store.write_problem and "full" in store.write_problem
    assert store.pending_count() == 1
    assert "summary" in store.sections_read(who.id, "l1")  # still readable
    event.remove(store.engine, "connect", full)
    store.engine.dispose()  # space freed
    assert store.flush_pending() == 0 and store.write_problem is None
    assert store.sections_read(who.id, "l1") == {"summary", *names[:failed_at + 1]}


def _as_nobody(work) -> dict:
    """Run ``work()`` in a forked child as user ``nobody``; return the JSON it produced."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            out = work()
        except BaseException as exc:  # reported to the parent
            out = {"error": repr(exc)}
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    return json.loads(b"".join(chunks))


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0,
                    reason="needs root to switch to an unprivileged user")
def test_read_only_file_and_folder_leave_progress_viewable(tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="lrviz-ro-"))
    try:
        os.chmod(folder, 0o755)  # root's folder: nobody can read but not write
        db = folder / "p.sqlite3"
        store = lrviz_db(db, learners=2)
        ada, _ = store.create_learner("Ada", "phrase-ada")
        store.mark_section_read(ada.id, "l1", "summary")
        store.close()
        con = sqlite3.connect(db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        before = fingerprint(db)

        def view() -> dict:
            ro = ProgressStore(f"sqlite:///{db}")
            who = ro.sign_in("ada", "phrase-ada")
            out = {"read_only": ro.read_only, "read": sorted(ro.sections_read(who.id, "l1"))}
            try:
                ro.mark_section_read(who.id, "l1", "later")
            except StoreReadOnlyError as exc:
                out["write"] = str(exc)
            return out

        got = _as_nobody(view)
        assert got.get("read_only") is True, got
        assert got["read"] == ["summary"]
        assert "read-only" in got["write"] and "kept" in got["write"]
        assert fingerprint(db) == before
    finally:
        shutil.rmtree(folder)


def test_busy_postgresql_table_is_waited_for_reads_go_on(postgres_url):
    import psycopg

    store = lrviz_db_url(postgres_url)
    who = store.find_learner("learner 0")
    holder = psycopg.connect(postgres_url.replace("postgresql+psycopg://", "postgresql://"))
    holder.execute("LOCK TABLE sections_read IN EXCLUSIVE MODE")  # writers wait, readers not
    notices: list[float] = []
    try:
        with busy_handler(notices.append):
            assert store.all_sections_read(who.id) == {"l1": {"summary"}}
            assert notices == []
            with pytest.raises(StoreBusyError, match="kept"):
                store.mark_section_read(who.id, "l1", "kept")
        assert notices and notices[0] < 2.0
        assert store.pending_count() == 1
    finally:
        holder.rollback()
        holder.close()
    assert store.flush_pending() == 0
    assert store.sections_read(who.id, "l1") == {"summary", "kept"}


def lrviz_db_url(url: str) -> ProgressStore:
    store = ProgressStore(url)
    who = store.learner("learner 0")
    store.mark_section_read(who.id, "l1", "summary")
    return store


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0,
                    reason="needs root to switch to an unprivileged user")
def test_read_only_version_one_file_is_viewable_not_migrated(tmp_path):
    from test_store_auth import _version_one_database

    folder = Path(tempfile.mkdtemp(prefix="lrviz-ro1-"))
    try:
        os.chmod(folder, 0o755)
        db = folder / "old.sqlite3"
        _version_one_database(f"sqlite:///{db}")
        before = fingerprint(db)

        def view() -> dict:
            ro = ProgressStore(f"sqlite:///{db}")
            status = ro.name_status("old timer")
            return {"state": status.state, "version": ro.version,
                    "read": sorted(ro.sections_read(status.learner.id, "l1"))}

        assert _as_nobody(view) == {"state": "unprotected", "version": 1, "read": ["summary"]}
        assert fingerprint(db) == before
    finally:
        shutil.rmtree(folder)
