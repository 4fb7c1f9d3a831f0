"""Lesson pages in the system Chromium: rendering, read-aloud (with a stubbed speech engine,
since headless browsers have no voices), the no-speech fallback, and "Open in lab".

`window.speechSynthesis` is replaced by an init script, which Playwright also runs inside the
player's iframe; the stub records every call so the test can check what would have been said.
"""

from __future__ import annotations

import json

import pytest
from helpers import open_page, wait_idle

from lrviz.engine.presets import PRESETS
from lrviz.learning.content import LESSONS_DIR, load_course
from lrviz.ui.course.listen import chapter_lines
from lrviz.ui.course.speech import NO_SPEECH_MESSAGE, dialogue_lines

pytestmark = pytest.mark.browser

needs_lesson = pytest.mark.skipif(not load_course(LESSONS_DIR).lessons,
                                  reason="no valid lesson in lessons/ yet")


@pytest.fixture
def lesson():
    """The first lesson, read when the test starts (authors may be editing the course)."""
    return load_course(LESSONS_DIR).lessons[0]

# A speech engine with two voices. AUTO_END: each utterance "finishes" at once, so Play runs
# through the whole dialogue; otherwise the test ends utterances itself via __speech.finish().
STUB = """
(() => {
  const log = {spoken: [], calls: [], current: null};
  const voices = [
    {name: "Stub Alto", lang: "en-US", localService: true, default: true, voiceURI: "alto"},
    {name: "Stub Tenor", lang: "en-GB", localService: true, default: false, voiceURI: "tenor"},
  ];
  log.finish = () => { const u = log.current; log.current = null; if (u && u.onend) u.onend({}); };
  window.__speech = log;
  window.SpeechSynthesisUtterance = class {
    constructor(text) { this.text = text; this.pitch = 1; this.rate = 1; this.voice = null; }
  };
  const synth = {
    getVoices: () => voices,
    addEventListener() {},
    speak(u) {
      log.spoken.push({text: u.text, pitch: u.pitch, rate: u.rate,
                       voice: u.voice ? u.voice.name : null});
      log.current = u;
      if (AUTO_END) { setTimeout(log.finish, 0); }
    },
    cancel() { log.calls.push("cancel"); log.current = null; },
    pause() { log.calls.push("pause"); },
    resume() { log.calls.push("resume"); },
  };
  Object.defineProperty(window, "speechSynthesis", {value: synth, configurable: true});
})();
"""
NO_SPEECH = """
Object.defineProperty(window, "speechSynthesis", {value: undefined, configurable: true});
window.SpeechSynthesisUtterance = undefined;
"""
# Speech synthesis present but without voices (headless Chromium): every utterance fails.
VOICELESS = """
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
  getVoices: () => [], addEventListener() {}, cancel() {}, pause() {}, resume() {},
  speak(u) { setTimeout(() => u.onerror({error: "synthesis-failed"}), 0); },
}});
"""
STCORE_PROBES = ("/_stcore/health", "/_stcore/host-config")


def track_failures(pg) -> list[str]:
    """URLs of failed responses (Streamlit probes /<page>/_stcore/... on sub-paths: allowed)."""
    failed: list[str] = []
    pg.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    return failed


def assert_clean(pg, failed: list[str]) -> None:
    assert pg.locator("[data-testid='stException']").count() == 0
    unexpected = [u for u in failed if not u.endswith(STCORE_PROBES)]
    assert unexpected == []
    errors = [e for e in pg.console_errors if not e.startswith("Failed to load resource")]
    assert errors == []


def player(pg, index: int = 0):
    """The read-aloud player's frame (the ``index``-th player iframe on the page), once loaded.

    The page's first iframe is the accessibility helper (lrviz.ui.a11y), not a player.
    """
    players = pg.locator("iframe:not([title^='accessibility helper'])")
    handle = players.nth(index).element_handle(timeout=30_000)
    frame = handle.content_frame()
    frame.wait_for_selector("#player button[data-action='play']")
    return frame


