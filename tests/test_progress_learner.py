"""The learner sidebar: a display name plus passphrase or recovery code, remembered across
pages, that owns saved progress; busy, full and read-only databases explained there."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrviz.learning.store import get_store

FIXTURE = str(Path(__file__).parent / "fixtures" / "practice_course")
PAGES = ["lrviz/ui/pages/quiz.py", "lrviz/ui/pages/flashcards.py", "lrviz/ui/pages/progress.py"]


@pytest.fixture(autouse=True)
def _fixture_course(monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", FIXTURE)


# Every test runs on SQLite and on a real PostgreSQL (see conftest), except these, which are
# about SQLite files.
SQLITE_ONLY = {
    "test_damaged_database_is_explained_in_the_sidebar",
    "test_busy_database_is_announced_and_the_page_still_renders",
    "test_disk_full_keeps_progress_viewable_with_a_message",
    "test_busy_database_during_a_button_callback_is_announced",
}


@pytest.fixture(autouse=True)
def _backend(request, store_url, monkeypatch):
    if store_url.startswith("postgresql") and request.node.originalname in SQLITE_ONLY:
        pytest.skip("about SQLite files, which PostgreSQL does not have")
    monkeypatch.setenv("LRVIZ_DB_URL", store_url)


def captions(at) -> list[str]:
    return [c.value for c in at.sidebar.caption]


def test_name_signs_in_and_follows_the_learner_across_pages(app_test):
    at = app_test(PAGES[0])
    assert "Enter a name to save your progress." in captions(at)
    at.sidebar.text_input(key="learner").set_value("  Ada   King ").run()
    assert "Saving progress as **Ada King**." in captions(at)
    assert get_store().find_learner("ada king") is not None
    for page in PAGES[1:] + PAGES[:1]:
        at.switch_page(page).run()  # the first run on a new page, where widgets restart
        assert not at.exception
        assert "Saving progress as **Ada King**." in captions(at), page


def test_clearing_the_name_signs_out(app_test):
    at = app_test(PAGES[2])
    at.sidebar.text_input(key="learner").set_value("Ada").run()
    assert "Progress of **Ada**." in [m.value for m in at.markdown]
    at.sidebar.text_input(key="learner").set_value("").run()
    assert "Enter a name to save your progress." in captions(at)
    at.switch_page(PAGES[1]).run()
    assert "Enter a name to save your progress." in captions(at)


def test_unusable_name_gets_a_message(app_test):
    at = app_test(PAGES[2])
    at.sidebar.text_input(key="learner").set_value("bad\x07name").run()
    assert any("control characters" in w.value for w in at.sidebar.warning)
    assert get_store().count_rows("learners") == 0


def test_damaged_database_is_explained_in_the_sidebar(app_test, monkeypatch, tmp_path):
    db = tmp_path / "bad.sqlite3"
    db.write_bytes(b"\x01" * 4096)
    monkeypatch.setenv("LRVIZ_DB_URL", f"sqlite:///{db}")
    at = app_test(PAGES[0])
    at.sidebar.text_input(key="learner").set_value("Ada").run()
    assert not at.exception
    assert any("Progress cannot be saved" in e.value and str(db) in e.value
               for e in at.sidebar.error)


# --- passphrases, recovery codes and taken names --------------------------------------------


def sign_in(at, name: str, secret: str = ""):
    at.sidebar.text_input(key="learner").set_value(name)
    at.sidebar.text_input(key="learner_secret").set_value(secret)
    return at.run()


def warnings(at) -> list[str]:
    return [w.value for w in at.sidebar.warning]


def test_a_taken_name_needs_its_passphrase_or_recovery_code(app_test):
    first = sign_in(app_test(PAGES[2]), "Ada", "analytical")  # chooses a passphrase
    assert "Saving progress as **Ada**." in captions(first)
    code = first.sidebar.code[0].value  # and is shown a recovery code, once
    first.sidebar.button(key="learner-code-done").click().run()
    assert not first.sidebar.code
    other = sign_in(app_test(PAGES[2]), " ADA ")  # another session, same name
    assert any("That name is taken" in w for w in warnings(other))
    assert "Saving progress as **Ada**." not in captions(other)
    assert any("Enter your display name" in i.value for i in other.info)  # nothing shown
    sign_in(other, "ada", "analytica1")
    assert any("does not match" in w for w in warnings(other))
    assert other.sidebar.text_input(key="learner_secret").value == ""  # never kept
    sign_in(other, "ada", code.lower().replace("-", " "))
    assert "Saving progress as **Ada**." in captions(other)
    third = sign_in(app_test(PAGES[0]), "Ada", "analytical")
    assert "Saving progress as **Ada**." in captions(third)
    assert get_store().count_rows("learners") == 1  # told, never merged


def test_a_learner_from_before_passphrases_is_claimed_with_a_code(app_test):
    old = get_store().learner("Old Timer")  # saved by an lrviz without passphrases
    get_store().mark_section_read(old.id, "step-size", "summary")
    at = sign_in(app_test(PAGES[2]), "old timer")
    assert any("before passphrases" in i.value for i in at.sidebar.info)
    assert at.sidebar.code[0].value
    assert get_store().name_status("Old Timer").state == "protected"
    assert get_store().all_sections_read(old.id) == {"step-size": {"summary"}}
    again = sign_in(app_test(PAGES[2]), "Old Timer")  # the next visitor is asked
    assert any("That name is taken" in w for w in warnings(again))


def test_sign_out_forgets_the_learner(app_test):
    at = sign_in(app_test(PAGES[1]), "Bea")
    at.sidebar.button(key="learner-sign-out").click().run()
    assert "Enter a name to save your progress." in captions(at)
    at.switch_page(PAGES[2]).run()
    assert any("Enter your display name" in i.value for i in at.info)


def test_names_are_shown_as_typed_never_as_markup(app_test):
    name = "*Eve* [x](http://e.ex) <b>"
    at = sign_in(app_test(PAGES[2]), name)
    caption = next(c for c in captions(at) if c.startswith("Saving progress as"))
    assert "[x](" not in caption and "<b>" not in caption and "\\*Eve\\*" in caption
    assert r"\[x\]\(http\:" in caption and r"\<b\>" in caption
    heading = next(m.value for m in at.markdown if m.value.startswith("Progress of"))
    assert "[x](" not in heading and "\\<b\\>" in heading


def test_busy_database_is_announced_and_the_page_still_renders(app_test, tmp_path,
                                                               monkeypatch):
    import sqlite3

    db = tmp_path / "busy.sqlite3"
    monkeypatch.setenv("LRVIZ_DB_URL", f"sqlite:///{db}")
    get_store()  # create it
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        at = sign_in(app_test(PAGES[2]), "Cleo")  # creating a learner must write
    finally:
        holder.close()
    assert not at.exception
    assert any("busy" in w.value and "retrying" in w.value for w in at.main.warning)
    assert any("Signing in failed" in e.value and "busy" in e.value for e in at.sidebar.error)
    sign_in(at, "Cleo")  # the lock is gone: the next try works
    assert "Saving progress as **Cleo**." in captions(at)


def test_disk_full_keeps_progress_viewable_with_a_message(app_test):
    from sqlalchemy import event

    at = sign_in(app_test(PAGES[2]), "Dan")
    store = get_store()
    dan = store.find_learner("Dan")
    store.mark_section_read(dan.id, "step-size", "summary")
    with store.engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar())
    event.listen(store.engine, "connect",
                 lambda con, _r: con.execute(f"PRAGMA max_page_count = {pages}"))
    store.engine.dispose()
    with pytest.raises(Exception, match="full"):
        for i in range(300):
            store.mark_section_read(dan.id, "step-size", f"section {i:04d} " * 8)
    at.run()
    assert not at.exception
    assert any("Saving is paused" in w and "full" in w for w in warnings(at))
    assert any("kept by the server" in i.value for i in at.sidebar.info)
    assert at.dataframe  # the progress table is still there


def test_busy_database_during_a_button_callback_is_announced(app_test):
    import sqlite3

    at = sign_in(app_test(PAGES[2]), "Flo", "flo-phrase")
    store = get_store()
    store.mark_section_read(store.find_learner("Flo").id, "step-size", "summary")
    at.run()
    at.button(key="progress-reset").click().run()
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        at.text_input(key="progress-reset-secret").set_value("flo-phrase")
        at.button(key="progress-reset-yes").click().run()
    finally:
        holder.close()
    assert not at.exception
    assert any("busy" in t.value and "retrying" in t.value for t in at.toast)
    assert any("Nothing was deleted" in e.value and "busy" in e.value for e in at.error)
    assert store.all_sections_read(store.find_learner("Flo").id) == {"step-size": {"summary"}}


def test_a_refused_passphrase_does_not_create_the_name_without_one(app_test):
    at = sign_in(app_test(PAGES[2]), "Gil", "abc")
    assert any("at least 6 characters" in w for w in warnings(at))
    at.run()  # any later rerun, with the box now empty
    assert get_store().name_status("Gil").state == "new"
    sign_in(at, "Gil", "longer-phrase")
    assert "Saving progress as **Gil**." in captions(at)
    assert get_store().sign_in("gil", "longer-phrase").name == "Gil"
