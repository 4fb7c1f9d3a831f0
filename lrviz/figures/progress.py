"""Progress charts: flashcard reviews per day (stacked by rating) and quiz scores per attempt."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import plotly.graph_objects as go

from lrviz.figures.style import base_layout

RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
RATING_COLORS = {1: "#D55E00", 2: "#E69F00", 3: "#009E73", 4: "#0072B2"}  # Okabe–Ito


def review_counts(reviews: Sequence[tuple[datetime, int]], today: date,
                  days: int) -> tuple[list[date], dict[int, list[int]]]:
    """Reviews per UTC day for the ``days`` days ending ``today``, one count list per rating."""
    first = today - timedelta(days=days - 1)
    axis = [first + timedelta(days=k) for k in range(days)]
    counts = Counter((when.astimezone(UTC).date(), int(rating)) for when, rating in reviews)
    return axis, {r: [counts[(d, r)] for d in axis] for r in RATING_NAMES}


def reviews_figure(reviews: Sequence[tuple[datetime, int]], now: datetime, days: int = 30,
                   height: int = 320) -> go.Figure:
    """Bars: flashcard reviews per day over the last ``days`` days, stacked Again…Easy."""
    axis, per_rating = review_counts(reviews, now.astimezone(UTC).date(), days)
    fig = go.Figure()
    for rating, counts in per_rating.items():
        fig.add_trace(go.Bar(
            x=[d.isoformat() for d in axis], y=counts, name=RATING_NAMES[rating],
            marker_color=RATING_COLORS[rating],
            hovertemplate=f"%{{x}}: %{{y}} × {RATING_NAMES[rating]}<extra></extra>"))
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_xaxes(title=f"day (UTC), last {days} days", type="date")
    busiest = max((sum(day) for day in zip(*per_rating.values(), strict=True)), default=0)
    # Whole reviews only: a tick every ceil(max/5) reviews, never at fractions.
    fig.update_yaxes(title="reviews", rangemode="tozero", dtick=max(1, math.ceil(busiest / 5)))
    return base_layout(fig, height=height)


DAY_MS = 86_400_000  # one day on a Plotly date axis (milliseconds)
SHORT_SPAN = timedelta(days=7)  # below this, Plotly's own ticks go down to hours or milliseconds


def _utc_text(when: datetime) -> str:
    """A UTC time as Plotly reads a date (no offset, which Plotly would ignore anyway)."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def day_window(times: Sequence[datetime]) -> tuple[str, str] | None:
    """An x range of whole UTC days around ``times`` when they span less than a week.

    From the midnight before the first day's midnight to the midnight after the day following
    the last: one attempt (or several in one session) gets three labelled days around it
    instead of an autorange a few milliseconds wide. None when ``times`` is empty or spans a
    week or more (Plotly's own day/week ticks are right then).
    """
    if not times:
        return None
    first = min(t.astimezone(UTC) for t in times)
    last = max(t.astimezone(UTC) for t in times)
    if last - first >= SHORT_SPAN:
        return None
    start = datetime.combine(first.date() - timedelta(days=1), datetime.min.time(), UTC)
    end = datetime.combine(last.date() + timedelta(days=2), datetime.min.time(), UTC)
    return _utc_text(start), _utc_text(end)


def scores_figure(attempts: Sequence[tuple[datetime, float, str]], threshold: float,
                  height: int = 300) -> go.Figure:
    """Markers: the score of every finished quiz attempt over time, one trace per quiz."""
    fig = go.Figure()
    for name in dict.fromkeys(label for _, _, label in attempts):
        mine = [(when, score) for when, score, label in attempts if label == name]
        fig.add_trace(go.Scatter(
            x=[_utc_text(w) for w, _ in mine], y=[100 * s for _, s in mine],
            mode="lines+markers", name=name,
            hovertemplate=f"{name}<br>%{{x|%Y-%m-%d %H:%M}} UTC: %{{y:.0f}} %<extra></extra>"))
    fig.add_hline(y=100 * threshold, line_dash="dash", line_color="#555",
                  annotation_text=f"mastery {threshold:.0%}", annotation_position="top left")
    fig.update_yaxes(title="score (%)", range=[0, 105])
    fig.update_xaxes(title="finished at (UTC)", type="date")
    window = day_window([when for when, _, _ in attempts])
    if window is not None:  # day ticks, each label centred on its day
        fig.update_xaxes(range=list(window), dtick=DAY_MS, tickformat="%b %d",
                         ticklabelmode="period")
    return base_layout(fig, height=height)
