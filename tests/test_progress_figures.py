"""Progress charts: reviews bucketed per UTC day and rating; quiz scores against mastery."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from lrviz.figures.progress import review_counts, reviews_figure, scores_figure

NOW = datetime(2030, 6, 10, 15, tzinfo=UTC)


def test_reviews_are_counted_per_utc_day_and_rating():
    tokyo = timezone(timedelta(hours=9))
    reviews = [
        (NOW, 3), (NOW - timedelta(hours=1), 3), (NOW - timedelta(hours=2), 1),
        (datetime(2030, 6, 10, 8, tzinfo=tokyo), 4),  # 23:00 UTC on June 9
        (NOW - timedelta(days=40), 2),  # outside the window
    ]
    axis, counts = review_counts(reviews, NOW.date(), days=7)
    assert axis[0] == date(2030, 6, 4) and axis[-1] == date(2030, 6, 10)
    assert counts[3][-1] == 2 and counts[1][-1] == 1
    assert counts[4][-2] == 1
    assert sum(counts[2]) == 0
    assert sum(sum(c) for c in counts.values()) == 4


def test_reviews_figure_stacks_four_ratings_with_whole_ticks():
    fig = reviews_figure([(NOW, 3)] * 12 + [(NOW, 1)], NOW, days=30)
    assert [t.name for t in fig.data] == ["Again", "Hard", "Good", "Easy"]
    assert fig.layout.barmode == "stack"
    assert len(fig.data[0].x) == 30
    assert list(fig.data[2].y)[-1] == 12 and list(fig.data[0].y)[-1] == 1
    assert fig.layout.yaxis.dtick == 3  # ceil(13 / 5)
    assert reviews_figure([], NOW).layout.yaxis.dtick == 1


def test_scores_figure_one_trace_per_quiz_and_the_mastery_line():
    points = [(NOW - timedelta(days=2), 0.6, "Lesson 1"), (NOW - timedelta(days=1), 0.9,
                                                           "Lesson 1"),
              (NOW, 1.0, "Mixed review")]
    fig = scores_figure(points, 0.8)
    assert [t.name for t in fig.data] == ["Lesson 1", "Mixed review"]
    assert list(fig.data[0].y) == [60, 90]
    assert fig.layout.shapes[0].y0 == 80
