"""Flashcard export: the Anki package Anki would import, stable ids, and CSV."""

from __future__ import annotations

import csv
import io
import sqlite3
import zipfile

import pytest

from lrviz.learning import export
from lrviz.learning.content import load_course
from lrviz.learning.schema import Flashcard


@pytest.fixture(scope="module")
def lessons():
    return list(load_course("tests/fixtures/practice_course").lessons)


def _collection(apkg: bytes, tmp_path) -> sqlite3.Connection:
    with zipfile.ZipFile(io.BytesIO(apkg)) as zf:
        assert set(zf.namelist()) == {"collection.anki2", "media"}
        assert zf.read("media") == b"{}"
        path = tmp_path / "collection.anki2"
        path.write_bytes(zf.read("collection.anki2"))
    return sqlite3.connect(path)


def test_apkg_holds_every_card_in_its_lesson_deck(lessons, tmp_path):
    con = _collection(export.anki_package(lessons, timestamp=1.7e9), tmp_path)
    notes = con.execute("SELECT guid, flds, tags FROM notes").fetchall()
    assert len(notes) == sum(len(x.flashcards) for x in lessons) == 16
    by_id = {flds.split("\x1f")[3]: (flds.split("\x1f"), tags) for _, flds, tags in notes}
    card = lessons[0].flashcards[1]  # "GD on a quadratic is stable when?"
    fields, tags = by_id[card.id]
    assert fields[0] == card.front and fields[1] == "lr * lambda_max &lt; 2"  # HTML-escaped
    assert fields[2] == lessons[0].title
    assert lessons[0].id in tags.split()
    decks = con.execute("SELECT decks FROM col").fetchone()[0]
    for lesson in lessons:
        assert str(export.deck_id(lesson.id)) in decks
        assert export.deck_name(lesson) in decks
    cards = con.execute("SELECT did, COUNT(*) FROM cards GROUP BY did").fetchall()
    assert sorted(n for _, n in cards) == [8, 8]  # one card per note, in the lesson's deck
    assert {did for did, _ in cards} == {export.deck_id(x.id) for x in lessons}


def test_ids_are_stable_across_exports(lessons, tmp_path):
    first = _collection(export.anki_package(lessons[:1], timestamp=1.7e9), tmp_path)
    guids1 = sorted(r[0] for r in first.execute("SELECT guid FROM notes"))
    first.close()
    later = _collection(export.anki_package(lessons[:1], timestamp=1.8e9), tmp_path)
    guids2 = sorted(r[0] for r in later.execute("SELECT guid FROM notes"))
    models = later.execute("SELECT models FROM col").fetchone()[0]
    assert guids1 == guids2 and len(guids1) == 8
    assert str(export.MODEL_ID) in models
    assert export.deck_id("step-size") == export.deck_id("step-size")
    assert export.deck_id("step-size") != export.deck_id("momentum-fx")
    assert 2**30 <= export.deck_id("anything") < 2**31


def test_csv_round_trips_awkward_text(lessons):
    tricky = lessons[0].model_copy(update={"flashcards": [
        Flashcard(id="tricky", front='Commas, "quotes" and\nnew lines', back="=1+1, not a formula"),
    ]})
    rows = list(csv.reader(io.StringIO(export.cards_csv([tricky, lessons[1]]))))
    assert rows[0] == list(export.CSV_COLUMNS)
    # a leading "=" would make a spreadsheet evaluate the cell: it is kept as text with "'"
    assert rows[1] == ["tricky", "step-size", 'Commas, "quotes" and\nnew lines',
                       "'=1+1, not a formula"]
    assert len(rows) == 1 + 1 + 8


def test_math_becomes_mathjax():
    assert export.to_anki_html("stable if $lr < 2/\\lambda$") == \
        "stable if \\(lr &lt; 2/\\lambda\\)"
    assert export.to_anki_html("$$a$$\nb") == "\\[a\\]<br>b"


def test_file_names(lessons):
    assert export.export_filename(lessons[:1], "apkg") == "lrviz-step-size.apkg"
    assert export.export_filename(lessons, "csv") == "lrviz-all.csv"
