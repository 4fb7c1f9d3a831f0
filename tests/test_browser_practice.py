"""In Chromium: answer a quiz question and review a flashcard, reload, restart: progress stays.

This test runs its own app server on the fixture course (so it does not depend on the lesson
texts) and restarts it on the same database file half-way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import free_port, open_page, serve_app, wait_idle

FIXTURE = str(Path(__file__).parent / "fixtures" / "practice_course")
NAME_BOX = "[data-testid='stSidebar'] input[aria-label='Your display name']"


def serve(db: Path, log: Path, port: int):
    """The app on the fixture course with progress in ``db``."""
    return serve_app(log, port, {"LRVIZ_DB_URL": f"sqlite:///{db}", "LRVIZ_LESSONS_DIR": FIXTURE})


PASS_BOX = "[data-testid='stSidebar'] input[aria-label='Passphrase or recovery code']"


def sign_in(pg, name: str, passphrase: str = "ada-passphrase") -> None:
    """Every page load is a new session: the name needs its passphrase (set the first time)."""
    pg.locator(PASS_BOX).fill(passphrase)
    box = pg.locator(NAME_BOX)
    box.fill(name)
    box.press("Enter")
    wait_idle(pg)
    pg.get_by_text(f"Saving progress as {name}").wait_for(timeout=30_000)


def metric(pg, label: str) -> str:
    block = pg.locator("[data-testid='stMetric']", has_text=label)
    return block.locator("[data-testid='stMetricValue']").inner_text().strip()


def no_errors(pg) -> None:
    assert pg.locator("[data-testid='stException']").count() == 0


@pytest.mark.browser
def test_quiz_and_flashcard_progress_survive_reload_and_restart(browser, tmp_path):
    db, log, port = tmp_path / "progress.sqlite3", tmp_path / "server.log", free_port()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    try:
        with serve(db, log, port) as base:
            pg.base_url = base
            open_page(pg, "/quiz")
            sign_in(pg, "Ada")
            pg.get_by_role("button", name="Start the quiz").click()
            wait_idle(pg)
            pg.get_by_text("The gradient", exact=True).click()
            pg.get_by_role("button", name="Check answer").click()
            wait_idle(pg)
            pg.get_by_text("Correct. Yes: it scales the gradient.").wait_for(timeout=30_000)
            no_errors(pg)

            open_page(pg, "/flashcards")
            sign_in(pg, "Ada")
            assert metric(pg, "New today") == "10"
            pg.get_by_role("button", name="Show answer").click()
            wait_idle(pg)
            pg.get_by_role("button", name="Good · 10 min").click()
            due = datetime.now(UTC) + timedelta(minutes=10)  # the server runs on the real clock
            wait_idle(pg)
            pg.get_by_text("next due in 10 min").wait_for(timeout=30_000)
            assert metric(pg, "New today") == "9"

            pg.reload()  # a new session: nothing is kept in the browser, all in the database
            wait_idle(pg)
            sign_in(pg, "Ada")
            assert metric(pg, "New today") == "9"
            no_errors(pg)

        with serve(db, log, port) as base:  # the server restarts on the same database
            open_page(pg, "/progress")
            sign_in(pg, "ada")
            assert metric(pg, "Cards started") == "1 of 16"
            tomorrow = datetime.combine(datetime.now(UTC).date() + timedelta(days=1),
                                        datetime.min.time(), UTC)
            later = "1" if due < tomorrow else "0"  # 10 min from the rating may be tomorrow
            assert (metric(pg, "Cards due now"), metric(pg, "Due later today")) == ("0", later)
            pg.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
            good = pg.evaluate("""() => {
                const plot = [...document.querySelectorAll('.js-plotly-plot')]
                    .find(p => p.layout && p.layout.barmode === 'stack');
                const trace = plot.data.find(t => t.name === 'Good');
                return Array.from(trace.y).reduce((a, b) => a + b, 0);
            }""")
            assert good == 1

            open_page(pg, "/quiz")
            sign_in(pg, "Ada")
            pg.get_by_role("button", name="Resume your unfinished attempt (1 of 10 answered)") \
                .wait_for(timeout=30_000)
            no_errors(pg)
    finally:
        context.close()
