"""The live class poll's store and content: codes, passcodes, per-class names, one answer per
student that only its owner can change, tallies, the engine's answer and the dashboard."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from lrviz import simulate
from lrviz.engine.presets import PRESETS
from lrviz.learning.class_polls import (
    build_poll,
    concept_results,
    poll_csv,
    poll_options,
    question_results,
)
from lrviz.learning.classroom import (
    CODE_ALPHABET,
    ClassError,
    ClassroomStore,
    Member,
    classroom_url,
    clean_code,
)
from lrviz.learning.content import load_course
from lrviz.learning.grading import grade_predict
from lrviz.learning.simcheck import predict_run
from lrviz.learning.store import SCHEMA_VERSION, ProgressStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> ClassroomStore:
    """A classroom store on a SQLite file, or on a fresh database of a real PostgreSQL."""
    url = (f"sqlite:///{tmp_path / 'classroom.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    s = ClassroomStore(url)
    yield s
    s.close()


def test_classes_and_progress_share_one_postgresql_database(postgres_url):
    """Replicas behind a load balancer point both stores at one database: class tables made
    first must not make the progress store call that database foreign."""
    classes = ClassroomStore(postgres_url)
    room = classes.open_class("Period 3", "maple-42")
    progress = ProgressStore(postgres_url)
    assert progress.version == SCHEMA_VERSION
    assert classes.teacher_login(room.code, "maple-42").code == room.code
    progress.close()
    classes.close()


def _poll(store: ClassroomStore, code: str, answer: str = "diverged"):
    return store.launch(code, kind="preset", ref="divergence", prompt="What will it do?",
                        choices=("converged", "overshooting", "diverged"), answer=answer,
                        concepts=("divergence", "curvature"))


def test_a_class_has_a_readable_code_and_only_its_passcode_opens_it(store, tmp_path):
    room = store.open_class("Period 3", "maple-42")
    assert len(room.code) == 6 and set(room.code) <= set(CODE_ALPHABET)
    assert store.teacher_login(room.code.lower(), "maple-42").title == "Period 3"
    with pytest.raises(ClassError, match="do not match"):
        store.teacher_login(room.code, "maple-43")
    with pytest.raises(ClassError, match="at least 4"):
        store.open_class("x", "abc")
    if not store.is_sqlite:
        return
    # the passcode is kept only as a salted hash: its text is nowhere in the file
    raw = (tmp_path / "classroom.sqlite3").read_bytes()
    assert b"maple-42" not in raw
    stored = sqlite3.connect(tmp_path / "classroom.sqlite3").execute(
        "select passcode_hash from class_rooms").fetchone()[0]
    assert stored.startswith("scrypt$") and len(stored.split("$")[4]) == 32  # 16-byte salt


def test_codes_typed_on_a_phone_are_normalised_and_bad_ones_explained():
    assert clean_code(" k7m-x2q ") == "K7MX2Q"
    for bad in ("", "K7MX2", "K7MX2QQ", "K0MX2Q", "<b>x</b>", "1" * 5000):
        with pytest.raises(ClassError, match="6 letters and digits"):
            clean_code(bad)


def test_names_are_unique_per_class_not_across_classes(store):
    a, b = store.open_class("A", "pass-a"), store.open_class("B", "pass-b")
    store.join(a.code, "Ada Lovelace")
    with pytest.raises(ClassError, match="already uses that name"):
        store.join(a.code, "  ada   LOVELACE ")
    assert store.join(b.code, "Ada Lovelace").name == "Ada Lovelace"  # another class: fine
    with pytest.raises(ClassError, match="No class has that code"):
        store.join("ZZZZZZ", "Grace")
    assert store.members(a.code) == ["Ada Lovelace"]


def test_one_answer_per_student_changeable_until_the_reveal(store):
    room = store.open_class("A", "pass")
    poll = _poll(store, room.code)
    ada, bob, cy = (store.join(room.code, n) for n in ("Ada", "Bob", "Cy"))
    store.submit(ada, poll.id, "converged")
    store.submit(bob, poll.id, "diverged")
    store.submit(ada, poll.id, "diverged")  # Ada changes her mind: still one answer
    assert store.tally(poll.id) == {"converged": 0, "overshooting": 0, "diverged": 2}
    assert store.my_answer(ada, poll.id) == "diverged" and store.my_answer(cy, poll.id) is None
    with pytest.raises(ClassError, match="not one of the choices"):
        store.submit(cy, poll.id, "stuck")
    store.reveal(poll.id)
    with pytest.raises(ClassError, match="revealed"):
        store.submit(cy, poll.id, "diverged")
    assert store.tally(poll.id)["diverged"] == 2


def test_a_student_cannot_answer_or_read_as_someone_else(store):
    room = store.open_class("A", "pass")
    poll = _poll(store, room.code)
    ada = store.join(room.code, "Ada")
    store.submit(ada, poll.id, "converged")
    forged = Member(ada.id, ada.code, ada.name, token="guessed-token")
    with pytest.raises(ClassError, match="not signed in"):
        store.submit(forged, poll.id, "diverged")
    with pytest.raises(ClassError, match="not signed in"):
        store.my_answer(forged, poll.id)
    other = store.open_class("B", "pass")
    with pytest.raises(ClassError, match="another class"):
        store.submit(store.join(other.code, "Eve"), poll.id, "diverged")
    assert store.my_answer(ada, poll.id) == "converged"


def test_the_answer_of_a_poll_is_what_the_engine_does():
    course = load_course()
    options = poll_options(course)
    questions = [o for o in options if o[0] == "question"]
    assert len(questions) >= 5 and any(o[0] == "preset" for o in options)
    for kind, ref, _title in questions:
        spec = build_poll(course, kind, ref)
        lesson_id, qid = ref.split("/")
        question = next(q for q in course.get(lesson_id).quiz if q.id == qid)
        run = predict_run(question)  # lesson 6 asks about networks: the network engine
        assert spec.answer == run.regime.value
        # exactly the choices the quiz itself grades right
        assert set(spec.accepted) == {c for c in spec.choices
                                      if grade_predict(question, c, run).correct}
        assert spec.answer in spec.choices and spec.concepts == tuple(
            course.get(lesson_id).concepts)
    preset = build_poll(course, "preset", "divergence")
    assert preset.answer == "diverged" == simulate(PRESETS["divergence"].config).regime.value
    assert "diverge" not in preset.prompt.lower()  # the prompt must not give it away
    with pytest.raises(ValueError, match="no predict question or preset"):
        build_poll(course, "question", "lr-basics/not-a-question")


def test_dashboard_counts_per_question_and_per_concept(store):
    room = store.open_class("A", "pass")
    first = _poll(store, room.code, answer="diverged")
    second = store.launch(room.code, kind="preset", ref="overshoot", prompt="?",
                          choices=("converged", "overshooting", "diverged"),
                          answer="overshooting", accepted=("overshooting", "converged"),
                          concepts=("overshoot", "curvature"))
    ada, bob = store.join(room.code, "Ada"), store.join(room.code, "=HYPERLINK(\"x\")")
    store.submit(ada, first.id, "diverged")
    store.submit(bob, first.id, "converged")
    store.submit(ada, second.id, "overshooting")
    store.submit(bob, second.id, "converged")  # also right: it converged, zig-zagging
    rows = store.answer_rows(room.code)
    per_question = question_results(store.polls(room.code), rows)
    assert [(r["answered"], r["correct"]) for r in per_question] == [(2, 1), (2, 2)]
    per_concept = {r["concept"]: r for r in concept_results(store.polls(room.code), rows)}
    curvature = per_concept["curvature and the 2/lambda bound"]
    assert (curvature["answered"], curvature["correct"]) == (4, 3)
    assert per_concept["divergence / NaN"]["share_correct"] == pytest.approx(0.5)
    assert next(iter(per_concept)) == "divergence / NaN"  # weakest first
    table = list(csv.reader(io.StringIO(poll_csv(rows))))
    assert table[0][:4] == ["poll", "question", "student", "prediction"]
    students = [r[2] for r in table[1:]]
    assert "'=HYPERLINK(\"x\")" in students  # a formula name is inert in a spreadsheet


def test_class_database_sits_beside_a_sqlite_progress_file(tmp_path, monkeypatch):
    monkeypatch.delenv("LRVIZ_CLASS_DB_URL", raising=False)
    monkeypatch.setenv("LRVIZ_DB_URL", f"sqlite:///{tmp_path / 'p' / 'progress.sqlite3'}")
    assert classroom_url() == f"sqlite:///{tmp_path / 'p' / 'classroom.sqlite3'}"
    monkeypatch.setenv("LRVIZ_CLASS_DB_URL", f"sqlite:///{tmp_path / 'c.db'}")
    assert classroom_url() == f"sqlite:///{tmp_path / 'c.db'}"
