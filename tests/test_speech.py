"""The read-aloud player as a string: speakable text, the utterance list and the HTML/JS."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrviz.learning.content import load_course
from lrviz.ui.course.listen import chapter_lines
from lrviz.ui.course.speech import (
    NO_SPEECH_MESSAGE,
    ROLE_VOICES,
    SPEEDS,
    SpeechLine,
    dialogue_lines,
    latex_words,
    narration_lines,
    player_html,
    sentences,
    speakable,
)

FIXTURE = Path(__file__).parent / "fixtures" / "course"


def payload(doc: str) -> dict:
    """The JSON data block the player's script reads."""
    m = re.search(r'<script type="application/json" id="speech-data">(.*?)</script>', doc, re.S)
    assert m, "the player must embed its data as JSON"
    return json.loads(m.group(1))


@pytest.mark.parametrize(("text", "spoken"), [
    (r"stable when $\eta\lambda < 2$", "stable when eta lambda less than 2"),
    (r"fastest at $\eta = \frac{1}{\lambda}$", "fastest at eta equals one over lambda"),
    (r"$\theta_{t+1} = \theta_t - \eta \nabla L$",
     "theta t plus 1 equals theta t minus eta the gradient of L"),
    (r"$\sqrt{\hat v_t} + \epsilon$", "the square root of v hat t plus epsilon"),
    (r"$x^2$ and $\kappa = \lambda_{max}/\lambda_{min}$",
     "x squared and kappa equals lambda max over lambda min"),
    ("**Bold**, _italic_, `code` and [a link](https://example.org)",
     "Bold, italic, code and a link"),
    ("- a bullet\n# A heading", "a bullet A heading"),
    ("snake_case_name costs \\$5", "snake_case_name costs $5"),
])
def test_speakable_reads_math_and_drops_markup(text, spoken):
    assert speakable(text) == spoken


@pytest.mark.parametrize(("text", "spoken"), [
    # symbols a speech engine skips or misreads
    ("lr × λ_max = 2.7 > 2", "lr times lambda max equals 2.7 greater than 2"),
    ("rate ≈ 0.18", "rate approximately 0.18"),
    ("μ·b", "mu times b"),
    ("1 − 1.8 = -0.8", "1 minus 1.8 equals minus 0.8"),
    ("at (−1.8, 2)", "at (minus 1.8, 2)"),
    ("η ≤ 2/λ, β ≥ 0", "eta at most two over lambda, beta at least 0"),
    ("e^(−0.5)", "e to the power minus 0.5"),
    # scientific notation
    ("use 1e-3", "use ten to the minus three"),
    ("1e-4 or 3e-3", "ten to the minus four or three times ten to the minus three"),
    ("loss 3.23e-06", "loss 3.23 times ten to the minus six"),
    ("1e6 steps", "ten to the six steps"),
    ("then 1e-2.", "then ten to the minus two."),
    ("max_lr / 25", "max_lr over 25"),
    (r"$10^{-3}$", "ten to the minus three"),
    (r"$10^6$", "ten to the six"),
    (r"$\eta = 1e-3$", "eta equals ten to the minus three"),
    # fractions, plain and LaTeX
    ("2/λ", "two over lambda"),
    ("2/λ_max", "two over lambda max"),
    ("1/2 and 3/4", "one half and three quarters"),
    ("2/11", "two over eleven"),
    ("1/t decay", "one over t decay"),
    ("1/√16", "one over the square root of 16"),
    ("2/(λ_min+λ_max)", "two over the quantity lambda min plus lambda max"),
    (r"$\frac{1}{2}$", "one half"),
    (r"$2/\lambda_{\max}$", "two over lambda max"),
    (r"$2/(\lambda_{\min}+\lambda_{\max})$",
     "two over the quantity lambda min plus lambda max"),
    (r"$(1-\mu)/(1+\mu)$", "the quantity 1 minus mu over the quantity 1 plus mu"),
    (r"$\frac{\eta}{\sqrt{v}}$", "eta over the square root of v"),
    # words that only look like math stay as they are
    ("and/or", "and/or"),
    ("snake_case_name", "snake_case_name"),
    ("a well-known 2-D map", "a well-known 2-D map"),
])
def test_speakable_says_symbols_numbers_and_fractions_unambiguously(text, spoken):
    assert speakable(text) == spoken


def test_display_math_ends_a_sentence():
    assert speakable(r"The error shrinks: $$e_{t+1} = (1 - \eta\lambda) e_t$$ Done.") == \
        "The error shrinks: e t plus 1 equals 1 minus eta lambda e t. Done."


def test_unknown_latex_commands_are_read_by_name():
    assert latex_words(r"\foo x") == "foo x"


