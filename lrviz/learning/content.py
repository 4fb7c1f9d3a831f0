"""Load the course from ``lessons/``: one folder (or one file) per lesson, validated, cached.

A broken lesson never breaks the course: it is returned as a `BrokenLesson` whose errors name
the file, the field and what is wrong, and every other lesson loads normally.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import frontmatter
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from lrviz.learning.schema import CLAIM_MARKER, Claim, Flashcard, GlossaryEntry, Lesson

M = TypeVar("M", bound=BaseModel)

LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
ENV_LESSONS_DIR = "LRVIZ_LESSONS_DIR"

# The parts of a lesson page, in reading order: (stable id, label). The ids are what the
# progress store records as "read"; the labels are the tab names (and the ``section`` URL value).
LESSON_SECTIONS: tuple[tuple[str, str], ...] = (
    ("listen", "Listen"),
    ("summary", "Summary"),
    ("audiobook", "Audiobook"),
    ("concepts", "Key concepts"),
    ("examples", "Examples"),
    ("memory-aids", "Memory aids"),
    ("glossary", "Glossary"),
)
# The shared glossary: every term defined once, here; lessons list the ids they use.
GLOSSARY_FILE = "glossary.md"
# Files in the lessons folder that are not lessons (documentation, the shared glossary).
_NOT_LESSONS = ("readme.md", GLOSSARY_FILE)
# Front-matter keys that every file of a lesson may carry; their lists are concatenated.
_PER_FILE_KEYS = ("claims",)


@dataclass(frozen=True)
class ContentError:
    path: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class BrokenLesson:
    """A lesson folder that failed validation, with enough to show it in the course map."""

    id: str
    title: str
    order: int
    errors: tuple[ContentError, ...]


@dataclass(frozen=True)
class Course:
    lessons: tuple[Lesson, ...]
    broken: tuple[BrokenLesson, ...] = ()
    errors: tuple[ContentError, ...] = field(default=())  # course-wide problems
    terms: tuple[GlossaryEntry, ...] = ()  # the shared glossary, in file order

    def get(self, lesson_id: str) -> Lesson | None:
        return next((x for x in self.lessons if x.id == lesson_id), None)

    def get_broken(self, lesson_id: str) -> BrokenLesson | None:
        return next((x for x in self.broken if x.id == lesson_id), None)

    @property
    def ids(self) -> list[str]:
        """All lesson ids in course order, broken ones included."""
        items = [(x.order, x.id) for x in self.lessons] + [(b.order, b.id) for b in self.broken]
        return [i for _, i in sorted(items)]

    def neighbours(self, lesson_id: str) -> tuple[str | None, str | None]:
        ids = self.ids
        if lesson_id not in ids:
            return None, None
        k = ids.index(lesson_id)
        return (ids[k - 1] if k > 0 else None, ids[k + 1] if k + 1 < len(ids) else None)

    def flashcards(self) -> Iterator[tuple[Lesson, Flashcard]]:
        for lesson in self.lessons:
            for card in lesson.flashcards:
                yield lesson, card

    def glossary(self) -> list[tuple[GlossaryEntry, list[str]]]:
        """Every term of the shared glossary, alphabetically, with the lessons that use it."""
        users: dict[str, list[str]] = {entry.id: [] for entry in self.terms}
        for lesson in self.lessons:
            for entry in lesson.glossary:
                users.setdefault(entry.id, []).append(lesson.id)
        return sorted(((entry, users[entry.id]) for entry in self.terms),
                      key=lambda item: item[0].term.lower())


def lessons_dir() -> Path:
    return Path(os.environ.get(ENV_LESSONS_DIR, LESSONS_DIR))


def load_course(root: Path | str | None = None) -> Course:
    """The course in ``root`` (default ``lessons/``), re-read only when a file changed."""
    root = Path(root) if root is not None else lessons_dir()
    return _load_cached(str(root), _signature(root))


def _signature(root: Path) -> tuple:
    if not root.is_dir():
        return ()
    return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size)
                        for p in root.rglob("*.md")))


def load_glossary(root: Path) -> tuple[dict[str, GlossaryEntry], list[ContentError]]:
    """The shared glossary ``root/glossary.md`` (front matter ``terms:``), by id.

    A term may be defined only once: a repeated id or a repeated term name is an error.
    """
    file = root / GLOSSARY_FILE
    if not file.exists():
        return {}, []
    try:
        raw = frontmatter.load(file).metadata.get("terms") or []
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
        return {}, [ContentError(_rel(file), "", f"cannot read the front matter: {exc}")]
    if not isinstance(raw, list):
        return {}, [ContentError(_rel(file), "terms", "must be a list of terms")]
    terms: dict[str, GlossaryEntry] = {}
    names: dict[str, str] = {}
    entries, errors = _validate_list(GlossaryEntry, raw, _rel(file), "terms")
    for k, entry in entries:
        name = entry.term.strip().casefold()
        if entry.id in terms or name in names:
            first = entry.id if entry.id in terms else names[name]
            errors.append(ContentError(_rel(file), f"terms[{k}]", f"{entry.term!r} is already "
                                       f"defined (as {first!r}); define each term once"))
            continue
        terms[entry.id], names[name] = entry, entry.id
    return terms, errors


@lru_cache(maxsize=4)
def _load_cached(root: str, signature: tuple) -> Course:
    base = Path(root)
    if not base.is_dir():
        return Course((), (), (ContentError(root, "", "the lessons folder does not exist"),))
    lessons: list[Lesson] = []
    broken: list[BrokenLesson] = []
    terms, course_errors = load_glossary(base)
    for entry in sorted(base.iterdir()):
        if entry.name.startswith((".", "_")) or entry.name.lower() in _NOT_LESSONS:
            continue
        if entry.is_dir() or entry.suffix == ".md":
            result = load_lesson(entry, terms)
            (lessons if isinstance(result, Lesson) else broken).append(result)
    course_errors += _cross_checks(lessons)
    lessons.sort(key=lambda x: (x.order, x.id))
    return Course(tuple(lessons), tuple(broken), tuple(course_errors), tuple(terms.values()))


def load_lesson(path: Path, terms: dict[str, GlossaryEntry] | None = None) -> Lesson | BrokenLesson:
    """Validate one lesson folder (or single file); never raises for bad content.

    ``terms`` is the shared glossary the lesson's ``glossary`` ids refer to (default: the
    ``glossary.md`` next to the lesson). ``{{claim:<id>}}`` markers in any text become the
    claim's stated number.
    """
    files = sorted(path.glob("*.md")) if path.is_dir() else [path]
    if terms is None:
        terms, _ = load_glossary(path.parent)
    data: dict = {}
    owner: dict[str, Path] = {}
    errors: list[ContentError] = []
    for file in files:
        try:
            post = frontmatter.load(file)
        except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
            errors.append(ContentError(_rel(file), "", f"cannot read the front matter: {exc}"))
            continue
        for key, value in post.metadata.items():
            if key in _PER_FILE_KEYS and isinstance(value, list):
                data.setdefault(key, []).extend(value)
                owner.setdefault(key, file)
                continue
            if key in data:
                errors.append(ContentError(_rel(file), key, f"also defined in {_rel(owner[key])}"))
                continue
            data[key], owner[key] = value, file
        if file.name == "lesson.md" or not path.is_dir():
            body = post.content.strip()
            if body:
                data.setdefault("intro", body)
    if not files:
        errors.append(ContentError(_rel(path), "", "no .md files in this lesson folder"))
    if not errors:
        errors += _resolve_glossary(data, terms, _rel(owner.get("glossary", path)))
        errors += _resolve_claims(data, owner, path)
    if not errors:
        try:
            return TypeAdapter(Lesson).validate_python(data)
        except ValidationError as exc:
            main_file = path / "lesson.md" if (path / "lesson.md").exists() else files[0]
            for err in exc.errors():
                loc = [str(x) for x in err["loc"]]
                top = loc[0] if loc else ""
                # A missing field belongs in lesson.md, not in whichever file sorts first.
                file = owner.get(top, main_file)
                errors.append(ContentError(_rel(file), _field_path(err["loc"]), _message(err)))
    return BrokenLesson(
        id=str(data.get("id") or path.stem.split("-", 1)[-1]),
        title=str(data.get("title") or path.name),
        order=data["order"] if isinstance(data.get("order"), int) else 999,
        errors=tuple(errors),
    )


def _resolve_glossary(data: dict, terms: dict[str, GlossaryEntry], where: str
                      ) -> list[ContentError]:
    """Replace the lesson's glossary ids by the shared entries (in place)."""
    ids = data.get("glossary")
    if not isinstance(ids, list):
        return []  # missing or malformed: the schema reports it
    errors: list[ContentError] = []
    entries: list = []
    for k, item in enumerate(ids):
        if not isinstance(item, str):
            errors.append(ContentError(where, f"glossary[{k}]", "list term ids here; define "
                                       f"the term once in lessons/{GLOSSARY_FILE}"))
        elif item not in terms:
            errors.append(ContentError(where, f"glossary[{k}]", f"unknown term id {item!r}; "
                                       f"add it to lessons/{GLOSSARY_FILE}"))
        else:
            entries.append(terms[item].model_dump())
    data["glossary"] = entries
    return errors


