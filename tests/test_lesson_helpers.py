"""Small pieces of the lesson pages: progress wording, lab links and literal Markdown."""

from __future__ import annotations

import pytest

from lrviz.engine.presets import PRESETS
from lrviz.learning.content import LESSON_SECTIONS
from lrviz.ui.course.lesson import RENDERERS
from lrviz.ui.course.links import lab_query
from lrviz.ui.course.overview import plain
from lrviz.ui.course.progress import progress_text


def test_every_section_has_a_renderer():
    assert list(RENDERERS) == [section_id for section_id, _ in LESSON_SECTIONS]


def test_progress_text_counts_and_names_what_is_left():
    assert progress_text(set()) == "0 of 7 sections read"
    assert progress_text({"listen", "summary", "audiobook", "concepts"}) == (
        "4 of 7 sections read — still to read: Examples, Memory aids, Glossary")
    assert progress_text({i for i, _ in LESSON_SECTIONS}) == "All 7 sections read"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_lab_link_carries_the_preset(preset):
    assert ("preset", preset) in lab_query(preset)


def test_lab_link_to_an_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown preset"):
        lab_query("no-such-preset")


def test_plain_shows_markdown_characters_literally():
    assert plain("a * b_c $x$ [1]\n`q`") == r"a \* b\_c \$x\$ \[1\] \`q\`"


def test_verse_keeps_line_breaks_and_short_endings_stay_verse():
    from lrviz.ui.course.listen import _keep_lines
    from lrviz.ui.course.sections import verse

    assert verse("Step too wide,\nyou miss the floor;\n") == "Step too wide,  \nyou miss the floor;"
    assert _keep_lines("Short line,\nanother one.") == "Short line,  \nanother one."
    prose = "A long sentence wrapped by the author at some width " * 2 + "\nand continued."
    assert _keep_lines(prose) == prose
