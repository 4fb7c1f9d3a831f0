"""The learner sidebar: a display name, remembered across pages, that owns saved progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrviz.learning.store import get_store

FIXTURE = str(Path(__file__).parent / "fixtures" / "practice_course")
PAGES = ["lrviz/ui/pages/quiz.py", "lrviz/ui/pages/flashcards.py", "lrviz/ui/pages/progress.py"]


@pytest.fixture(autouse=True)
def _fixture_course(monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", FIXTURE)


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