def lesson_path(lesson, section: str | None = None) -> str:
    path = f"/lesson?lesson={lesson.id}"
    return path + (f"&section={section.replace(' ', '+')}" if section else "")


@needs_lesson
def test_lesson_page_renders_in_chromium(page, lesson):
    failed = track_failures(page)
    open_page(page, lesson_path(lesson))
    page.wait_for_selector("h1:has-text('Lesson 1')")
    assert f"lesson={lesson.id}" in page.url
    turns = sum(len(scene.turns) for scene in lesson.dialogue)
    assert page.locator("[data-testid='stChatMessage']").count() == turns
    assert page.get_by_role("tab").count() == 7
    assert_clean(page, failed)


@needs_lesson
def test_play_speaks_the_dialogue_in_order_with_two_voices(page, lesson):
    page.add_init_script(STUB.replace("AUTO_END", "true"))
    open_page(page, lesson_path(lesson))
    frame = player(page)
    frame.click("button[data-action='play']")
    expected = dialogue_lines(lesson.dialogue)
    frame.wait_for_function(f"window.__speech.spoken.length >= {len(expected)}")
    frame.wait_for_selector(".status:has-text('Finished.')")
    spoken = frame.evaluate("window.__speech.spoken")
    assert [s["text"] for s in spoken] == [x.text for x in expected]
    settings = {(x.role, s["pitch"], s["voice"]) for x, s in zip(expected, spoken, strict=True)}
    teacher = {(p, v) for role, p, v in settings if role == "teacher"}
    student = {(p, v) for role, p, v in settings if role == "student"}
    assert len(teacher) == 1 and len(student) == 1, "each role keeps one voice setting"
    assert teacher != student
    (t_pitch, t_voice), (s_pitch, s_voice) = teacher.pop(), student.pop()
    assert t_pitch < s_pitch and t_voice != s_voice
    assert frame.locator("li.speaking").count() == 0  # finished: nothing highlighted


@needs_lesson
def test_the_spoken_line_is_highlighted_and_pause_stop_speed_work(page, lesson):
    page.add_init_script(STUB.replace("AUTO_END", "false"))
    open_page(page, lesson_path(lesson))
    frame = player(page)
    expected = dialogue_lines(lesson.dialogue)
    speaking = frame.locator("li.speaking")

    frame.click("button[data-action='play']")
    frame.wait_for_function("window.__speech.spoken.length === 1")
    assert speaking.get_attribute("data-index") == "0"
    frame.evaluate("window.__speech.finish()")
    frame.wait_for_function("window.__speech.spoken.length === 2")
    assert speaking.get_attribute("data-index") == "1"
    assert frame.locator("li.speaking").inner_text().endswith(expected[1].text)

    frame.click("button[data-action='pause']")
    assert frame.locator("button[data-action='pause']").inner_text() == "Resume"
    frame.click("button[data-action='pause']")
    assert frame.evaluate("window.__speech.calls").count("pause") == 1
    assert "resume" in frame.evaluate("window.__speech.calls")

    frame.select_option("select", "1.5")  # restarts the current line at the new speed
    frame.wait_for_function("window.__speech.spoken.length === 3")
    last = frame.evaluate("window.__speech.spoken[2]")
    assert last["text"] == expected[1].text and last["rate"] == 1.5

    frame.click("button[data-action='stop']")
    assert frame.locator("li.speaking").count() == 0
    assert "Stopped" in frame.locator(".status").inner_text()
    assert frame.evaluate("window.__speech.calls")[-1] == "cancel"

    # Any line can be played from, with the mouse or the keyboard.
    frame.locator("li[data-index='2']").press("Enter")
    frame.wait_for_function("window.__speech.spoken.length === 4")
    assert frame.evaluate("window.__speech.spoken[3].text") == expected[2].text
    assert speaking.get_attribute("data-index") == "2"


