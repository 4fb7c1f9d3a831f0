"""The progress page (AppTest): it reflects quiz answers and card reviews; export; reset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_quiz_page import answer_all

from lrviz.learning.store import get_store
from lrviz.ui.practice.progress import _export_json

FIXTURE = str(Path(__file__).parent / "fixtures" / "practice_course")
QUIZ = "lrviz/ui/pages/quiz.py"
CARDS = "lrviz/ui/pages/flashcards.py"
PROGRESS = "lrviz/ui/pages/progress.py"


@pytest.fixture(autouse=True)
def _fixture_course(monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", FIXTURE)


# Every test runs on SQLite and on a real PostgreSQL (see conftest), except these, which are
# about SQLite files.
SQLITE_ONLY = {
    "test_no_name_and_damaged_database",
}


@pytest.fixture(autouse=True)
def _backend(request, store_url, monkeypatch):
    if store_url.startswith("postgresql") and request.node.originalname in SQLITE_ONLY:
        pytest.skip("about SQLite files, which PostgreSQL does not have")
    monkeypatch.setenv("LRVIZ_DB_URL", store_url)


def table(at) -> dict[str, dict]:
    frame = at.dataframe[0].value
    return {row["Lesson"]: row for row in frame.to_dict("records")}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_progress_reflects_quiz_and_flashcards(app_test, monkeypatch):
    # noon: the two cards come due 10 min and 1 min later, the same day (UTC); on the real
    # clock this test failed in the ten minutes before midnight
    from datetime import UTC, datetime

    from lrviz.learning import srs

    monkeypatch.setattr(srs, "utc_now", lambda: datetime(2030, 6, 10, 12, 0, tzinfo=UTC))
    at = app_test(QUIZ)
    at.sidebar.text_input(key="learner").set_value("Ada").run()
    answer_all(at, "step-size")  # a full attempt, all right: 100 %, mastered
    at.switch_page(CARDS).run()  # the name follows the learner to the next page
    for rating in (3, 1):
        at.button(key="fc-show").click().run()
        at.button(key=f"fc-rate-{rating}").click().run()
    at.switch_page(PROGRESS).run()
    assert not at.exception
    assert "Progress of **Ada**." in [m.value for m in at.markdown]
    rows = table(at)
    basics = rows["1. Fixture: step size"]
    assert basics["Quiz best"] == "100%" and basics["Attempts"] == 1
    assert basics["Mastery"] == "mastered, confirm it in a mixed review"
    assert basics["Cards started"] == "2 of 8"
    assert basics["Cards due now"] == 0  # due in 10 min and 1 min: later today
    assert basics["Due later today"] == 2
    assert basics["Sections read"] == "0 of 7"
    other = rows["2. Fixture: momentum"]
    assert other["Quiz best"] == "—" and other["Mastery"] == "not attempted"
    assert metrics(at) == {"Lessons mastered": "1 of 2", "Cards due now": "0",
                           "Due later today": "2", "Cards started": "2 of 16"}
    charts = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    assert len(charts) == 2
    reviews = next(s for s in charts.values() if s["layout"].get("barmode") == "stack")
    by_name = {t["name"]: t["y"] for t in reviews["data"]}

    def total(name):
        y = by_name[name]
        return sum(y) if isinstance(y, list) else y  # plotly may pack arrays

    assert total("Good") == 1 and total("Again") == 1 and total("Hard") == 0


def test_sections_read_on_the_lesson_pages_show_up(app_test):
    store = get_store()
    bo = store.learner("Bo")
    for section in ("summary", "glossary", "listen"):
        store.mark_section_read(bo.id, "momentum-fx", section)
    at = app_test(PROGRESS)
    at.sidebar.text_input(key="learner").set_value("Bo").run()
    assert table(at)["2. Fixture: momentum"]["Sections read"] == "3 of 7"


def test_export_contains_everything(app_test):
    at = app_test(QUIZ)
    at.sidebar.text_input(key="learner").set_value("Cy").run()
    answer_all(at, "momentum-fx", right=False)
    at.switch_page(PROGRESS).run()
    assert [b for b in at.get("download_button")]
    store = get_store()
    data = json.loads(_export_json(store, store.find_learner("Cy")))
    assert data["learner"]["name"] == "Cy" and data["format"] == "lrviz-progress"
    assert len(data["quiz_answers"]) == 10
    assert data["quiz_attempts"][0]["score"] == 0.0


def test_reset_needs_confirmation(app_test):
    store = get_store()
    dee = store.learner("Dee")
    store.mark_section_read(dee.id, "step-size", "summary")
    at = app_test(PROGRESS)
    at.sidebar.text_input(key="learner").set_value("Dee").run()
    at.button(key="progress-reset").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key="progress-reset-no").click().run()  # cancel: nothing happens
    assert store.all_sections_read(dee.id) == {"step-size": {"summary"}}
    assert table(at)["1. Fixture: step size"]["Sections read"] == "1 of 7"
    code = at.sidebar.code[0].value  # Dee predates passphrases: signing in issued a code
    at.button(key="progress-reset").click().run()
    at.text_input(key="progress-reset-secret").set_value("not-my-code")
    at.button(key="progress-reset-yes").click().run()
    assert any("Nothing was deleted" in e.value for e in at.error)
    assert store.all_sections_read(dee.id) == {"step-size": {"summary"}}
    at.text_input(key="progress-reset-secret").set_value(code.lower())  # case is forgiven
    at.button(key="progress-reset-yes").click().run()
    assert any("Your progress was reset (1 records deleted)" in s.value for s in at.success)
    assert store.all_sections_read(dee.id) == {}
    assert table(at)["1. Fixture: step size"]["Sections read"] == "0 of 7"


def test_no_name_and_damaged_database(app_test, monkeypatch, tmp_path):
    at = app_test(PROGRESS)
    assert any("Enter your display name" in i.value for i in at.info)
    db = tmp_path / "broken.sqlite3"
    db.write_bytes(b"definitely not sqlite" * 100)
    monkeypatch.setenv("LRVIZ_DB_URL", str(db))
    broken = app_test(PROGRESS)
    broken.sidebar.text_input(key="learner").set_value("Ada").run()
    assert not broken.exception
    assert any("damaged or is not an lrviz database" in e.value for e in broken.error)
    assert db.read_bytes() == b"definitely not sqlite" * 100
