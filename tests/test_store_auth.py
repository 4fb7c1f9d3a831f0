"""Learner identity: passphrases and recovery codes, names never merged, old learners kept.

Tests taking ``store_url`` run on SQLite and on a real PostgreSQL server (see conftest).
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, insert, text

from lrviz.learning import store_auth
from lrviz.learning.store import (
    SCHEMA_VERSION,
    ProgressStore,
    SignInError,
    StoreError,
    TooManyAttemptsError,
)
from lrviz.learning.store_core import _now
from lrviz.learning.store_schema import learner_secrets, learners, metadata, sections_read


def test_secret_hashes_are_salted_scrypt_and_checked_exactly():
    first, second = store_auth.hash_secret("tulip-42"), store_auth.hash_secret("tulip-42")
    assert first != second  # a fresh salt each time
    for stored in (first, second):
        kind, n, r, p, salt, _digest = stored.split("$")
        assert (kind, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
        assert len(bytes.fromhex(salt)) == 16 and "tulip" not in stored
        assert store_auth.verify_secret("tulip-42", stored)
    assert not store_auth.verify_secret("tulip-43", first)
    assert not store_auth.verify_secret("tulip-42", None)
    assert not store_auth.verify_secret("tulip-42", "md5$junk")


def test_recovery_codes_forgive_case_dashes_and_look_alikes():
    code = store_auth.new_recovery_code()
    assert len(code) == 14 and code.count("-") == 2
    raw = code.replace("-", "")
    assert store_auth.normalize_recovery_code(code.lower().replace("-", " ")) == raw
    assert store_auth.normalize_recovery_code("0O1I-L000-0000") == "001110000000"
    assert store_auth.normalize_recovery_code("too short") is None
    assert len({store_auth.new_recovery_code() for _ in range(200)}) == 200


def test_passphrase_rules():
    assert store_auth.check_new_passphrase("  blue whale  ") == "blue whale"
    for bad, why in (("abc", "at least 6"), ("x" * 129, "at most"),
                     ("ada king", "display name")):
        with pytest.raises(ValueError, match=why):
            store_auth.check_new_passphrase(bad, "Ada  King")


def test_throttle_refuses_a_guessing_burst_and_forgets_it_later():
    now = [0.0]
    throttle = store_auth.AttemptThrottle(max_failures=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        throttle.check("ada")
        throttle.failed("ada")
    with pytest.raises(TooManyAttemptsError) as info:
        throttle.check("ada")
    assert info.value.wait_s == pytest.approx(60)
    throttle.check("bob")  # other learners are not affected
    now[0] = 61.0
    throttle.check("ada")


def test_same_name_is_told_not_merged(store_url):
    store = ProgressStore(store_url)
    ada, code = store.create_learner("Ada  Lovelace", "analytical-1")
    with pytest.raises(SignInError, match="taken"):
        store.create_learner("ada lovelace")
    assert store.count_rows("learners") == 1
    assert store.name_status(" ADA lovelace").state == "protected"
    assert store.name_status("Grace").state == "new"
    assert store.sign_in("ada lovelace", "analytical-1") == ada
    assert store.sign_in("ADA LOVELACE", code.lower().replace("-", "")) == ada
    with pytest.raises(SignInError, match="does not match"):
        store.sign_in("Ada Lovelace", "analytical-2")


def test_wrong_guesses_are_throttled_even_before_the_right_one(store_url):
    store = ProgressStore(store_url)
    store.create_learner("Ada", "right-one")
    for i in range(store_auth.MAX_FAILURES):
        with pytest.raises(SignInError):
            store.sign_in("Ada", f"guess-{i}")
    with pytest.raises(TooManyAttemptsError):
        store.sign_in("Ada", "right-one")


def test_passphrase_change_and_new_recovery_code_need_a_current_secret(store_url):
    store = ProgressStore(store_url)
    ada, code = store.create_learner("Ada")  # a recovery code only
    with pytest.raises(SignInError, match="not right"):
        store.set_passphrase(ada.id, "nope-nope", "new-phrase")
    store.set_passphrase(ada.id, code, "new-phrase")
    assert store.sign_in("ada", "new-phrase") == ada
    newer = store.replace_recovery_code(ada.id, "new-phrase")
    with pytest.raises(SignInError):
        store.sign_in("ada", code)  # the old code stopped working
    assert store.sign_in("ada", newer) == ada


def test_secrets_are_never_exported_and_survive_a_reset(store_url):
    store = ProgressStore(store_url)
    ada, _code = store.create_learner("Ada", "secret-phrase")
    store.mark_section_read(ada.id, "l1", "summary")
    data = store.export_learner(ada.id)
    flat = repr(data)
    assert "scrypt" not in flat and "secret-phrase" not in flat and "learner_secrets" not in data
    assert store.reset_learner(ada.id) == 1
    assert store.sign_in("Ada", "secret-phrase") == ada


def test_database_holds_no_secret_in_clear(tmp_path):
    db = tmp_path / "p.sqlite3"
    store = ProgressStore(f"sqlite:///{db}")
    _, code = store.create_learner("Ada", "my-very-own-phrase")
    store.close()
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    blob = db.read_bytes()
    assert b"my-very-own-phrase" not in blob
    assert code.replace("-", "").encode() not in blob and code.encode() not in blob


def _version_one_database(url: str) -> None:
    """A database as lrviz wrote it before passphrases: schema 1, one learner with progress."""
    engine = create_engine(url)
    with engine.begin() as conn:
        metadata.create_all(conn, tables=[t for t in metadata.sorted_tables
                                          if t is not learner_secrets])
        conn.execute(text("INSERT INTO schema_version (version) VALUES (1)"))
        conn.execute(insert(learners).values(id=1, name="Old Timer", name_key="old timer",
                                             created_at=_now()))
        conn.execute(insert(sections_read).values(learner_id=1, lesson_id="l1",
                                                  section="summary", read_at=_now()))
    engine.dispose()


def test_learners_from_version_one_keep_their_data_and_are_claimed_once(store_url):
    _version_one_database(store_url)
    store = ProgressStore(store_url)
    assert store.version == SCHEMA_VERSION  # migrated: learner_secrets added
    status = store.name_status("old  timer")
    assert status.state == "unprotected"
    old = status.learner
    assert store.all_sections_read(old.id) == {"l1": {"summary"}}
    with pytest.raises(SignInError, match="no passphrase yet"):
        store.sign_in("Old Timer", "anything")
    claimed, code = store.claim_learner("old timer", "fresh-phrase")
    assert claimed == old
    with pytest.raises(SignInError, match="taken"):  # a second claim is refused
        store.claim_learner("Old Timer")
    assert store.sign_in("old timer", code) == old
    assert store.sign_in("old timer", "fresh-phrase") == old
    assert store.all_sections_read(old.id) == {"l1": {"summary"}}  # nothing lost


def test_reads_are_read_only_transactions(store_url):
    store = ProgressStore(store_url)
    with pytest.raises(StoreError), store._reading() as conn:
        conn.execute(insert(learners).values(name="X", name_key="x",
                                             created_at=_now()))
    assert store.count_rows("learners") == 0


def test_sign_in_and_reading_progress_issue_no_write(tmp_path):
    from sqlalchemy import event

    store = ProgressStore(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    ada, _code = store.create_learner("Ada", "phrase-one")
    store.mark_section_read(ada.id, "l1", "summary")
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda conn, cur, stmt, *a: statements.append(stmt.upper()))
    store.sign_in("ada", "phrase-one")
    store.name_status("ada")
    store.all_sections_read(ada.id)
    store.attempts(ada.id)
    store.reviews(ada.id)
    store.export_learner(ada.id)
    assert statements
    writes = [s for s in statements
              if s.startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE", "CREATE"))]
    assert writes == []
    assert any("QUERY_ONLY = 1" in s for s in statements)
