"""`lrviz.ui.state.scrub_url` without Streamlit internals: a link with values the page cannot use
is cleaned, the run starts again from the cleaned URL (so widgets bound to the URL never see
``inf`` or a repeated key), and the page still says what was wrong with the link it was given,
once: the notices survive the restart, and a dismissed notice does not come back."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrviz.ui import state

LAB = "lrviz/ui/pages/lab.py"
ROOT = Path(__file__).resolve().parents[1]


def values(at, key: str) -> list[str]:
    """Every value of ``key`` in the page's URL (AppTest keeps a list or a single string)."""
    value = at.query_params.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def warnings(at) -> str:
    return " ".join(w.value for w in at.warning)


def test_a_bad_link_is_cleaned_the_widgets_take_the_parsed_values_and_the_notices_stay(
        app_test):
    at = app_test(LAB, query={"seed": "inf", "noise": "0.5", "steps": ["100", "200"],
                              "T_0": "1e309", "schedule": "cosine_restarts"})
    assert not at.exception, [e.value for e in at.exception]
    # the URL as the page uses it: the unusable keys gone, the repeated key reduced
    assert values(at, "seed") == [] and values(at, "T_0") == []
    assert values(at, "steps") == ["200"]
    # the widgets show the default (seed, T_0) and the last value given (steps)
    assert at.number_input(key="seed").value == 0
    assert at.number_input(key="T_0").value == 50
    assert at.slider(key="steps").value == 200
    # the page still names every problem of the link it was given
    text = warnings(at)
    for key in ("seed=", "T_0=", "'steps' was given 2 times"):
        assert key in text, text
    assert state.SCRUBBED_KEY not in at.session_state  # the replay was used up

    at.run()  # a later run keeps the notices until they are dismissed ...
    assert "seed=" in warnings(at)
    at.button(key="lab_dismiss").click().run()
    assert "seed=" not in warnings(at)
    at.run()  # ... and then they stay away: the old link is not parsed again
    assert "seed=" not in warnings(at) and not at.exception


def test_a_renamed_preset_and_a_bad_value_are_both_named_after_the_restart(app_test):
    at = app_test(LAB, query={"preset": "edge-of-stability", "seed": "-inf"})
    assert not at.exception, [e.value for e in at.exception]
    text = warnings(at)
    assert "'edge-of-stability' is now called 'stability-limit'" in text
    assert "seed=" in text
    assert values(at, "preset") == ["stability-limit"] and values(at, "seed") == []


@pytest.mark.parametrize(("page", "query", "named"), [
    ("lrviz/ui/pages/quiz.py", {"lesson": ["lr-basics", "momentum"]}, "'lesson' was given 2"),
    ("lrviz/ui/pages/glossary.py", {"zz": "1"}, "'zz'"),
])
def test_a_plain_page_shows_its_notice_once_after_cleaning_the_link(app_test, page, query,
                                                                     named):
    at = app_test(page, query=query)
    assert not at.exception, [e.value for e in at.exception]
    assert named in warnings(at), warnings(at)
    assert values(at, "zz") == [] and len(values(at, "lesson")) <= 1
    at.run()  # the notice was for the link as given; the cleaned URL has nothing to report
    assert named not in warnings(at)


def test_no_ui_module_reaches_into_streamlits_private_query_state():
    """The widgets' URL snapshot is Streamlit's private state: the scrub goes through
    ``st.query_params`` and ``st.rerun`` only."""
    for path in (ROOT / "lrviz").rglob("*.py"):
        assert "_initial_query_params" not in path.read_text(), path


@pytest.mark.browser
def test_in_a_browser_a_bad_link_is_cleaned_once_and_named(page):
    """The restart happens in the real server too: the address bar ends clean, the widgets
    show the parsed values, the notices name the problems, and the page settles (no loop)."""
    from helpers import open_page

    open_page(page, "/lab?seed=inf&noise=0.5&steps=100&steps=200&zz=1")
    page.wait_for_selector("[data-testid='stPlotlyChart']", timeout=90_000)
    page.wait_for_function("() => !location.search.includes('seed') && "
                           "!location.search.includes('zz')", timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert "steps=200" in page.url and "steps=100" not in page.url
    alerts = " ".join(page.locator("[data-testid='stAlert']").all_inner_texts())
    assert "seed=" in alerts and "'steps' was given 2 times" in alerts and "'zz'" in alerts
    assert page.get_by_label("Seed").first.input_value() == "0"
    page.wait_for_timeout(1500)
    assert page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").count() == 1
