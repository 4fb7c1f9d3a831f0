"""Export flashcards: an Anki package (``.apkg`` via genanki) and a CSV file.

Ids are stable, so re-importing an updated export into Anki updates the same notes instead of
duplicating them: the note model id is a constant, each lesson's deck id and each note's guid
are derived from the lesson id and the flashcard id.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

import genanki

from lrviz.learning.schema import Flashcard, Lesson

MODEL_ID = 1_431_872_407  # fixed forever: Anki matches notes to their note type by it
DECK_ROOT = "lrviz"
CSV_COLUMNS = ("id", "lesson", "front", "back")
# A spreadsheet reads a cell that starts with one of these as a formula (=HYPERLINK(...),
# +cmd|..., @SUM(...)); tab and carriage return hide such a start behind whitespace.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

MODEL = genanki.Model(
    MODEL_ID,
    "lrviz flashcard",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Lesson"}, {"name": "CardId"}],
    templates=[{
        "name": "Card 1",
        "qfmt": "{{Front}}",
        "afmt": '{{FrontSide}}<hr id="answer">{{Back}}<div class="lesson">{{Lesson}}</div>',
    }],
    css=".card { font-family: sans-serif; font-size: 22px; text-align: center; } "
        ".lesson { margin-top: 1em; font-size: 14px; color: #666; }",
)


def deck_id(lesson_id: str) -> int:
    """A stable deck id in genanki's recommended range [2**30, 2**31)."""
    digest = int(hashlib.sha1(f"lrviz-deck:{lesson_id}".encode()).hexdigest()[:8], 16)
    return (1 << 30) + digest % (1 << 30)


def deck_name(lesson: Lesson) -> str:
    return f"{DECK_ROOT}::{lesson.order:02d} {lesson.title}"


def to_anki_html(text: str) -> str:
    """Card text as Anki HTML: escaped, line breaks kept, $..$ / $$..$$ as MathJax."""
    out = html.escape(text.strip())
    out = re.sub(r"\$\$(.+?)\$\$", r"\\[\1\\]", out, flags=re.S)
    out = re.sub(r"(?<!\\)\$(.+?)(?<!\\)\$", r"\\(\1\\)", out)
    return out.replace("\n", "<br>")


def _note(lesson: Lesson, card: Flashcard) -> genanki.Note:
    return genanki.Note(
        model=MODEL,
        fields=[to_anki_html(card.front), to_anki_html(card.back), html.escape(lesson.title),
                card.id],
        guid=genanki.guid_for(DECK_ROOT, card.id),
        tags=[DECK_ROOT, lesson.id],
    )


def anki_package(lessons: Sequence[Lesson], timestamp: float | None = None) -> bytes:
    """An ``.apkg`` with one deck per lesson (``lrviz::01 Title``) holding its flashcards."""
    decks = []
    for lesson in lessons:
        deck = genanki.Deck(deck_id(lesson.id), deck_name(lesson),
                            description=f"Flashcards of the lrviz lesson "
                                        f"“{html.escape(lesson.title)}”.")
        for card in lesson.flashcards:
            deck.add_note(_note(lesson, card))
        decks.append(deck)
    package = genanki.Package(decks)
    # genanki's write_to_file leaves its temporary database behind; build the zip here instead.
    with tempfile.TemporaryDirectory(prefix="lrviz-apkg-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        conn = sqlite3.connect(db_path)
        try:
            # Anki updates an existing note on import only when this modification time is newer.
            stamp = time.time() if timestamp is None else timestamp
            package.write_to_db(conn.cursor(), stamp, iter(range(int(stamp * 1000), 2**62)))
            conn.commit()
        finally:
            conn.close()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(db_path, "collection.anki2")
            zf.writestr("media", "{}")
    return buffer.getvalue()


def csv_text(value: object) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character gets a ``'``
    prefix (the OWASP "CSV injection" defence), everything else is unchanged."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def cards_csv(lessons: Sequence[Lesson]) -> str:
    """All flashcards of ``lessons`` as CSV with a header row: id, lesson, front, back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for lesson in lessons:
        for card in lesson.flashcards:
            writer.writerow(tuple(map(csv_text, (card.id, lesson.id, card.front, card.back))))
    return buffer.getvalue()


def export_filename(lessons: Sequence[Lesson], extension: str) -> str:
    """``lrviz-<lesson-id>.apkg`` for one lesson, ``lrviz-all.apkg`` for several."""
    stem = lessons[0].id if len(lessons) == 1 else "all"
    return f"lrviz-{stem}.{extension}"