@needs_lesson
def test_audiobook_chapter_plays_with_the_narrator(page, lesson):
    page.add_init_script(STUB.replace("AUTO_END", "true"))
    open_page(page, lesson_path(lesson, "Audiobook"))
    frame = player(page, 0)
    frame.click("button[data-action='play']")
    frame.wait_for_selector(".status:has-text('Finished.')")
    spoken = frame.evaluate("window.__speech.spoken")
    expected = [x.text for x in chapter_lines(0, lesson.chapters[0])]
    assert [s["text"] for s in spoken] == expected
    assert expected[0] == f"Chapter 1: {lesson.chapters[0].title}."
    assert any(t.startswith("Where the analogy stops being true") for t in expected)
    assert len({s["pitch"] for s in spoken}) == 1  # one narrator voice


@needs_lesson
def test_without_speech_synthesis_the_player_says_so(page, lesson):
    page.add_init_script(NO_SPEECH)
    open_page(page, lesson_path(lesson))
    frame = player(page)
    assert frame.locator(".status").inner_text() == NO_SPEECH_MESSAGE
    assert frame.locator("button[data-action='play']").is_disabled()
    # The lesson itself is all there to read.
    assert page.locator("[data-testid='stChatMessage']").count() > 0


@needs_lesson
def test_a_browser_without_voices_is_told_plainly(page, lesson):
    page.add_init_script(VOICELESS)
    open_page(page, lesson_path(lesson))
    frame = player(page)
    frame.click("button[data-action='play']")
    frame.wait_for_selector(".status.warn")
    status = frame.locator(".status").inner_text()
    assert "no voices installed" in status and "synthesis-failed" in status
    assert frame.locator("li.speaking").count() == 0
    assert not frame.locator("button[data-action='play']").is_disabled()  # may try again


@needs_lesson
def test_open_in_lab_lands_on_the_lab_with_the_presets_settings(page, lesson):
    failed = track_failures(page)
    example = lesson.examples[0]
    config = PRESETS[example.preset].runs[0].config
    open_page(page, lesson_path(lesson, "Examples"))
    page.get_by_role("link", name="Open in lab").first.click()
    page.wait_for_url("**/lab**")
    wait_idle(page)
    problems = page.locator("[data-testid='stException']")
    assert problems.count() == 0, problems.first.inner_text()
    assert page.locator("h1:has-text('Lab')").count() == 1
    page.wait_for_selector(".st-key-lr input")
    values = page.evaluate("""() => Object.fromEntries(["lr", "steps", "x0", "y0"].map(
        (k) => [k, document.querySelector(`.st-key-${k} input`)?.value ?? null]))""")
    x0, y0 = config.start_point
    assert float(values["lr"]) == pytest.approx(config.lr)
    assert int(float(values["steps"])) == config.steps
    assert float(values["x0"]) == pytest.approx(x0, abs=1e-3)
    assert float(values["y0"]) == pytest.approx(y0, abs=1e-3)
    names = json.dumps(page.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap("
        "(p) => (p.data || []).map((t) => t.name || ''))"))
    assert config.surface in page.content() or config.surface in names
    assert_clean(page, failed)


@needs_lesson
def test_course_map_and_glossary_links_open_the_lesson(page, lesson):
    failed = track_failures(page)
    open_page(page, "/")
    page.get_by_role("link", name=f"Open lesson {lesson.order}").click()
    page.wait_for_url(f"**/lesson?lesson={lesson.id}**")
    wait_idle(page)
    page.wait_for_selector(f"h1:has-text('Lesson {lesson.order}')")

    term = lesson.glossary[0].term
    open_page(page, "/glossary?q=" + term.replace(" ", "+"))
    page.get_by_role("link", name=f"Lesson {lesson.order}").first.click()
    page.wait_for_url(f"**lesson={lesson.id}**")
    wait_idle(page)
    selected = page.get_by_role("tab", selected=True)
    assert selected.inner_text().strip() == "Glossary"
    assert page.get_by_text(term, exact=True).count() >= 1
    assert_clean(page, failed)
