"""The lesson page in AppTest: every section of every lesson renders, the summary depth switch,
broken and unknown lessons, previous/next navigation and reading progress.

Most tests run on the fixture course (``LRVIZ_LESSONS_DIR``); the last ones open every section
of every real lesson that exists.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lrviz.engine.presets import PRESETS
from lrviz.learning.content import LESSON_SECTIONS, LESSONS_DIR, load_course
from lrviz.learning.net_questions import is_net_preset
from lrviz.learning.store import get_store
from lrviz.ui.a11y import A11Y_ALT
from lrviz.ui.course.sections import acronym_letters, concept_label

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
FIXTURE = Path(__file__).parent / "fixtures" / "course"
LESSON_PAGE = "lrviz/ui/pages/lesson.py"
LABELS = [label for _, label in LESSON_SECTIONS]


@pytest.fixture
def fixture_course(monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", str(FIXTURE))
    return load_course(FIXTURE)


def open_lesson(lesson_id: str | None, section: str | None = None,
                learner: str | None = None) -> AppTest:
    """Open ``/lesson?lesson=<id>&section=<label>`` (optionally signed in as ``learner``)."""
    at = AppTest.from_file(APP, default_timeout=120)
    if learner:
        at.session_state["learner"] = learner
    at.run()
    at.switch_page(LESSON_PAGE)
    if lesson_id is not None:
        at.query_params["lesson"] = lesson_id
    if section is not None:
        show(at, section, run=False)
    at.run()
    assert not at.exception, at.exception
    return at


def show(at: AppTest, section: str, run: bool = True) -> AppTest:
    """Click a section tab (the tab is bound to ?section=, so set both sides)."""
    at.session_state["section"] = section
    at.query_params["section"] = section
    if run:
        at.run()
        assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything a reader sees as text on the page (markdown, captions, alerts, headings)."""
    parts = [e.value for kind in ("markdown", "caption", "title", "header", "subheader",
                                  "info", "success", "warning", "error")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


# --- every section renders --------------------------------------------------------------------


def norm(text: str) -> str:
    """Whitespace-insensitive text (authors wrap long YAML strings over several lines)."""
    return " ".join(text.split())


def players(at: AppTest) -> list:
    """The read-aloud players on the page (every page also has the accessibility helper)."""
    return [f for f in at.get("iframe") if f.proto.alt != A11Y_ALT]


def check_section(at: AppTest, lesson, label: str) -> None:
    """What a learner must see in section ``label`` of ``lesson``."""
    page = norm(texts(at))

    def shown(*items: str) -> bool:
        return all(norm(item) in page for item in items)

    turns = [t for scene in lesson.dialogue for t in scene.turns]
    if label == "Listen":
        assert len(at.chat_message) == len(turns)
        assert shown("**Teacher:**", "**Student:**")
        assert [m.name for m in at.chat_message] == [t.speaker for t in turns]
        assert len(players(at)) == 1  # the read-aloud player
        for scene in lesson.dialogue:
            assert shown(scene.title, scene.ending.text.strip().splitlines()[0])
    else:
        assert len(at.chat_message) == 0, "only the open tab is rendered"
    if label == "Summary":
        assert shown(lesson.summaries.basic)
    if label == "Audiobook":
        for k, chapter in enumerate(lesson.chapters):
            assert shown(f"Chapter {k + 1}: {chapter.title}", chapter.analogy, chapter.limits)
        assert len(players(at)) == len(lesson.chapters)
    if label == "Key concepts":
        assert all(shown(c.term, c.meaning) for c in lesson.key_concepts)
    if label == "Examples" and any(is_net_preset(ex.preset) for ex in lesson.examples):
        # Lesson 6: network presets, trained on demand (a toggle) and linked to /network.
        assert all(shown(ex.title, ex.takeaway) for ex in lesson.examples)
        links = [p.proto for p in at.get("page_link")
                 if p.proto.label == "Open on the Network page"]
        assert [p.query_string for p in links] == [f"preset={ex.preset}"
                                                   for ex in lesson.examples]
    elif label == "Examples":
        charts = at.get("plotly_chart")
        assert len(charts) == len(lesson.examples)
        for example, chart in zip(lesson.examples, charts, strict=True):
            assert shown(example.title, example.takeaway)
            traces = json.loads(chart.proto.spec)["data"]
            assert len(traces) >= 2 + len(PRESETS[example.preset].runs)
        links = [p.proto for p in at.get("page_link") if p.proto.label == "Open in lab"]
        assert [p.query_string for p in links][:len(lesson.examples)] == [
            f"preset={ex.preset}" for ex in lesson.examples]
    if label == "Memory aids":
        for aid in lesson.memory_aids:
            assert shown(concept_label(aid.concept))
            if aid.kind in ("rhyme", "acronym"):  # every verse line / letter line, as a line
                _, lines = acronym_letters(aid.text)
                assert all(shown(line) for line in (lines if aid.kind == "acronym" else
                                                    aid.text.strip().splitlines()))
            else:
                assert shown(aid.text.strip().splitlines()[0])
    if label == "Glossary":
        assert all(shown(e.term, e.definition) for e in lesson.glossary)


@pytest.mark.parametrize("lesson_id", ["fixture-basics", "fixture-momentum"])
def test_every_section_of_a_fixture_lesson_renders(fixture_course, lesson_id):
    lesson = fixture_course.get(lesson_id)
    at = open_lesson(lesson_id)
    assert f"Lesson {lesson.order}: {lesson.title}" in texts(at)
    assert all(objective in texts(at) for objective in lesson.objectives)
    for label in LABELS:
        show(at, label)
        check_section(at, lesson, label)


def test_a_section_can_be_linked_directly(fixture_course):
    at = open_lesson("fixture-basics", section="Memory aids")
    assert "Two over lambda is the wall" in texts(at)
    assert len(at.chat_message) == 0


def test_memory_aids_show_verse_lines_and_acronym_letters_not_concept_ids():
    at = open_lesson("lr-basics", section="Memory aids")
    page = texts(at)
    assert "#### H · A · L · T" in page
    assert "**H**as the loss been rising before the NaN?  \n**A**djust" in page
    assert "Under one, a smooth downhill run;  \none to two" in page
    assert "for *divergence / NaN*" in page and "for *update rule and step size*" in page
    assert "*slow-convergence*" not in page and "*condition-number*" not in page


def test_examples_confirm_each_claim_with_the_simulator(fixture_course):
    at = open_lesson("fixture-basics", section="Examples")
    page = texts(at)
    assert "The simulator agrees: this run is **diverged**" in page
    assert "The simulator agrees: this run is **overshooting**" in page


# --- summary depth --------------------------------------------------------------------------


def test_summary_depth_switch_changes_the_text_and_is_remembered(fixture_course):
    basics, momentum = fixture_course.get("fixture-basics"), fixture_course.get(
        "fixture-momentum")
    at = open_lesson("fixture-basics", section="Summary")
    assert basics.summaries.basic in texts(at)
    at.segmented_control(key="summary_depth").set_value("Detailed").run()
    assert basics.summaries.detailed.split("\n")[0] in texts(at)
    assert basics.summaries.basic not in texts(at)
    at.segmented_control(key="summary_depth").set_value("Medium").run()
    assert basics.summaries.medium in texts(at)

    # Next lesson: the depth follows the learner.
    button(at, "lesson-next").click().run()
    show(at, "Summary")
    assert momentum.summaries.medium in texts(at)
    assert momentum.summaries.basic not in texts(at)

    # Another page and back: still remembered.
    at.switch_page("lrviz/ui/pages/glossary.py").run()
    at.switch_page(LESSON_PAGE)
    at.query_params["lesson"] = "fixture-basics"
    show(at, "Summary")
    assert basics.summaries.medium in texts(at)


# --- broken, unknown and missing lessons --------------------------------------------------------


def test_broken_lesson_shows_the_validation_message_and_the_others_still_work(fixture_course):
    at = open_lesson("fixture-broken")
    page = texts(at)
    assert "cannot be shown" in page
    assert "03-fixture-broken/dialogue.md" in page and "dialogue[1]" in page
    assert "both the teacher and the student" in page
    assert not at.tabs, "a broken lesson has no sections to show"
    button(at, "lesson-previous").click().run()
    assert not at.exception
    assert "Lesson 2: Fixture: momentum in a ravine" in texts(at)
    show(at, "Examples")
    assert len(at.get("plotly_chart")) == 1


def test_unknown_lesson_id_gives_a_notice_and_the_course_list(fixture_course):
    at = open_lesson("no-such-lesson")
    assert any("no-such-lesson" in w.value for w in at.warning)
    page = texts(at)
    assert "1 · Fixture: what the learning rate does" in page
    assert "2 · Fixture: momentum in a ravine" in page


def test_no_lesson_shows_the_course_with_links_to_every_lesson(fixture_course):
    at = open_lesson(None)
    assert not at.warning
    page = texts(at)
    assert "The course" in page and "about 20 min" in page
    assert "Explain why plain gradient descent zig-zags in a ravine." in page
    targets = {p.proto.query_string for p in at.get("page_link")
               if p.proto.query_string.startswith("lesson=")}
    assert targets == {"lesson=fixture-basics", "lesson=fixture-momentum",
                       "lesson=fixture-broken"}


def test_picking_a_lesson_in_the_sidebar_opens_it(fixture_course):
    at = open_lesson(None)
    at.sidebar.selectbox(key="lesson_picker").select("fixture-momentum").run()
    assert not at.exception
    assert "Lesson 2: Fixture: momentum in a ravine" in texts(at)
    assert at.query_params["lesson"] == "fixture-momentum"


# --- navigation -----------------------------------------------------------------------------


def test_previous_and_next_walk_the_course_in_order(fixture_course):
    at = open_lesson("fixture-basics", section="Glossary")
    assert not any(b.key == "lesson-previous" for b in at.button)
    button(at, "lesson-next").click().run()
    assert "Lesson 2: Fixture: momentum in a ravine" in texts(at)
    assert at.query_params["lesson"] == "fixture-momentum"
    assert len(at.chat_message) > 0, "a new lesson starts at its first section (Listen)"
    button(at, "lesson-previous").click().run()
    assert "Lesson 1: Fixture: what the learning rate does" in texts(at)


# --- reading progress -----------------------------------------------------------------------


def test_sections_marked_as_read_are_recorded_for_the_learner(fixture_course):
    at = open_lesson("fixture-basics", learner="Ada")
    button(at, "section-done-listen").click().run()  # "Mark as read · next: Summary →"
    button(at, "section-done-summary").click().run()
    assert "Your progress: 2 of 7 sections read." in texts(at)
    learner = get_store().find_learner("Ada")
    assert get_store().sections_read(learner.id, "fixture-basics") == {"listen", "summary"}
    at.switch_page("lrviz/ui/pages/home.py").run()
    bars = [p.proto.text for p in at.get("progress")]
    assert "2 of 7 sections read" in bars[0]


def test_nothing_is_recorded_without_a_learner(fixture_course):
    at = open_lesson("fixture-basics", section="Summary")
    assert "Your progress" not in texts(at)
    assert get_store().find_learner("Ada") is None


# --- the real course --------------------------------------------------------------------------

REAL = load_course(LESSONS_DIR)


@pytest.mark.parametrize("lesson_id", [lesson.id for lesson in REAL.lessons])
def test_every_section_of_a_real_lesson_renders(monkeypatch, lesson_id):
    monkeypatch.delenv("LRVIZ_LESSONS_DIR", raising=False)
    at = open_lesson(lesson_id)
    lesson = load_course(LESSONS_DIR).get(lesson_id)  # the version the page just rendered
    for label in LABELS:
        show(at, label)
        check_section(at, lesson, label)


def test_real_course_has_no_broken_lessons():
    assert not REAL.broken, "\n".join(str(e) for b in REAL.broken for e in b.errors)
