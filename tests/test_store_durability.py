"""Nothing is lost: concurrent writers, processes killed mid-transaction, damaged files.

Tests taking ``store_url`` run on SQLite and on a real PostgreSQL server (see conftest).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lrviz.learning.store import SCHEMA_VERSION, ProgressStore, StoreError

ROOT = Path(__file__).resolve().parents[1]
THREADS, WRITES = 8, 200
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_eight_threads_times_two_hundred_writes_lose_nothing(store_url):
    store = ProgressStore(store_url)
    learners = [store.learner(f"learner {t}") for t in range(THREADS)]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer(t: int) -> None:
        try:
            start.wait()
            who = learners[t].id
            for i in range(WRITES):
                if i % 2 == 0:
                    store.mark_section_read(who, "lesson", f"section-{i}")
                else:  # a two-statement transaction: card upsert + review log
                    store.save_review(who, f"card-{i % 7}", "lesson", card_json=f'{{"i": {i}}}',
                                      due=T0 + timedelta(minutes=i), rating=1 + i % 4,
                                      reviewed_at=T0 + timedelta(seconds=i), log_json="{}")
        except BaseException as exc:  # surfaced below with the thread's number
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count_rows("sections_read") == THREADS * WRITES // 2
    assert store.count_rows("review_logs") == THREADS * WRITES // 2
    for who in learners:
        assert len(store.sections_read(who.id, "lesson")) == WRITES // 2
        assert len(store.reviews(who.id)) == WRITES // 2
        states = store.card_states(who.id)
        assert len(states) == 7
        # each card holds its last write: i = 199 for card-3 (199 % 7 == 3)
        assert states["card-3"].card_json == '{"i": 199}'
    store.close()
    again = ProgressStore(store_url)  # and after a restart
    assert again.count_rows("sections_read") + again.count_rows("review_logs") == 1600


def test_concurrent_get_or_create_gives_one_learner(store_url):
    store = ProgressStore(store_url)
    found: list[int] = []
    gate = threading.Barrier(THREADS)

    def sign_in() -> None:
        gate.wait()
        found.append(store.learner("Same Name").id)

    threads = [threading.Thread(target=sign_in) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == THREADS and len(set(found)) == 1
    assert store.count_rows("learners") == 1


WRITER = textwrap.dedent("""
    import sys, time
    from lrviz.learning.store import ProgressStore
    store = ProgressStore(sys.argv[1])
    who = store.learner("proc " + sys.argv[2]).id
    for i in range(int(sys.argv[3])):
        store.mark_section_read(who, "lesson", f"s-{i}")
        print(i, flush=True)
""")


def test_four_processes_write_at_once(store_url):
    url, per_process = store_url, 100
    ProgressStore(url).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, str(p), str(per_process)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for p in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        assert out.split()[-1] == str(per_process - 1)
    assert ProgressStore(url).count_rows("sections_read") == 4 * per_process


KILLED_IN_TRANSACTION = textwrap.dedent("""
    import sys, time
    from lrviz.learning.store import ProgressStore, _now
    from lrviz.learning.store_schema import sections_read
    store = ProgressStore(sys.argv[1])
    who = store.learner("victim").id
    for i in range(50):
        store.mark_section_read(who, "lesson", f"committed-{i}")
    print("COMMITTED", flush=True)

    def never_commits(conn):
        for i in range(1000):
            conn.execute(sections_read.insert().values(
                learner_id=who, lesson_id="lesson", section=f"pending-{i}", read_at=_now()))
        print("IN_TRANSACTION", flush=True)
        time.sleep(120)

    store._write(never_commits)
""")


def test_process_killed_mid_transaction_keeps_every_commit(store_url):
    proc = subprocess.Popen([sys.executable, "-c", KILLED_IN_TRANSACTION, store_url], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "COMMITTED"
        assert proc.stdout.readline().strip() == "IN_TRANSACTION"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    store = ProgressStore(store_url)  # recovers the WAL left behind by the killed process
    who = store.find_learner("victim")
    read = store.sections_read(who.id, "lesson")
    assert read == {f"committed-{i}" for i in range(50)}  # all commits, no pending row
    store.mark_section_read(who.id, "lesson", "after the crash")  # and it is writable
    assert len(store.sections_read(who.id, "lesson")) == 51
    if store.path is not None:
        con = sqlite3.connect(store.path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()


def test_process_killed_while_writing_keeps_a_complete_prefix(tmp_path):
    db = tmp_path / "p.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, _url(db), "0", "100000"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acknowledged = -1
    try:
        for line in proc.stdout:
            acknowledged = int(line)
            if acknowledged >= 150:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # lands somewhere in the middle of a write
        proc.wait(timeout=30)
    assert acknowledged >= 150
    store = ProgressStore(_url(db))
    who = store.find_learner("proc 0")
    got = store.sections_read(who.id, "lesson")
    indices = sorted(int(s.removeprefix("s-")) for s in got)
    assert indices == list(range(len(indices)))  # no gap, no half-written row
    assert len(indices) >= acknowledged + 1  # every acknowledged commit survived


def _filled_db(path: Path) -> None:
    store = ProgressStore(_url(path))
    who = store.learner("Ada").id
    for i in range(400):
        store.mark_section_read(who, "lesson-with-a-long-name", f"section number {i:05d}")
    store.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    con.close()


@pytest.mark.parametrize("damage", ["overwrite-pages", "truncate", "zero-header"])
def test_damaged_file_is_reported_and_never_touched(tmp_path, damage):
    db = tmp_path / "p.sqlite3"
    _filled_db(db)
    data = bytearray(db.read_bytes())
    assert len(data) > 8 * 4096
    if damage == "overwrite-pages":
        data[2 * 4096: 6 * 4096] = b"\xde\xad\xbe\xef" * 4096
    elif damage == "truncate":
        data = data[: len(data) // 2 + 100]
    else:
        data[:100] = bytes(100)
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        ProgressStore(_url(db))
    message = str(info.value)
    assert str(db) in message and "has not been changed" in message
    assert db.read_bytes() == bytes(data)  # not repaired, replaced or truncated


OPENER = textwrap.dedent("""
    import sys
    from lrviz.learning.store import ProgressStore
    store = ProgressStore(sys.argv[1])
    print(store.version, store.learner("replica " + sys.argv[2]).id, flush=True)
""")


def test_replicas_starting_together_on_a_new_database_create_one_schema(store_url):
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, store_url, str(p)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        assert out.split()[0] == str(SCHEMA_VERSION)
    store = ProgressStore(store_url)
    assert store.count_rows("schema_version") == 1
    assert store.count_rows("learners") == 4