def _resolve_claims(data: dict, owner: dict[str, Path], path: Path) -> list[ContentError]:
    """Validate the claims and write each one's number where the text has its marker."""
    raw = data.get("claims", [])
    where = _rel(owner.get("claims", path))
    if not isinstance(raw, list):
        return [ContentError(where, "claims", "must be a list of claims")]
    valid, errors = _validate_list(Claim, raw, where, "claims")
    claims = {claim.id: claim for _, claim in valid}
    if errors:
        return errors
    unknown: set[str] = set()

    def fill(value):
        if isinstance(value, str):
            def number(match):
                claim = claims.get(match.group(1))
                if claim is None:
                    unknown.add(match.group(1))
                    return match.group(0)
                return claim.shown()
            return CLAIM_MARKER.sub(number, value)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    for key in list(data):
        if key != "claims":
            data[key] = fill(data[key])
    return [ContentError(_rel(path), "claims", f"the text refers to undeclared claim {c!r}")
            for c in sorted(unknown)]


def _validate_list(model: type[M], raw: list, where: str, field: str
                   ) -> tuple[list[tuple[int, M]], list[ContentError]]:
    """Each item of ``raw`` validated as ``model``, with its index; errors name ``field[k]``."""
    valid: list[tuple[int, M]] = []
    errors: list[ContentError] = []
    for k, item in enumerate(raw):
        try:
            valid.append((k, model.model_validate(item)))
        except ValidationError as exc:
            errors += [ContentError(where, f"{field}[{k}].{_field_path(e['loc'])}".rstrip("."),
                                    _message(e)) for e in exc.errors()]
    return valid, errors


