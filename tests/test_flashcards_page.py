"""The flashcards page (AppTest): rate cards, watch the queue shrink, limits, scope, export."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lrviz.learning import srs
from lrviz.learning.store import get_store

FIXTURE = str(Path(__file__).parent / "fixtures" / "practice_course")
PAGE = "lrviz/ui/pages/flashcards.py"


@pytest.fixture(autouse=True)
def _fixture_course(monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", FIXTURE)


@pytest.fixture
def cards_page(app_test):
    def make(name: str | None = "Ada", query: dict | None = None):
        at = app_test(PAGE, query=query)
        if name:
            at.sidebar.text_input(key="learner").set_value(name).run()
        assert not at.exception
        return at
    return make


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def front(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("### ")).removeprefix("### ")


def rate(at, rating: int) -> None:
    at.button(key="fc-show").click().run()
    at.button(key=f"fc-rate-{rating}").click().run()
    assert not at.exception


def test_rating_new_cards_shrinks_the_queue_and_shows_the_next_due_time(cards_page):
    at = cards_page()
    assert metrics(at) == {"Due now": "0", "Due later today": "0", "New today": "10",
                           "New, waiting": "6"}
    assert front(at) == "What does the learning rate multiply?"
    assert not [b for b in at.button if b.key == "fc-rate-3"]  # answer hidden first
    at.button(key="fc-show").click().run()
    assert any(m.value == "The gradient." for m in at.markdown)
    labels = [b.label for b in at.button if (b.key or "").startswith("fc-rate-")]
    assert labels == ["Again · 1 min", "Hard · 6 min", "Good · 10 min", "Easy · 8 days"]
    at.button(key="fc-rate-3").click().run()
    assert metrics(at)["New today"] == "9"
    assert "rated **Good**: next due in **10 min**" in at.success[0].value
    assert front(at) == "GD on a quadratic is stable when?"
    rate(at, 1)
    assert "rated **Again**: next due in **1 min**" in at.success[0].value
    assert metrics(at)["New today"] == "8"
    store = get_store()
    ada = store.find_learner("Ada")
    assert [r.rating for r in store.reviews(ada.id)] == [3, 1]
    assert set(store.card_states(ada.id)) == {"fx-lr-what", "fx-bound"}


def test_due_card_comes_first_and_leaves_the_queue_when_rated(cards_page):
    store = get_store()
    ada = store.learner("Ada")
    past = srs.utc_now() - timedelta(days=3)
    first = srs.review("fx-nan", None, 3, past)  # due 10 minutes after `past`
    store.save_review(ada.id, "fx-nan", "step-size", card_json=first.card_json, due=first.due,
                      rating=3, reviewed_at=past, log_json=first.log_json)
    at = cards_page("ada")  # names are case-insensitive
    assert metrics(at)["Due now"] == "1"
    assert front(at) == "First thing to try when the loss is NaN?"
    rate(at, 3)
    assert metrics(at)["Due now"] == "0"
    message = at.success[0].value
    assert "rated **Good**: next due in **" in message and "day" in message
    assert store.card_states(ada.id)["fx-nan"].due > srs.utc_now() + timedelta(days=1)


def test_new_cards_per_day_limit_is_saved_and_respected(cards_page):
    at = cards_page()
    at.sidebar.number_input(key=f"fc-new-per-day-{get_store().find_learner('Ada').id}") \
        .set_value(2).run()
    assert metrics(at)["New today"] == "2"
    rate(at, 3)
    rate(at, 4)
    shown = metrics(at)
    shown.pop("Due later today")  # 1, unless 10 min from now is already tomorrow (UTC)
    assert shown == {"Due now": "0", "New today": "0", "New, waiting": "14"}
    assert any("All caught up for now. The next card is due in 10 min" in s.value
               for s in at.success)
    code = at.sidebar.code[0].value  # the recovery code shown when "Ada" was created
    again = cards_page(name=None)  # a new session remembers the limit and what was done today
    again.sidebar.text_input(key="learner").set_value("Ada")
    again.sidebar.text_input(key="learner_secret").set_value(code)
    again.run()
    assert metrics(again)["New today"] == "0"


def test_deck_from_the_url_limits_the_queue_to_one_lesson(cards_page):
    at = cards_page(query={"deck": "momentum-fx"})
    assert metrics(at) == {"Due now": "0", "Due later today": "0", "New today": "8",
                           "New, waiting": "0"}
    assert front(at) == "What does momentum accumulate?"
    bad = cards_page(name=None, query={"deck": "no-such-deck"})
    assert any("does not exist" in w.value for w in bad.warning)  # shown when the link opens
    bad.sidebar.text_input(key="learner").set_value("Bea").run()
    assert metrics(bad)["New today"] == "10"  # all lessons, the default


def test_without_a_name_cards_can_be_browsed_and_exported(cards_page):
    at = cards_page(name=None)
    assert any("Enter your display name" in i.value for i in at.info)
    assert len(at.expander) == 1 + 16  # the export panel and one per card
    downloads = at.get("download_button")
    assert len(downloads) == 2
    assert not at.metric


def test_damaged_database_gives_a_message_and_no_crash(cards_page, monkeypatch, tmp_path):
    db = tmp_path / "broken.sqlite3"
    db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)  # a header, then garbage
    monkeypatch.setenv("LRVIZ_DB_URL", f"sqlite:///{db}")
    at = cards_page()
    assert any("cannot be loaded or saved" in e.value for e in at.error)
    assert len(at.expander) == 1 + 16  # still browsable
    assert db.read_bytes() == b"SQLite format 3\x00" + b"\xff" * 5000
