"""The reading sections of a lesson: Summary, Key concepts, Memory aids and Glossary."""

from __future__ import annotations

import re

import streamlit as st

from lrviz.learning.schema import COURSE_CONCEPTS, MEMORY_AID_KINDS, Lesson

GLOSSARY_PAGE = "lrviz/ui/pages/glossary.py"
DEPTHS: dict[str, str] = {"Basic": "basic", "Medium": "medium", "Detailed": "detailed"}
DEPTH_KEY = "summary_depth"
DEPTH_HELP = {
    "Basic": "Three or four plain sentences, no math.",
    "Medium": "A paragraph with the update rule.",
    "Detailed": "The math: stability bounds, rates and formulas.",
}
AID_LOOK = {"rhyme": ("🎵", "Rhyme"), "story": ("📖", "Story"),
            "acronym": ("🔤", "Acronym"), "mnemonic": ("🧠", "Mnemonic")}


# Kinds written line by line (a rhyme's verses, one line per letter of an acronym); stories
# and mnemonics are prose that authors wrap at any width, so Markdown reflows them.
LINE_KINDS = ("rhyme", "acronym")


def verse(text: str) -> str:
    """Markdown that keeps the author's line breaks."""
    return text.strip().replace("\n", "  \n")


def concept_label(concept: str) -> str:
    """What a memory aid encodes, in words: a course concept id becomes its name."""
    return COURSE_CONCEPTS.get(concept, concept)


def acronym_letters(text: str) -> tuple[str, list[str]]:
    """An acronym aid as (its word, its lines in Markdown with each line's letter in bold).

    The word is the first all-capital word of the first line; every later line that starts
    with the word's next letter gets that letter bolded, so the letters read down the page.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    found = re.search(r"\b([A-Z]{2,})\b", lines[0]) if lines else None
    word = found.group(1) if found else ""
    pending = list(word)
    shown = lines[:1]
    for line in lines[1:]:
        if pending and line[0].upper() == pending[0]:
            shown.append(f"**{line[0]}**{line[1:]}")
            pending.pop(0)
        else:
            shown.append(line)
    return word, shown


def show_summary(lesson: Lesson) -> None:
    """The summary at the depth the learner picks; the choice follows them to every lesson."""
    # persist_state="session": the depth is remembered across lessons and pages.
    depth = st.segmented_control(
        "How deep?", list(DEPTHS), default="Basic", required=True, key=DEPTH_KEY,
        persist_state="session", help="Basic: no math. Medium: the update rule. "
                                      "Detailed: the math behind it.")
    depth = depth or "Basic"
    st.caption(DEPTH_HELP[depth])
    with st.container(border=True):
        st.markdown(getattr(lesson.summaries, DEPTHS[depth]))


def show_key_concepts(lesson: Lesson) -> None:
    st.caption("The ideas of this lesson, one line each.")
    for concept in lesson.key_concepts:
        with st.container(border=True):
            st.markdown(f"**{concept.term}** — {concept.meaning}")
    covered = ", ".join(COURSE_CONCEPTS[c] for c in lesson.concepts)
    st.caption(f"Course topics covered here: {covered}.")


def show_memory_aids(lesson: Lesson) -> None:
    """Aids grouped by kind (rhyme, story, acronym, mnemonic), each with what it encodes."""
    st.caption("Small hooks to remember the big ideas.")
    for kind in MEMORY_AID_KINDS:
        icon, name = AID_LOOK[kind]
        for aid in (a for a in lesson.memory_aids if a.kind == kind):
            with st.container(border=True):
                st.markdown(f"{icon} **{name}** — for *{concept_label(aid.concept)}*")
                if kind == "acronym":
                    word, lines = acronym_letters(aid.text)
                    if word:
                        st.markdown(f"#### {' · '.join(word)}")
                    st.markdown("  \n".join(lines))
                else:
                    st.markdown(verse(aid.text) if kind in LINE_KINDS else aid.text)


def show_glossary(lesson: Lesson) -> None:
    st.caption("The terms this lesson uses, from the course glossary (each defined once there).")
    for entry in sorted(lesson.glossary, key=lambda e: e.term.lower()):
        st.markdown(f"**{entry.term}** — {entry.definition}")
    st.page_link(GLOSSARY_PAGE, label="Search the full glossary", icon=":material/sort_by_alpha:")