def test_sentences_keep_decimals_together():
    assert sentences("Take lr 0.5 first. Then 2.5! Why? Because.") == [
        "Take lr 0.5 first.", "Then 2.5!", "Why?", "Because."]


def test_dialogue_lines_follow_the_turns_in_order():
    lesson = load_course(FIXTURE).get("fixture-basics")
    lines = dialogue_lines(lesson.dialogue)
    turns = [t for scene in lesson.dialogue for t in scene.turns]
    assert [x.role for x in lines] == [t.speaker for t in turns]
    assert lines[0].text == "If small steps are slow, surely the biggest learning rate is the " \
                            "fastest?"
    assert "eta lambda greater than 2" in lines[3].text


def test_chapter_lines_announce_the_chapter_and_end_with_the_analogys_limits():
    lesson = load_course(FIXTURE).get("fixture-basics")
    lines = chapter_lines(0, lesson.chapters[0])
    assert lines[0] == SpeechLine("narrator", "Chapter 1: Driving in an unknown city.")
    assert lines[1].text.startswith("Imagine driving through a city")
    assert lines[-1].text.startswith("Where the analogy stops being true: A driver can see")
    assert {x.role for x in lines} == {"narrator"}
    assert len(lines) > 4  # one utterance per sentence, not one per chapter


def test_narration_splits_paragraphs_and_sentences():
    lines = narration_lines("First one. Second one.\n\nThird, in a new paragraph.")
    assert [x.text for x in lines] == ["First one.", "Second one.", "Third, in a new paragraph."]


def test_teacher_and_student_sound_different():
    teacher, student = ROLE_VOICES["teacher"], ROLE_VOICES["student"]
    assert teacher.pitch != student.pitch
    assert teacher.rank != student.rank
    assert teacher.label != student.label and teacher.icon != student.icon


def test_player_embeds_lines_roles_and_controls():
    lines = [SpeechLine("student", "Why?"), SpeechLine("teacher", "Try it.")]
    doc = player_html(lines, title="the dialogue")
    data = payload(doc)
    assert data["lines"] == [{"role": "student", "text": "Why?"},
                             {"role": "teacher", "text": "Try it."}]
    assert data["roles"]["teacher"]["pitch"] != data["roles"]["student"]["pitch"]
    for action in ("play", "pause", "stop"):
        assert f'data-action="{action}"' in doc
    assert all(f'value="{s:g}"' in doc for s in SPEEDS)
    assert data["noSpeech"] == NO_SPEECH_MESSAGE
    # The transcript shows who speaks in words, not only by colour.
    assert "Student:</span>Why?" in doc and "Teacher:</span>Try it." in doc
    assert 'class="student"' in doc and 'class="teacher"' in doc


def test_compact_player_has_no_transcript():
    doc = player_html([SpeechLine("narrator", "One."), SpeechLine("narrator", "Two.")],
                      title="chapter 1", transcript=False)
    assert "<li class=\"narrator\" data-index" not in doc and 'class="narrator current"' in doc
    assert [x["text"] for x in payload(doc)["lines"]] == ["One.", "Two."]


def test_player_makes_no_network_requests():
    doc = player_html([SpeechLine("teacher", "Hello.")], title="t")
    for needle in ("http://", "https://", "src=", "fetch(", "XMLHttpRequest", "import(",
                   "<link", "@import", "WebSocket"):
        assert needle not in doc


def test_unknown_role_is_rejected():
    with pytest.raises(ValueError, match="unknown speaker role"):
        player_html([SpeechLine("robot", "beep")], title="t")


TRICKY = st.sampled_from(["</script>", "<!--<script>", "<b>x</b>", "&amp;", "\u2028", "'\""])


@given(st.lists(st.tuples(st.sampled_from(["teacher", "student", "narrator"]),
                          st.text() | TRICKY | st.lists(TRICKY).map("".join)),
                min_size=1, max_size=5))
def test_any_text_round_trips_and_cannot_break_out_of_the_document(items):
    lines = [SpeechLine(role, text) for role, text in items]
    doc = player_html(lines, title="</script><b>x</b>")
    assert [(x["role"], x["text"]) for x in payload(doc)["lines"]] == items
    # Text never opens or closes a tag: exactly the player's own two scripts exist.
    assert doc.count("<script") == 2 and doc.count("</script>") == 2
    assert "<b>x</b>" not in doc


@given(st.text())
def test_speakable_never_fails_and_gives_one_line(text):
    spoken = speakable(text)
    assert "\n" not in spoken and spoken == spoken.strip()


@given(st.text(alphabet="\\{}^_$ab12+-=<>/ fracsqrthatlambda", max_size=40))
def test_latex_words_survives_malformed_formulas(tex):
    assert isinstance(latex_words(tex), str)
