"""The spoken parts of a lesson: the teacher–student dialogue and the audiobook chapters.

Teacher and student differ in more than colour: each bubble names its speaker in bold, has its
own avatar, and the student's bubbles are indented with a dashed edge (so a projector in
grey-scale, or a colour-blind learner, still tells them apart).
"""

from __future__ import annotations

import streamlit as st

from lrviz.learning.schema import MISCONCEPTIONS, Chapter, Lesson, Scene
from lrviz.ui.course.links import open_in_lab
from lrviz.ui.course.sections import verse
from lrviz.ui.course.speech import (
    ROLE_VOICES,
    SpeechLine,
    dialogue_lines,
    narration_lines,
    read_aloud,
)

VERSE_WIDTH = 60  # longer lines are wrapped prose, not verse
# Bubbles are found by their container key (Streamlit adds the class st-key-<key>).
_BUBBLE_CSS = """<style>
[class*="st-key-turn-teacher-"] { border-left: 6px solid #0072B2; padding-left: .5rem; }
[class*="st-key-turn-student-"] { border-left: 6px dashed #E69F00; padding-left: .5rem;
  margin-left: 8%; max-width: 92%; }
</style>"""


def _keep_lines(text: str) -> str:
    """Keep line breaks when the text reads as verse (every line short), else let it reflow."""
    lines = text.strip().splitlines()
    return verse(text) if len(lines) > 1 and max(map(len, lines)) <= VERSE_WIDTH else text


def _turn(key: str, speaker: str, text: str) -> None:
    voice = ROLE_VOICES[speaker]
    with st.container(key=f"turn-{speaker}-{key}"), st.chat_message(speaker, avatar=voice.icon):
        st.markdown(f"**{voice.label}:** {text}")


def _scene(lesson: Lesson, k: int, scene: Scene) -> None:
    st.markdown(f"#### Part {k + 1}: {scene.title}")
    for t, turn in enumerate(scene.turns):
        _turn(f"{lesson.id}-{k}-{t}", turn.speaker, turn.text)
    ending = scene.ending
    if ending.kind == "memory_aid":
        st.success(f"**Remember:** {_keep_lines(ending.text)}", icon=":material/lightbulb:")
    else:
        st.info(f"**Try it in the lab:** {_keep_lines(ending.text)}", icon=":material/science:")
        open_in_lab(ending.preset)
    if scene.misconceptions:
        voiced = "; ".join(f"“{MISCONCEPTIONS[m]}”" for m in scene.misconceptions)
        st.caption(f"Misconception voiced in this part: {voiced}")


def show_dialogue(lesson: Lesson) -> None:
    """The Listen section: a read-aloud player for the whole dialogue, then the chat."""
    st.html(_BUBBLE_CSS)
    st.markdown("**Listen to the whole conversation** — the teacher and the student speak in "
                "different voices. Or read it below.")
    read_aloud(dialogue_lines(lesson.dialogue), title=f"the dialogue of “{lesson.title}”")
    for k, scene in enumerate(lesson.dialogue):
        _scene(lesson, k, scene)


def chapter_lines(k: int, chapter: Chapter) -> list[SpeechLine]:
    """What the narrator says for chapter ``k``: its title, the text, then the analogy's limit."""
    return [SpeechLine("narrator", f"Chapter {k + 1}: {chapter.title}."),
            *narration_lines(chapter.text),
            *narration_lines(f"Where the analogy stops being true: {chapter.limits}")]


def show_audiobook(lesson: Lesson) -> None:
    """The Audiobook section: each chapter with its analogy, a player and the analogy's limits."""
    for k, chapter in enumerate(lesson.chapters):
        with st.container(border=True):
            st.markdown(f"### Chapter {k + 1}: {chapter.title}")
            st.info(f"**The analogy:** {chapter.analogy}", icon=":material/lightbulb:")
            read_aloud(chapter_lines(k, chapter), title=f"chapter {k + 1}, {chapter.title}",
                       transcript=False)
            st.markdown(chapter.text)
            st.warning(f"**Where the analogy stops being true:** {chapter.limits}",
                       icon=":material/warning:")
