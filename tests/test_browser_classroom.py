"""The live class poll in real browsers: a teacher on a projector-sized screen opens a class,
three students join from phone-sized screens, predict, and the projector's distribution
updates by itself (no click) and then reveals the simulated run beside it."""

from __future__ import annotations

import pytest
from helpers import open_page, wait_idle
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SLOW = 120_000  # a loaded CI machine runs JAX compiles next to three browsers
BARS = ("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".filter(g => g.data && g.data[0] && g.data[0].type === 'bar')"
        ".map(g => Array.from(g.data[0].x))")


def _teacher_opens_class(page) -> str:
    open_page(page, "/class", SLOW)
    page.get_by_text("Teacher", exact=True).click()
    wait_idle(page, SLOW)
    page.get_by_label("Class name").fill("Period 3 <b>ML</b>")
    page.get_by_label("Teacher passcode (4+ characters)").fill("maple-42")
    page.get_by_role("button", name="Open class").click()
    banner = page.locator("[data-testid='stText']").filter(has_text="— class code")
    banner.first.wait_for(timeout=SLOW)
    header = banner.first.inner_text()
    assert "Period 3 <b>ML</b>" in header  # the title is shown as typed, never as markup
    return header.rsplit("class code", 1)[1].strip()


def _student_joins_and_predicts(browser, base: str, code: str, name: str, choice: str):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(SLOW)
    page = context.new_page()
    page.base_url = base
    open_page(page, f"/class?code={code}", SLOW)
    expect(page.get_by_label("Class code")).to_have_value(code, timeout=SLOW)  # prefilled
    page.get_by_label("Your name (your teacher sees it; classmates do not)").fill(name)
    page.get_by_role("button", name="Join").click()
    page.get_by_text(choice, exact=True).first.wait_for(timeout=SLOW)
    page.get_by_text(choice, exact=True).first.click()
    page.get_by_role("button", name="Send my prediction").click()
    page.get_by_text("You can change it until").wait_for(timeout=SLOW)
    return page


def test_class_poll_from_phones_to_projector(browser, app_server):
    projector = browser.new_context(viewport={"width": 853, "height": 480},
                                    device_scale_factor=1.5)  # 1280x720 at 150 %
    projector.set_default_timeout(SLOW)
    teacher = projector.new_page()
    teacher.base_url = app_server
    students = []
    try:
        code = _teacher_opens_class(teacher)
        picker = teacher.get_by_label("Question or preset")
        picker.click()
        picker.fill("Divergence: the loss explodes")  # the list filters as one types
        teacher.get_by_role("option").filter(has_text="Divergence: the loss explodes").click()
        teacher.get_by_role("button", name="Launch for the class").click()
        teacher.get_by_text("Launched").wait_for(timeout=SLOW)
        for name, choice in [("Ada", "diverged"), ("Bob", "converged"), ("Cy", "diverged")]:
            students.append(_student_joins_and_predicts(browser, app_server, code, name,
                                                        choice))
        teacher.get_by_role("tab", name="Live results").click()
        # the projector refreshes by itself: no click after the students answered
        teacher.wait_for_function(f"() => ({BARS})().some(x => x.reduce((a, b) => a + b, 0)"
                                  " === 3)", timeout=SLOW)
        bars = teacher.evaluate(BARS)[0]
        assert sorted(bars, reverse=True)[:2] == [2, 1]
        # no student page shows anyone else's answer or any distribution
        for page in students:
            assert page.evaluate(BARS) == []
            for other in ("Ada", "Bob", "Cy"):
                shown = page.locator("[data-testid='stText']").all_inner_texts()
                assert sum(other in t for t in shown) <= 1
        teacher.get_by_role("button", name="Reveal the run").click()
        teacher.wait_for_function("() => Array.from(document.querySelectorAll("
                                  "'.js-plotly-plot')).some(g => g.data && "
                                  "g.data.some(t => t.name === 'loss surface'))", timeout=SLOW)
        students[1].get_by_text("not this time").wait_for(timeout=SLOW)  # Bob sees his own
        students[0].get_by_text("(right)").wait_for(timeout=SLOW)
        teacher.get_by_role("tab", name="Dashboard").click()
        teacher.get_by_text("Per concept").wait_for(timeout=SLOW)
        assert teacher.locator("[data-testid='stException']").count() == 0
    finally:
        for page in [teacher, *students]:
            page.context.close()
