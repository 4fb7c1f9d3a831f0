"""The progress store: round trip, restart, schema versioning and bad files.

Tests taking ``store_url`` run on SQLite and on a real PostgreSQL server (see conftest).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from lrviz.learning.store import (
    SCHEMA_VERSION,
    ProgressStore,
    StoreError,
    get_store,
    resolve_url,
)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "progress.sqlite3"


def test_default_url_reads_the_environment(db, monkeypatch):
    monkeypatch.setenv("LRVIZ_DB_URL", f"sqlite:///{db}")
    assert resolve_url() == f"sqlite:///{db}"
    store = get_store()
    store.learner("Ada")
    assert db.exists()
    assert get_store() is store  # one engine per URL


def test_plain_path_and_default_location(tmp_path, monkeypatch):
    monkeypatch.setenv("LRVIZ_DB_URL", str(tmp_path / "p.db"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'p.db'}"
    monkeypatch.delenv("LRVIZ_DB_URL")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'xdg' / 'lrviz' / 'progress.sqlite3'}"


def test_learner_is_get_or_create_and_case_insensitive(store_url):
    store = ProgressStore(store_url)
    ada = store.learner("  Ada   Lovelace ")
    assert ada.name == "Ada Lovelace"
    assert store.learner("ada lovelace") == ada
    assert store.learner("Grace").id != ada.id
    for bad in ("", "   ", "x" * 41, "a\x00b"):
        with pytest.raises(ValueError):
            store.learner(bad)


def test_sections_round_trip_and_survive_a_restart(store_url):
    store = ProgressStore(store_url)
    ada = store.learner("Ada")
    store.mark_section_read(ada.id, "lr-basics", "dialogue")
    store.mark_section_read(ada.id, "lr-basics", "dialogue")  # idempotent
    store.mark_section_read(ada.id, "lr-basics", "summary")
    store.mark_section_read(ada.id, "schedules", "summary")
    store.close()

    again = ProgressStore(store_url)  # a server restart: a brand-new engine
    ada2 = again.learner("ADA")
    assert ada2.id == ada.id
    assert again.sections_read(ada.id, "lr-basics") == {"dialogue", "summary"}
    assert again.all_sections_read(ada.id) == {"lr-basics": {"dialogue", "summary"},
                                               "schedules": {"summary"}}
    assert again.count_rows("sections_read") == 3


def test_wal_mode_and_schema_version(db):
    ProgressStore(f"sqlite:///{db}").close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    con.close()


def test_quiz_attempt_is_scored_when_its_last_answer_arrives(store_url):
    store = ProgressStore(store_url)
    ada = store.learner("Ada")
    qs = [("l1", "a"), ("l1", "b"), ("l1", "c"), ("l1", "d")]
    attempt = store.start_attempt(ada.id, "lesson", "l1", qs, seed=7)
    for (lesson, q), credit in zip(qs[:3], (1.0, 0.5, 0.0), strict=True):
        state = store.record_answer(attempt.id, lesson, q, correct=credit > 0, credit=credit,
                                    hints_used=0, answer={"choice": 1})
        assert state.finished_at is None
    # a second submission for the same question does not count twice
    store.record_answer(attempt.id, "l1", "a", correct=False, credit=0, hints_used=0, answer=2)
    final = store.record_answer(attempt.id, "l1", "d", correct=True, credit=1.0, hints_used=1,
                                answer=[0, 2])
    assert final.finished_at is not None
    assert final.score == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    answers = store.answers(ada.id, attempt.id)
    assert [a.question_id for a in answers] == ["a", "b", "c", "d"]
    assert answers[0].answer == {"choice": 1} and answers[0].credit == 1.0
    with pytest.raises(ValueError):
        store.record_answer(attempt.id, "l1", "zzz", correct=True, credit=1, hints_used=0,
                            answer=None)


def test_review_saves_card_and_log_together(store_url):
    store = ProgressStore(store_url)
    ada = store.learner("Ada")
    t0 = datetime(2030, 1, 1, 9, tzinfo=UTC)
    store.save_review(ada.id, "c1", "l1", card_json="{}", due=t0 + timedelta(minutes=10),
                      rating=3, reviewed_at=t0, log_json="{}")
    store.save_review(ada.id, "c1", "l1", card_json='{"x": 1}', due=t0 + timedelta(days=2),
                      rating=3, reviewed_at=t0 + timedelta(minutes=10), log_json="{}")
    states = store.card_states(ada.id)
    assert set(states) == {"c1"}
    assert states["c1"].introduced_at == t0
    assert states["c1"].due == t0 + timedelta(days=2)
    assert states["c1"].card_json == '{"x": 1}'
    assert [r.rating for r in store.reviews(ada.id)] == [3, 3]


def test_export_and_reset(store_url):
    store = ProgressStore(store_url)
    ada, bob = store.learner("Ada"), store.learner("Bob")
    for who in (ada, bob):
        store.mark_section_read(who.id, "l1", "summary")
        store.save_review(who.id, "c1", "l1", card_json='{"s": 1}',
                          due=datetime(2030, 1, 2, tzinfo=UTC), rating=4,
                          reviewed_at=datetime(2030, 1, 1, tzinfo=UTC), log_json='{"r": 4}')
    data = store.export_learner(ada.id)
    assert data["learner"]["name"] == "Ada"
    assert data["sections_read"][0]["section"] == "summary"
    assert data["card_states"][0]["card"] == {"s": 1}
    assert data["review_logs"][0]["rating"] == 4
    removed = store.reset_learner(ada.id)
    assert removed == 3
    assert store.all_sections_read(ada.id) == {}
    assert store.card_states(ada.id) == {}
    assert store.find_learner("ada") == ada  # the name stays
    assert store.all_sections_read(bob.id) == {"l1": {"summary"}}  # others untouched


def test_newer_schema_on_postgresql_is_refused(postgres_url):
    from sqlalchemy import create_engine, text

    ProgressStore(postgres_url).close()
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version VALUES (:v)"), {"v": SCHEMA_VERSION + 1})
    with pytest.raises(StoreError, match="newer lrviz"):
        ProgressStore(postgres_url)
    with engine.connect() as conn:  # and nothing was changed
        versions = conn.execute(text("SELECT version FROM schema_version ORDER BY 1")).all()
    engine.dispose()
    assert [v for (v,) in versions] == [SCHEMA_VERSION, SCHEMA_VERSION + 1]


def test_newer_schema_is_refused_and_left_alone(db):
    ProgressStore(f"sqlite:///{db}").close()
    con = sqlite3.connect(db)
    con.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="newer lrviz"):
        ProgressStore(f"sqlite:///{db}")
    assert db.read_bytes() == before


def test_garbage_file_gives_a_clear_message_and_is_not_overwritten(db):
    db.write_bytes(b"this is not a database, it is my thesis draft\n" * 200)
    before = db.read_bytes()
    with pytest.raises(StoreError, match="damaged or is not an lrviz database"):
        ProgressStore(f"sqlite:///{db}")
    assert db.read_bytes() == before
    with pytest.raises(StoreError):  # failures are not cached: it says so every time
        get_store(f"sqlite:///{db}")


def test_foreign_sqlite_database_is_refused(db):
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not lrviz progress"):
        ProgressStore(f"sqlite:///{db}")
    con = sqlite3.connect(db)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert names == {"photos"}


def test_bad_url_and_directory_are_clear_errors(tmp_path):
    with pytest.raises(StoreError, match="not a valid database URL"):
        ProgressStore("notadialect:://??")
    with pytest.raises(StoreError, match="is not a file"):
        ProgressStore(f"sqlite:///{tmp_path}")


def test_in_memory_database_works_for_scripts():
    store = ProgressStore("sqlite://")
    ada = store.learner("Ada")
    store.mark_section_read(ada.id, "l1", "summary")
    assert store.sections_read(ada.id, "l1") == {"summary"}
    assert store.version == SCHEMA_VERSION


def test_unreachable_server_url_is_a_clear_error():
    # No driver or no server here: either way a StoreError naming the database, never a crash.
    with pytest.raises(StoreError, match=r"127\.0\.0\.1"):
        ProgressStore("postgresql://lrviz:secret@127.0.0.1:1/lrviz")


def test_password_is_not_shown_in_messages():
    with pytest.raises(StoreError) as info:
        ProgressStore("postgresql://lrviz:hunter2@127.0.0.1:1/lrviz")
    assert "hunter2" not in str(info.value)


def test_first_use_creates_missing_folders(tmp_path):
    db = tmp_path / "not" / "there" / "yet" / "progress.sqlite3"
    store = ProgressStore(f"sqlite:///{db}")
    store.learner("Ada")
    assert db.is_file() and store.version == SCHEMA_VERSION
