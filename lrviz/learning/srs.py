"""Flashcard scheduling with FSRS (the ``fsrs`` package): ratings, due queue, new-card limit.

A card's memory state is an ``fsrs.Card`` serialised with ``to_json``; the store keeps it under
the flashcard's stable id. "Today" is the UTC calendar day: the new-card limit counts cards first
reviewed since midnight UTC. A reviewed card is "due now" once its due time has passed (the
Flashcards page offers it) and "due later today" when it comes due before the next midnight
UTC; every page counts with `is_due` and `due_counts`, so their numbers agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler

from lrviz.learning.schema import Flashcard
from lrviz.learning.store import CardState

DEFAULT_NEW_PER_DAY = 10
RATINGS: tuple[Rating, ...] = (Rating.Again, Rating.Hard, Rating.Good, Rating.Easy)
RATING_LABELS: dict[int, str] = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}

# No fuzzing: the interval printed on a button is exactly the one the learner gets.
# (Fuzz spreads review load in decks of thousands; a course of ~50 cards does not need it.)
SCHEDULER = Scheduler(enable_fuzzing=False)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("flashcard times must be timezone-aware (UTC)")
    return moment.astimezone(UTC)


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Start and end of the UTC day containing ``now``."""
    start = _aware(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def fsrs_card_id(card_id: str) -> int:
    """A stable integer id for fsrs (its default is a timestamp and sleeps 1 ms)."""
    return int.from_bytes(hashlib.sha1(card_id.encode()).digest()[:6], "big")


def load_card(card_id: str, card_json: str | None) -> Card:
    """The fsrs card for a flashcard: saved state, or a fresh card when never reviewed."""
    if card_json:
        return Card.from_json(card_json)
    return Card(card_id=fsrs_card_id(card_id), due=datetime(2000, 1, 1, tzinfo=UTC))


@dataclass(frozen=True)
class ReviewOutcome:
    card_json: str
    log_json: str
    rating: int
    reviewed_at: datetime
    due: datetime

    @property
    def interval(self) -> timedelta:
        return self.due - self.reviewed_at


def review(card_id: str, card_json: str | None, rating: Rating | int,
           now: datetime) -> ReviewOutcome:
    """Apply one rating (1 Again … 4 Easy) at ``now``; returns the new state and its log."""
    rating = Rating(int(rating))
    now = _aware(now)
    card, log = SCHEDULER.review_card(load_card(card_id, card_json), rating, review_datetime=now)
    return ReviewOutcome(card.to_json(), log.to_json(), int(rating), now, card.due)


def preview(card_id: str, card_json: str | None, now: datetime) -> dict[int, datetime]:
    """When the card would next be due for each rating (shown on the rating buttons)."""
    return {int(r): review(card_id, card_json, r, now).due for r in RATINGS}


def describe_interval(delta: timedelta) -> str:
    """'1 min', '10 min', '5 h', '3 days', '2.1 months', '1.3 years'."""
    seconds = max(0.0, delta.total_seconds())
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 86400:
        return f"{round(seconds / 3600)} h"
    days = seconds / 86400
    if days < 30.5:
        count = round(days)
        return f"{count} day" + ("s" if count != 1 else "")
    if days < 365:
        return f"{days / 30.44:.1f} months"
    return f"{days / 365.25:.1f} years"


@dataclass(frozen=True)
class CardRef:
    lesson_id: str
    card: Flashcard
    state: CardState | None  # None: never reviewed (a new card)

    @property
    def id(self) -> str:
        return self.card.id


@dataclass(frozen=True)
class Queue:
    """What to review now: due cards first (most overdue first), then today's new cards."""

    due: tuple[CardRef, ...]
    new: tuple[CardRef, ...]
    new_seen_today: int
    new_per_day: int
    new_waiting: int  # new cards beyond today's limit
    next_due: datetime | None  # the earliest due time among cards not yet due

    @property
    def cards(self) -> tuple[CardRef, ...]:
        return self.due + self.new

    def __len__(self) -> int:
        return len(self.due) + len(self.new)


def due_queue(cards: Iterable[tuple[str, Flashcard]], states: Mapping[str, CardState],
              now: datetime, new_per_day: int = DEFAULT_NEW_PER_DAY) -> Queue:
    """The review queue over ``cards`` ((lesson_id, card) in course order) at ``now``.

    New cards are offered in course order until ``new_per_day`` cards have been introduced
    today (counted over all cards with saved state, so switching lessons cannot bypass it).
    """
    now = _aware(now)
    start, _ = day_bounds(now)
    new_seen_today = sum(1 for s in states.values() if s.introduced_at >= start)
    allowance = max(0, int(new_per_day) - new_seen_today)
    due: list[CardRef] = []
    new: list[CardRef] = []
    waiting = 0
    later: list[datetime] = []
    for lesson_id, card in cards:
        state = states.get(card.id)
        if state is None:
            if len(new) < allowance:
                new.append(CardRef(lesson_id, card, None))
            else:
                waiting += 1
        elif is_due(state, now):
            due.append(CardRef(lesson_id, card, state))
        else:
            later.append(state.due)
    due.sort(key=lambda ref: ref.state.due)
    return Queue(tuple(due), tuple(new), new_seen_today, int(new_per_day), waiting,
                 min(later) if later else None)


def is_due(state: CardState, now: datetime) -> bool:
    """A reviewed card is due now once its due time has passed."""
    return state.due <= _aware(now)


@dataclass(frozen=True)
class DueCounts:
    """Reviewed cards due now (overdue included) and due later today (before midnight UTC)."""

    now: int
    later_today: int


def due_counts(states: Iterable[CardState], now: datetime) -> DueCounts:
    """How many of ``states`` are due now and how many come due later today (UTC)."""
    _, end = day_bounds(now)
    states = list(states)
    due_now = sum(1 for s in states if is_due(s, now))
    return DueCounts(due_now, sum(1 for s in states if not is_due(s, now) and s.due < end))


def due_today(states: Iterable[CardState], now: datetime) -> int:
    """Reviewed cards due before the end of today (UTC): due now plus due later today."""
    counts = due_counts(states, now)
    return counts.now + counts.later_today
