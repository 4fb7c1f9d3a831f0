"""FSRS integration: intervals, the due queue, the new-card limit, state through the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from fsrs import Card, State

from lrviz.learning import srs
from lrviz.learning.content import load_course
from lrviz.learning.store import CardState, ProgressStore

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def _walk(ratings, start=T0):
    """Review one card with ``ratings``, each exactly when it falls due; the intervals."""
    card_json, now, intervals = None, start, []
    for rating in ratings:
        outcome = srs.review("c", card_json, rating, now)
        intervals.append(outcome.interval)
        card_json, now = outcome.card_json, outcome.due
    return intervals, card_json


def test_good_on_a_new_card_follows_the_learning_steps():
    intervals, _ = _walk([3])
    assert intervals == [timedelta(minutes=10)]  # fsrs' second learning step
    again, _ = _walk([1])
    assert again == [timedelta(minutes=1)]


def test_intervals_grow_with_good():
    intervals, card_json = _walk([3] * 7)
    graduated = intervals[1:]  # after the learning step, every Good lengthens the interval
    assert all(b > a for a, b in pairwise(graduated))
    assert graduated[0] >= timedelta(days=1)
    assert graduated[-1] > timedelta(days=60)
    assert Card.from_json(card_json).state == State.Review


def test_again_drops_the_interval():
    before, card_json = _walk([3] * 5)
    card = Card.from_json(card_json)
    lapse = srs.review("c", card_json, 1, card.due)
    assert lapse.interval < timedelta(hours=1) < before[-1]
    assert Card.from_json(lapse.card_json).state == State.Relearning
    # and the stability it rebuilds from is lower than before the lapse
    recovered = srs.review("c", lapse.card_json, 3, lapse.due)
    assert recovered.interval < before[-1]


def test_preview_orders_the_four_buttons():
    _, card_json = _walk([3, 3])
    now = Card.from_json(card_json).due
    due = srs.preview("c", card_json, now)
    assert due[1] < due[2] < due[3] < due[4]


def test_review_rejects_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        srs.review("c", None, 3, datetime(2030, 1, 1, 9))


def test_fsrs_ids_are_stable_and_distinct():
    assert srs.fsrs_card_id("fx-bound") == srs.fsrs_card_id("fx-bound")
    assert srs.fsrs_card_id("fx-bound") != srs.fsrs_card_id("fx-best")


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(seconds=20), "1 min"), (timedelta(minutes=10), "10 min"),
    (timedelta(hours=5), "5 h"), (timedelta(days=1), "1 day"), (timedelta(days=3), "3 days"),
    (timedelta(days=61), "2.0 months"), (timedelta(days=800), "2.2 years"),
])
def test_describe_interval(delta, text):
    assert srs.describe_interval(delta) == text


# --- the queue --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cards():
    course = load_course("tests/fixtures/practice_course")
    return [(lesson.id, card) for lesson, card in course.flashcards()]


def _state(card_id, due, introduced=T0 - timedelta(days=10)):
    return CardState(card_id, "step-size", "{}", due, introduced, introduced)


def test_queue_due_first_most_overdue_first_then_new(cards):
    states = {
        cards[0][1].id: _state(cards[0][1].id, T0 - timedelta(hours=1)),
        cards[1][1].id: _state(cards[1][1].id, T0 - timedelta(days=2)),
        cards[2][1].id: _state(cards[2][1].id, T0 + timedelta(hours=3)),
    }
    queue = srs.due_queue(cards, states, T0, new_per_day=5)
    assert [r.id for r in queue.due] == [cards[1][1].id, cards[0][1].id]
    assert [r.id for r in queue.new] == [c.id for _, c in cards[3:8]]  # course order
    assert queue.new_waiting == len(cards) - 3 - 5
    assert queue.next_due == T0 + timedelta(hours=3)
    assert len(queue) == 7 and queue.cards[0].id == cards[1][1].id


def test_new_card_limit_counts_cards_started_today(cards):
    today = T0.replace(hour=1)
    yesterday = T0 - timedelta(days=1)
    states = {c.id: _state(c.id, T0 + timedelta(days=1), introduced=today)
              for _, c in cards[:3]}
    states[cards[3][1].id] = _state(cards[3][1].id, T0 + timedelta(days=1), yesterday)
    queue = srs.due_queue(cards, states, T0, new_per_day=4)
    assert queue.new_seen_today == 3
    assert len(queue.new) == 1  # 4 per day, 3 already started today
    tomorrow = srs.due_queue(cards, states, T0 + timedelta(days=1, hours=-8), new_per_day=4)
    assert len(tomorrow.new) == 4  # a new UTC day: a fresh allowance
    assert len(srs.due_queue(cards, states, T0, new_per_day=0).new) == 0


def test_due_today_uses_the_utc_day():
    states = [_state("a", T0 - timedelta(days=3)), _state("b", T0.replace(hour=23)),
              _state("c", T0 + timedelta(days=1))]
    assert srs.due_today(states, T0) == 2


def test_card_state_round_trips_through_the_store(tmp_path, cards):
    store = ProgressStore(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    ada = store.learner("Ada")
    now = T0
    card_id, lesson_id = cards[0][1].id, cards[0][0]
    for rating in (3, 3, 3):
        saved = store.card_states(ada.id).get(card_id)
        outcome = srs.review(card_id, saved.card_json if saved else None, rating, now)
        store.save_review(ada.id, card_id, lesson_id, card_json=outcome.card_json,
                          due=outcome.due, rating=rating, reviewed_at=now,
                          log_json=outcome.log_json)
        now = outcome.due
    store.close()
    reopened = ProgressStore(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    state = reopened.card_states(ada.id)[card_id]
    card = Card.from_json(state.card_json)
    assert card.due == state.due == now
    assert card.state == State.Review and card.stability > 1
    assert state.introduced_at == T0
    queue = srs.due_queue(cards, reopened.card_states(ada.id), now + timedelta(seconds=1), 0)
    assert [r.id for r in queue.due] == [card_id]
