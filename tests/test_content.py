"""Course content: the loader (fixture course), and every real lesson in ``lessons/``.

The real-course tests parametrize over whatever lesson folders exist, so they grow with the
course: each lesson validates, every preset it links exists, and every simulation-backed claim
holds (`simcheck.check_lesson`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lrviz.engine.presets import PRESETS
from lrviz.learning.content import (
    LESSON_SECTIONS,
    LESSONS_DIR,
    BrokenLesson,
    load_course,
    load_lesson,
)
from lrviz.learning.net_questions import net_presets
from lrviz.learning.schema import Lesson
from lrviz.learning.simcheck import check_lesson

FIXTURE = Path(__file__).parent / "fixtures" / "course"
REAL_LESSONS = sorted(p for p in LESSONS_DIR.iterdir()
                      if p.is_dir() and not p.name.startswith((".", "_"))) \
    if LESSONS_DIR.is_dir() else []


# --- the loader, on the fixture course --------------------------------------------------------


def test_fixture_course_loads_valid_lessons_and_reports_the_broken_one():
    course = load_course(FIXTURE)
    assert [lesson.id for lesson in course.lessons] == ["fixture-basics", "fixture-momentum"]
    assert [b.id for b in course.broken] == ["fixture-broken"]
    (error,) = course.broken[0].errors
    assert error.path.endswith("03-fixture-broken/dialogue.md")
    assert error.field == "dialogue[1]"
    assert "both the teacher and the student" in error.message
    assert course.ids == ["fixture-basics", "fixture-momentum", "fixture-broken"]
    assert course.errors == ()


def test_front_matter_of_several_files_is_merged_and_the_body_becomes_the_intro():
    lesson = load_course(FIXTURE).get("fixture-basics")
    assert len(lesson.dialogue) == 3  # dialogue.md
    assert lesson.chapters[0].title == "Driving in an unknown city"  # chapters.md
    assert len(lesson.quiz) == 10  # practice.md
    assert "scales every update" in lesson.intro  # lesson.md's Markdown body


def test_readme_in_the_lessons_folder_is_not_a_lesson():
    assert (FIXTURE / "README.md").exists()
    assert "README" not in load_course(FIXTURE).ids


def test_neighbours_follow_course_order_including_broken_lessons():
    course = load_course(FIXTURE)
    assert course.neighbours("fixture-basics") == (None, "fixture-momentum")
    assert course.neighbours("fixture-momentum") == ("fixture-basics", "fixture-broken")
    assert course.neighbours("no-such-lesson") == (None, None)


def test_glossary_merges_terms_across_lessons_first_definition_wins():
    entries = {entry.term: (entry, ids) for entry, ids in load_course(FIXTURE).glossary()}
    assert list(entries) == sorted(entries, key=str.lower)
    entry, ids = entries["Learning rate"]
    assert ids == ["fixture-basics", "fixture-momentum"]
    assert "step-size hyperparameter" in entry.definition


def test_loaded_course_is_cached_until_a_file_changes(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    first = load_course(root)
    assert load_course(root) is first  # unchanged files: the cached object
    lesson_md = root / "02-fixture-momentum" / "lesson.md"
    # A longer file: the size changes too, so this holds even where mtimes are coarse.
    lesson_md.write_text(lesson_md.read_text().replace("minutes: 15", "minutes: 150"))
    changed = load_course(root)
    assert changed is not first
    assert changed.get("fixture-momentum").minutes == 150


def _copy_lesson(tmp_path: Path, name: str = "01-fixture-basics") -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURE / name, target)
    shutil.copy(FIXTURE / "glossary.md", tmp_path / "glossary.md")  # the terms it refers to
    return target


def test_a_missing_field_is_reported_against_lesson_md(tmp_path):
    folder = _copy_lesson(tmp_path)
    chapters = folder / "chapters.md"
    chapters.write_text("---\n---\nno chapters here\n")
    result = load_lesson(folder)
    assert isinstance(result, BrokenLesson)
    (error,) = result.errors
    assert error.path.endswith("lesson.md") and error.field == "chapters"
    assert "required" in error.message.lower()


def test_yaml_syntax_error_names_the_file_and_the_rest_of_the_course_loads(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root)
    (root / "02-fixture-momentum" / "lesson.md").write_text("---\nid: [unclosed\n---\n")
    course = load_course(root)
    broken = course.get_broken("fixture-momentum")
    assert broken is not None
    assert broken.errors[0].path.endswith("02-fixture-momentum/lesson.md")
    assert "front matter" in broken.errors[0].message
    assert course.get("fixture-basics") is not None


def test_text_cut_at_a_comma_in_a_flow_mapping_gets_a_hint(tmp_path):
    folder = _copy_lesson(tmp_path)
    practice = folder / "practice.md"
    text = practice.read_text()
    bad = text.replace('back: "No, a hyperparameter set before training."',
                       "back: No, a hyperparameter set before training.")
    assert bad != text
    practice.write_text(bad)
    result = load_lesson(folder)
    assert isinstance(result, BrokenLesson)
    messages = [e.message for e in result.errors if e.field.startswith("flashcards[7]")]
    assert any("put the whole text in quotes" in m for m in messages)


def test_missing_lessons_folder_is_a_course_error_not_an_exception(tmp_path):
    course = load_course(tmp_path / "nowhere")
    assert course.lessons == () and course.errors
    assert "does not exist" in course.errors[0].message


def test_lesson_sections_have_unique_ids_and_labels():
    ids = [i for i, _ in LESSON_SECTIONS]
    labels = [label for _, label in LESSON_SECTIONS]
    assert len(set(ids)) == len(ids) == 7 and len(set(labels)) == 7
    assert labels[0] == "Listen"


# --- the real course ---------------------------------------------------------------------------


@pytest.mark.parametrize("folder", REAL_LESSONS, ids=lambda p: p.name)
def test_real_lesson_validates(folder):
    result = load_lesson(folder)
    assert isinstance(result, Lesson), "\n".join(str(e) for e in result.errors)


@pytest.mark.parametrize("folder", REAL_LESSONS, ids=lambda p: p.name)
def test_real_lesson_links_only_existing_presets(folder):
    lesson = load_lesson(folder)
    if not isinstance(lesson, Lesson):
        pytest.skip("the lesson does not validate (reported by test_real_lesson_validates)")
    linked = [ex.preset for ex in lesson.examples]
    linked += [s.ending.preset for s in lesson.dialogue if s.ending.preset]
    nets = net_presets()  # lesson 6 links network presets (lrviz.nets)
    unknown = sorted({p for p in linked if p not in PRESETS and p not in nets})
    assert not unknown, f"{lesson.id} links unknown preset(s) {unknown}"
    for ex in lesson.examples:
        runs = nets[ex.preset].runs() if ex.preset in nets else PRESETS[ex.preset].runs
        assert 0 <= ex.run < len(runs), f"{ex.title}: no run {ex.run}"


@pytest.mark.parametrize("folder", REAL_LESSONS, ids=lambda p: p.name)
def test_real_lesson_simulation_claims_hold(folder):
    lesson = load_lesson(folder)
    if not isinstance(lesson, Lesson):
        pytest.skip("the lesson does not validate (reported by test_real_lesson_validates)")
    assert check_lesson(lesson) == []


def test_real_course_has_no_cross_lesson_errors():
    course = load_course(LESSONS_DIR)
    assert course.errors == (), "\n".join(str(e) for e in course.errors)
    assert len(set(course.ids)) == len(course.ids)


# --- renamed presets: old links still open the right run ----------------------------------------


def test_renamed_preset_ids_point_at_existing_presets_and_are_not_ids_themselves():
    from lrviz.engine.presets import RENAMED_PRESETS

    assert RENAMED_PRESETS["edge-of-stability"] == "stability-limit"
    for old, new in RENAMED_PRESETS.items():
        assert new in PRESETS and old not in PRESETS


def test_an_old_preset_link_opens_the_renamed_preset_with_a_notice(app_test):
    at = app_test("lrviz/ui/pages/lab.py", query={"preset": "edge-of-stability"})
    assert not at.exception, at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "'edge-of-stability' is now called 'stability-limit'" in warnings
    assert at.query_params["preset"] in (["stability-limit"], "stability-limit")
    # The renamed preset's main run is loaded: lr 0.098 on the condition-20 ravine.
    assert at.number_input(key="lr").value == PRESETS["stability-limit"].config.lr