def _message(err: dict) -> str:
    """Pydantic's message, minus its jargon, plus a hint for the commonest YAML slip."""
    msg = str(err["msg"]).removeprefix("Value error, ")
    last = err["loc"][-1] if err["loc"] else ""
    if err.get("type") == "extra_forbidden" and isinstance(last, str) and " " in last.strip():
        # `{text: a, b}` splits at the comma: the tail becomes a bogus key.
        msg += (" (this looks like text cut at a comma inside a {...} mapping: put the whole "
                "text in quotes)")
    return msg


def _field_path(loc: tuple) -> str:
    """('quiz', 3, 'single', 'options') -> 'quiz[3].options' (drops union tags)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("single", "multiple", "numeric", "ordering", "matching", "predict", "tune"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _cross_checks(lessons: list[Lesson]) -> list[ContentError]:
    """Problems between lessons: duplicate ids, flashcard ids shared by two lessons."""
    errors: list[ContentError] = []
    seen: dict[str, str] = {}
    for lesson in lessons:
        if lesson.id in seen:
            errors.append(ContentError(lesson.id, "id", "two lessons share this id"))
        seen[lesson.id] = lesson.id
    cards: dict[str, str] = {}
    for lesson in lessons:
        for card in lesson.flashcards:
            if card.id in cards and cards[card.id] != lesson.id:
                errors.append(ContentError(lesson.id, f"flashcards.{card.id}",
                                           f"flashcard id also used by lesson {cards[card.id]}"))
            cards[card.id] = lesson.id
    return errors


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(LESSONS_DIR.parent))
    except ValueError:
        return str(path)
