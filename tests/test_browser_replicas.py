"""Two app replicas behind one PostgreSQL database, as in the README's "Deploy for a school":
a teacher's projector on one server sees the predictions of students on the other."""

from __future__ import annotations

import pytest
from helpers import free_port, serve_app
from test_browser_classroom import BARS, SLOW, _student_joins_and_predicts, _teacher_opens_class

pytestmark = pytest.mark.browser


def test_class_poll_across_two_replicas_on_one_postgresql(browser, browser_required,
                                                          postgres_url, tmp_path):
    env = {"LRVIZ_DB_URL": postgres_url, "LRVIZ_CLASS_DB_URL": ""}
    with serve_app(tmp_path / "a.log", free_port(), env) as replica_a, \
            serve_app(tmp_path / "b.log", free_port(), env) as replica_b:
        projector = browser.new_context(viewport={"width": 1280, "height": 720})
        projector.set_default_timeout(SLOW)
        teacher = projector.new_page()
        teacher.base_url = replica_a
        students = []
        try:
            code = _teacher_opens_class(teacher)
            picker = teacher.get_by_label("Question or preset")
            picker.click()
            picker.fill("Overshoot: zig-zag across a ravine")
            teacher.get_by_role("option").filter(
                has_text="Overshoot: zig-zag across a ravine").click()
            teacher.get_by_role("button", name="Launch for the class").click()
            teacher.get_by_text("Launched").wait_for(timeout=SLOW)
            for name, choice in [("Ada", "overshooting"), ("Bob", "diverged")]:
                students.append(_student_joins_and_predicts(browser, replica_b, code, name,
                                                            choice))
            teacher.get_by_role("tab", name="Live results").click()
            teacher.wait_for_function(f"() => ({BARS})().some(x => x.reduce((a, b) => a + b,"
                                      " 0) === 2)", timeout=SLOW)
            teacher.get_by_role("button", name="Reveal the run").click()
            students[0].get_by_text("(right)").wait_for(timeout=SLOW)  # on the other replica
            students[1].get_by_text("not this time").wait_for(timeout=SLOW)
        finally:
            for page in [teacher, *students]:
                page.context.close()
