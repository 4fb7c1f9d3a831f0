"""The glossary: every term across lessons, once, searchable, linked back to its lessons."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lrviz.learning.content import LESSONS_DIR, load_course
from lrviz.ui.course.glossary import Term, course_terms, matches, search

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "course"
FIXTURE_TERMS = ["Condition number", "Divergence", "Learning rate", "Momentum"]


def term_names(at: AppTest) -> list[str]:
    """The bold term at the start of each glossary entry, in page order."""
    return [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**")]


@pytest.fixture
def glossary_page(monkeypatch):
    monkeypatch.setenv("LRVIZ_LESSONS_DIR", str(FIXTURE))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("lrviz/ui/pages/glossary.py").run()
    assert not at.exception
    return at


def test_course_terms_are_unique_and_know_their_lessons():
    terms = {t.term: t for t in course_terms(load_course(FIXTURE))}
    assert sorted(terms) == FIXTURE_TERMS
    assert terms["Learning rate"].lessons == ("fixture-basics", "fixture-momentum")
    assert terms["Momentum"].lessons == ("fixture-momentum",)


def test_search_matches_every_word_in_term_or_definition_any_case():
    term = Term("Warmup", "Start with a small rate and ramp it up.", ("x",))
    assert matches(term, "warm") and matches(term, "RAMP small") and matches(term, "")
    assert not matches(term, "ramp cosine")


def test_search_puts_term_matches_before_definition_matches():
    terms = [Term("Alpha", "mentions momentum", ()), Term("Momentum", "velocity", ())]
    assert [t.term for t in search(terms, "momentum")] == ["Momentum", "Alpha"]


def test_page_lists_every_term_once_with_links_to_lessons(glossary_page):
    at = glossary_page
    assert term_names(at) == FIXTURE_TERMS
    assert "4 of 4 terms" in at.caption[0].value
    links = [p.proto.query_string for p in at.get("page_link")
             if "section=Glossary" in p.proto.query_string]
    # "Learning rate" links to both lessons that define it; the others to one each.
    assert links.count("lesson=fixture-basics&section=Glossary") == 2
    assert links.count("lesson=fixture-momentum&section=Glossary") == 3
    assert [s.value for s in at.subheader] == ["C", "D", "L", "M"]


def test_search_filters_the_list(glossary_page):
    at = glossary_page
    at.text_input(key="q").set_value("ratio").run()
    assert term_names(at) == ["Condition number"]
    assert "1 of 4 terms matching “ratio”" in at.caption[0].value
    at.text_input(key="q").set_value("grows without").run()
    assert term_names(at) == ["Divergence"]


def test_search_without_results_says_so(glossary_page):
    at = glossary_page
    at.text_input(key="q").set_value("quaternion").run()
    assert not at.exception
    assert term_names(at) == []
    assert "quaternion" in at.warning[0].value


def test_real_course_glossary_has_terms_from_every_lesson():
    course = load_course(LESSONS_DIR)
    if not course.lessons:
        pytest.skip("no lessons yet")
    from_lessons = {lesson_id for t in course_terms(course) for lesson_id in t.lessons}
    assert from_lessons == {lesson.id for lesson in course.lessons}


# --- one shared glossary: every term defined once ---------------------------------------------


def test_real_course_defines_every_term_exactly_once_in_the_shared_glossary():
    import frontmatter

    raw = frontmatter.load(LESSONS_DIR / "glossary.md").metadata["terms"]
    names = [t["term"].strip().casefold() for t in raw]
    ids = [t["id"] for t in raw]
    assert len(set(names)) == len(names) and len(set(ids)) == len(ids)
    # No lesson file defines a term of its own: lessons only list ids.
    for file in LESSONS_DIR.glob("*/*.md"):
        glossary = frontmatter.load(file).metadata.get("glossary", [])
        assert all(isinstance(item, str) for item in glossary), f"{file} defines a term inline"
    course = load_course(LESSONS_DIR)
    assert course.errors == ()
    assert len(course_terms(course)) == len(raw)


def test_terms_shared_by_lessons_are_one_entry_with_every_lesson(tmp_path):
    course = load_course(LESSONS_DIR)
    terms = {t.term: t for t in course_terms(course)}
    for shared in ("Condition number", "Gradient noise", "NaN", "Noise ball"):
        assert len(terms[shared].lessons) >= 2, shared


def test_a_term_defined_twice_is_a_course_error(tmp_path):
    import shutil

    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    glossary = root / "glossary.md"
    again = "  - {id: lr, term: learning rate, definition: Again.}\n"
    tail = "---\nThe fixture"
    glossary.write_text(glossary.read_text().replace(tail, again + tail))
    errors = [str(e) for e in load_course(root).errors]
    assert any("'learning rate' is already defined (as 'learning-rate')" in e for e in errors)


def test_a_lesson_that_defines_a_term_inline_or_names_an_unknown_one_is_broken(tmp_path):
    import shutil

    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    lesson_md = root / "01-fixture-basics" / "lesson.md"
    lesson_md.write_text(lesson_md.read_text().replace(
        "glossary: [learning-rate, divergence]",
        "glossary: [learning-rate, nosuch, {term: X, definition: Y}]"))
    broken = load_course(root).get_broken("fixture-basics")
    messages = {e.field: e.message for e in broken.errors}
    assert "unknown term id 'nosuch'" in messages["glossary[1]"]
    assert "define the term once" in messages["glossary[2]"]
