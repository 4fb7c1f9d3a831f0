"""Every URL parameter of the app in one declarative table; parsing, notices and links follow.

Each `Entry` says what one parameter is: its name (the URL key, which is also the key of the
widget bound to it: Streamlit's ``bind="query-params"`` uses one key for both), its type
(float, int, enum, bool, str, list), the range or choices a value must lie in, the config field
it fills and the pages that read it. The fixed parameters are rows of `TABLE`; the parameters
of the chosen surface, optimizer and schedule are generated rows (`component_rows`), built from
the engine registries with the slider range of each `Param` (inside its ``valid`` range) as
their `Interval`. `page_rows` lists, in link order, every row a page reads for the chosen
components; from it come:

- `parse`: URL text -> typed values, plus a notice naming each unusable parameter and value
  (quoted with `lrviz.ui.safe_text.shown`, or plain ``repr`` on pages that show notices as
  plain text) and the list of rejected keys; it returns a `Parsed` and never raises;
- `single_values` (a key given several times keeps its last value, with a notice) and
  `unknown_keys` (a key no row of the page has), also returning `Parsed`;
- `link_pairs`: the (key, value) pairs of a share link, only the values that differ from what
  the page shows without them, in table order.

Rules a value must pass (so that no widget ever sees something it cannot take): numbers are
ASCII, finite and inside the row's interval, whole for ints; an enum value is one of its
choices; a bool is ``true`` or ``false``. No streamlit import: the table is unit-tested.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.presets import PRESETS
from lrviz.engine.registry import REGISTRIES, get_entry
from lrviz.engine.schedules import SCHEDULES
from lrviz.engine.spec import LR_RANGE, Interval, Param
from lrviz.engine.surfaces import SURFACES, get_surface
from lrviz.nets.config import MAX_HIDDEN_LAYERS, MAX_WIDTH
from lrviz.nets.data import DATASETS
from lrviz.ui.safe_text import shown

Type = Literal["float", "int", "enum", "bool", "str", "list"]
Quote = Callable[[object], str]

# Pages (the first path segment of their URL).
LAB, SCHEDULES_PAGE, RACE, FINDER, NETWORK = "lab", "schedules", "race", "finder", "network"
LESSON, QUIZ, FLASHCARDS, GLOSSARY, HOME, PROGRESS, CLASSROOM = (
    "lesson", "quiz", "flashcards", "glossary", "home", "progress", "class")
PAGES = (LAB, SCHEDULES_PAGE, RACE, FINDER, NETWORK, LESSON, QUIZ, FLASHCARDS, GLOSSARY, HOME,
         PROGRESS, CLASSROOM)
IGNORED_KEYS = ("embed", "embed_options")  # Streamlit's own parameters, on every page

# Which component kinds each 2-D page lets the URL choose (and so whose parameters it reads).
COMPONENTS: dict[str, tuple[str, ...]] = {
    LAB: ("surface", "optimizer", "schedule"), SCHEDULES_PAGE: ("surface", "optimizer"),
    RACE: ("surface",), FINDER: ("surface", "optimizer", "schedule"),
    NETWORK: ("optimizer", "schedule"),
}

NO_PINS = "none"  # ``pins=none``: explicitly no pinned runs (overrides a preset's)
MAX_PINS = 4
SLOT_DEFAULTS = ("cosine", "warmup_cosine", "one_cycle")  # /schedules: slots s1, s2, s3
SLOTS = (1, 2, 3)
NO_SLOT = "none"


class BadValueError(ValueError):
    """A URL value that cannot be used; the message says why (it ends up in a notice)."""


def show(value: object) -> str:
    """A value as the URL writes it: 5.0 -> ``5``, 0.01 -> ``0.01``, True -> ``true``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        value = float(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _number(text: str, valid: Interval) -> float:
    if not text.strip():
        raise BadValueError("empty")
    if not text.isascii():  # float() also reads other scripts' digits; widgets do not
        raise BadValueError("not a number")
    try:
        value = float(text)
    except (ValueError, OverflowError):
        raise BadValueError("not a number") from None
    if not math.isfinite(value):
        raise BadValueError("not a finite number")
    if value not in valid:
        raise BadValueError(f"outside the allowed range {show(valid.lo)} … {show(valid.hi)}")
    return value


@dataclass(frozen=True)
class Entry:
    """One URL parameter.

    ``valid`` bounds a float/int; ``options`` lists an enum's or a list's choices (a callable
    when they are expensive to import, e.g. lesson sections); ``read``/``write`` replace the
    text conversion of a ``str`` row with a format (a network's ``hidden=64-32``). ``field`` is
    the config field the value fills (``""``: the name itself, or none). ``owner`` names the
    component of a generated row (``"surface bowl"``).
    """

    name: str
    type: Type
    meaning: str
    pages: tuple[str, ...]
    default: object = None
    valid: Interval | None = None
    options: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()
    field: str = ""
    owner: str = ""
    read_text: Callable[[str], object] | None = None
    write_value: Callable[[object], str] | None = None

    @property
    def widget(self) -> str:
        """The session-state key of the widget bound to this parameter (= the URL key)."""
        return self.name

    def choices(self) -> tuple[str, ...]:
        return tuple(self.options() if callable(self.options) else self.options)

    def read(self, text: str) -> object:
        """The typed value of URL text; BadValueError says why it is unusable."""
        if self.read_text is not None:
            return self.read_text(text)
        if self.type in ("float", "int"):
            assert self.valid is not None, self.name
            value = _number(text, self.valid)
            if self.type == "float":
                return value
            if not value.is_integer():
                raise BadValueError("not a whole number")
            return int(value)
        if self.type == "enum":
            options = self.choices()
            if text not in options:
                raise BadValueError(f"choose one of {', '.join(options)}")
            return text
        if self.type == "bool":
            if text.lower() not in ("true", "false"):
                raise BadValueError("expected true or false")
            return text.lower() == "true"
        return text

    def write(self, value: object) -> str:
        """URL text that `read` turns back into ``value``."""
        return self.write_value(value) if self.write_value is not None else show(value)

    def with_(self, **changes) -> Entry:
        return Entry(**{**self.__dict__, **changes})


@dataclass(frozen=True)
class Parsed:
    """What a parse found: the usable values (typed), a notice per problem, rejected keys."""

    values: dict[str, object] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()

    def report(self) -> Parsed:
        """Only the notices and rejected keys (to combine with the typed values of a parse)."""
        return Parsed({}, self.notices, self.rejected)

    def __add__(self, other: Parsed) -> Parsed:
        return Parsed({**self.values, **other.values}, self.notices + other.notices,
                      tuple(dict.fromkeys(self.rejected + other.rejected)))


# --- the table -----------------------------------------------------------------------------

_LAB2D = (LAB, SCHEDULES_PAGE, RACE, FINDER)
LR_VALID = Interval(*LR_RANGE)  # the part of the engine's valid rates the app offers
_PRESENT_PAGES = (LAB, RACE, SCHEDULES_PAGE, FINDER, LESSON)


def _flag(text: str) -> bool:
    """A switch written ``1``/``0`` (``true``/``false`` also read)."""
    if text.lower() not in ("1", "0", "true", "false"):
        raise BadValueError("expected 1 or 0")
    return text.lower() in ("1", "true")


def read_hidden(text: str) -> tuple[int, ...]:
    """``"64-32"`` (or ``"64,32"``) as layer widths; BadValueError says what is wrong."""
    parts = text.replace(",", "-").replace("x", "-").split("-")
    if not 1 <= len(parts) <= MAX_HIDDEN_LAYERS or not all(p.strip().isdigit() and p.isascii()
                                                            for p in parts):
        raise BadValueError(f"expected 1 to {MAX_HIDDEN_LAYERS} layer widths such as 32 or "
                            f"64-32")
    widths = tuple(int(p) for p in parts)
    if not all(1 <= w <= MAX_WIDTH for w in widths):
        raise BadValueError(f"every width must be between 1 and {MAX_WIDTH}")
    return widths


def write_hidden(hidden: object) -> str:
    return "-".join(str(w) for w in hidden)  # type: ignore[union-attr]


def read_batch(text: str) -> int | None:
    """``full`` (None: full-batch) or a positive whole number of examples."""
    if text == "full":
        return None
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise BadValueError("expected full or a positive whole number")
    return int(text)


def write_batch(batch_size: object) -> str:
    return "full" if batch_size is None else str(batch_size)


def _lesson_sections() -> tuple[str, ...]:
    from lrviz.learning.content import LESSON_SECTIONS  # heavy: only when a lesson URL is read

    return tuple(label for _, label in LESSON_SECTIONS)


def _net_presets() -> tuple[str, ...]:
    from lrviz.nets.presets import PRESETS as NET_PRESETS  # builds the presets: only on use

    return tuple(NET_PRESETS)


TABLE: tuple[Entry, ...] = (
    # the 2-D pages: a run on a surface (the order is the order of a lab link)
    Entry("preset", "enum", "a lab preset: its first run in the controls, the others pinned",
          (LAB,), options=tuple(PRESETS)),
    Entry("surface", "enum", "the loss surface", _LAB2D, options=tuple(SURFACES)),
    Entry("optimizer", "enum", "the optimizer", (LAB, SCHEDULES_PAGE, FINDER),
          options=tuple(OPTIMIZERS)),
    Entry("lr", "float", "the (peak) learning rate", (LAB, SCHEDULES_PAGE, RACE),
          valid=LR_VALID),
    Entry("schedule", "enum", "the learning-rate schedule", (LAB, FINDER),
          options=tuple(SCHEDULES)),
    Entry("steps", "int", "the number of optimizer steps", _LAB2D, valid=Interval(10, 2000)),
    Entry("x0", "float", "the start point's x (inside the surface's plotted domain)", _LAB2D,
          field="start"),
    Entry("y0", "float", "the start point's y (inside the surface's plotted domain)", _LAB2D,
          field="start"),
    Entry("noise", "float", "the gradient noise σ", (LAB,), valid=Interval(0.0, 3.0)),
    Entry("seed", "int", "the gradient noise seed", (LAB,), valid=Interval(0, 2**31 - 1)),
    Entry("pins", "list", "pinned runs to compare (key:value,... each)", (LAB,)),
    Entry("view3d", "bool", "show the 3-D surface", (LAB,), default=False),
    Entry("present", "bool", "presenter mode (large type, no sidebar): present=1", _PRESENT_PAGES,
          default=False, read_text=_flag, write_value=lambda on: "1" if on else "0"),
    # /race
    Entry("optimizers", "list", "the racing optimizers", (RACE,), options=tuple(OPTIMIZERS)),
    Entry("mode", "enum", "the race's learning-rate mode", (RACE,), options=("shared", "tuned"),
          default="shared"),
    # /schedules (slot parameters are generated: s1_T_max, ...)
    *(Entry(f"s{i}", "enum", f"the schedule in slot {i}", (SCHEDULES_PAGE,),
            options=(NO_SLOT, *(s for s in SCHEDULES if s != "constant")),
            default=SLOT_DEFAULTS[i - 1]) for i in SLOTS),
    Entry("run", "bool", "run the schedules on the surface", (SCHEDULES_PAGE,), default=True),
    # /finder
    Entry("lr_min", "float", "the range test's lowest rate", (FINDER,), valid=LR_VALID,
          default=1e-4),
    Entry("lr_max", "float", "the range test's highest rate", (FINDER,), valid=LR_VALID,
          default=10.0),
    Entry("points", "int", "the range test's number of rates", (FINDER,),
          valid=Interval(10, 200), default=60),
    Entry("rows", "int", "the phase map's number of rows", (FINDER,), valid=Interval(4, 30)),
    Entry("phase_param", "enum", "the phase map's second axis: an optimizer or schedule "
          "parameter", (FINDER,)),
    # course and practice pages: their pickers check ids against the course
    Entry("lesson", "str", "a lesson id", (LESSON, QUIZ)),
    Entry("section", "enum", "a lesson section", (LESSON,), options=_lesson_sections),
    Entry("deck", "str", "a flashcard deck id", (FLASHCARDS,)),
    Entry("q", "str", "a glossary search", (GLOSSARY,)),
    Entry("code", "str", "a class code", (CLASSROOM,)),
    # /network: a network preset, the run (optimizer and schedule parameters are generated),
    # then the view and the range test's, sweep's and trainability map's settings
    Entry("preset", "enum", "a network preset: its run, view and view settings", (NETWORK,),
          options=_net_presets),
    Entry("dataset", "enum", "the data set", (NETWORK,), options=DATASETS),
    Entry("hidden", "str", "the hidden layer widths, e.g. 64-32", (NETWORK,),
          read_text=read_hidden, write_value=write_hidden),
    Entry("activation", "enum", "the activation", (NETWORK,), options=("tanh", "relu")),
    Entry("loss", "enum", "the loss", (NETWORK,), options=("cross_entropy", "mse")),
    Entry("optimizer", "enum", "the optimizer", (NETWORK,), options=tuple(OPTIMIZERS)),
    Entry("lr", "float", "the (peak) learning rate", (NETWORK,), valid=LR_VALID),
    Entry("schedule", "enum", "the learning-rate schedule", (NETWORK,), options=tuple(SCHEDULES)),
    Entry("steps", "int", "the number of optimizer steps", (NETWORK,), valid=Interval(10, 1000)),
    Entry("batch", "str", "the mini-batch size, or full", (NETWORK,), field="batch_size",
          read_text=read_batch, write_value=write_batch),
    Entry("wd", "float", "the L2 weight decay", (NETWORK,), valid=Interval(0.0, 0.1),
          field="weight_decay"),
    Entry("seed", "int", "the initialisation and batching seed", (NETWORK,),
          valid=Interval(0, 9999)),
    Entry("sharp", "int", "measure the sharpness every so many steps (0: never)", (NETWORK,),
          valid=Interval(0, 100), field="sharpness_every"),
    Entry("view", "enum", "the view: one run, the range test or the trainability map",
          (NETWORK,), options=("run", "range", "map")),
    *(Entry(name, "float", f"the trainability map's {what} (log10 rate)", (NETWORK,),
            valid=Interval(-5.0, 3.0))
      for name, what in (("tm_lo1", "layer-1 low"), ("tm_hi1", "layer-1 high"),
                         ("tm_lo2", "layer-2 low"), ("tm_hi2", "layer-2 high"))),
    Entry("tm_n", "enum", "the trainability map's grid size", (NETWORK,),
          options=("16", "32", "64", "128")),
    Entry("tm_steps", "int", "the trainability map's steps per run", (NETWORK,),
          valid=Interval(10, 500)),
    Entry("tm_ex", "int", "the training examples the map uses (0: all)", (NETWORK,),
          valid=Interval(0, 2000)),
    Entry("rt_lo", "float", "the range test's lowest rate (log10)", (NETWORK,),
          valid=Interval(-5.0, 3.0)),
    Entry("rt_hi", "float", "the range test's highest rate (log10)", (NETWORK,),
          valid=Interval(-5.0, 3.0)),
    Entry("rt_steps", "int", "the range test's steps", (NETWORK,), valid=Interval(20, 1000)),
    Entry("sw_lo", "float", "the sweep's lowest rate (log10)", (NETWORK,),
          valid=Interval(-5.0, 3.0)),
    Entry("sw_hi", "float", "the sweep's highest rate (log10)", (NETWORK,),
          valid=Interval(-5.0, 3.0)),
    Entry("sw_n", "int", "the sweep's number of runs", (NETWORK,), valid=Interval(2, 64)),
)


def row(name: str, page: str) -> Entry:
    """The fixed row ``name`` of ``page`` (KeyError if the page has none)."""
    for entry in TABLE:
        if entry.name == name and page in entry.pages:
            return entry
    raise KeyError((name, page))


def param_row(p: Param, owner: str, pages: tuple[str, ...], prefix: str = "") -> Entry:
    """The row of one registry parameter: its slider range (inside ``p.valid``) as interval."""
    return Entry(prefix + p.name, "int" if p.integer else "float", p.label, pages,
                 default=p.default, valid=Interval(p.low, p.high), owner=owner)


def component_rows(kind: str, name: str, pages: tuple[str, ...] = _LAB2D,
                   prefix: str = "") -> tuple[Entry, ...]:
    """Generated rows: the parameters of component ``name`` of ``kind``."""
    spec = get_entry(kind, name)
    return tuple(param_row(p, f"{kind} {name}", pages, prefix) for p in spec.params)


def start_rows(surface: str, pages: tuple[str, ...] = _LAB2D) -> tuple[Entry, Entry]:
    """x0 and y0, bounded by the surface's plotted domain."""
    (xlo, xhi), (ylo, yhi) = get_surface(surface).domain
    return (row("x0", LAB).with_(valid=Interval(xlo, xhi), pages=pages),
            row("y0", LAB).with_(valid=Interval(ylo, yhi), pages=pages))


def phase_axes(optimizer: str, schedule: str) -> dict[str, tuple[str, Param]]:
    """The finder's phase-map axes: every parameter of the optimizer and the schedule."""
    out = {}
    for kind, name in (("optimizer", optimizer), ("schedule", schedule)):
        out.update({p.name: (kind, p) for p in get_entry(kind, name).params})
    return out


def page_rows(page: str, surface: str = "rosenbrock", optimizer: str = "adam",
              schedule: str = "constant", slots: Mapping[int, str] | None = None,
              ) -> tuple[Entry, ...]:
    """Every row ``page`` reads when these components are chosen, in link order: the fixed
    rows with x0/y0 bounded by the surface and the chosen components' parameters generated
    after y0 (on /schedules each slot's parameters after the slots; on /finder the phase
    axis choices are the chosen optimizer's and schedule's parameters)."""
    chosen = {"surface": surface, "optimizer": optimizer, "schedule": schedule}
    out: list[Entry] = []
    for entry in TABLE:
        if page not in entry.pages:
            continue
        if entry.name == "x0":
            out.extend(start_rows(surface))
            for kind in COMPONENTS.get(page, ()):
                out.extend(component_rows(kind, chosen[kind], (page,)))
        elif entry.name == "y0":
            continue
        elif page == NETWORK and entry.name == "view":  # the run's parameters, then the view
            for kind in COMPONENTS[NETWORK]:
                out.extend(component_rows(kind, chosen[kind], (NETWORK,)))
            out.append(entry)
        elif entry.name == "phase_param":
            out.append(entry.with_(options=tuple(phase_axes(optimizer, schedule))))
        elif entry.name == "run":  # after the slots: their parameters
            for i in SLOTS:
                name = (slots or {}).get(i, SLOT_DEFAULTS[i - 1])
                if name in SCHEDULES:
                    out.extend(component_rows("schedule", name, (SCHEDULES_PAGE,), f"s{i}_"))
            out.append(entry)
        else:
            out.append(entry)
    return tuple(out)


def all_rows(page: str) -> Iterable[Entry]:
    """Every row ``page`` can ever read, for every choice of components (for the tests)."""
    for entry in TABLE:
        if page not in entry.pages or entry.name in ("x0", "y0"):
            continue
        if entry.name == "phase_param":
            entry = entry.with_(options=tuple(dict.fromkeys(
                name for o in OPTIMIZERS for s in SCHEDULES for name in phase_axes(o, s))))
        yield entry
    if any(e.name == "x0" and page in e.pages for e in TABLE):
        for surface in SURFACES:
            yield from start_rows(surface)
    for kind in COMPONENTS.get(page, ()):
        for name in REGISTRIES[kind]:
            yield from component_rows(kind, name, (page,))
    if page == SCHEDULES_PAGE:
        for i in SLOTS:
            for name in SCHEDULES:
                yield from component_rows("schedule", name, (SCHEDULES_PAGE,), f"s{i}_")


# --- parsing, notices and links derived from the rows ---------------------------------------


def plain_quote(value: object, limit: int = 40) -> str:
    """A value quoted for a notice shown as plain text (``st.text``): ``repr``, cut short."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _last(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else (str(value[-1]) if len(value) else "")


def all_values(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def single_values(params: Mapping[str, str | Sequence[str]], repeatable: Collection[str] = (),
                  quote: Quote = shown) -> Parsed:
    """One value per key (the last, as Streamlit's widgets read it); a key given several times
    outside ``repeatable`` gets a notice saying which value is used. ``values`` holds the
    chosen text of every key outside ``repeatable``."""
    values: dict[str, object] = {}
    notices: list[str] = []
    for key, value in params.items():
        if key in repeatable:
            continue
        values[key] = _last(value)
        if not isinstance(value, str) and len(value) > 1:
            notices.append(f"Link: {quote(key)} was given {len(value)} times; using the last "
                           f"value, {quote(values[key])}.")
    return Parsed(values, tuple(notices))


def parse(params: Mapping[str, str], rows: Iterable[Entry],
          fallback: Mapping[str, object] | None = None, *, where: str = "Link",
          live: Collection[str] = (), quote: Quote = shown) -> Parsed:
    """The typed value of every row given in ``params`` (one text per key, see
    `single_values`); each unusable value is rejected with a notice naming the parameter, the
    value (quoted) and why, and saying what is used instead (``fallback[key]``, else the
    row's default). Keys in ``live`` belong to controls that already hold a value this
    session: theirs are rejected without a notice (the control rewrites the URL)."""
    values: dict[str, object] = {}
    notices: list[str] = []
    rejected: list[str] = []
    fallback = fallback or {}
    for entry in rows:
        key = entry.name
        if key not in params or entry.type == "list":
            continue
        text = str(params[key])
        try:
            values[key] = entry.read(text)
        except BadValueError as why:
            rejected.append(key)
            if key not in live:
                used = fallback.get(key, entry.default)
                instead = "the default" if used is None else f"{key}={entry.write(used)}"
                notices.append(f"{where}: ignored {key}={quote(text)} ({why}); using "
                               f"{instead}.")
    return Parsed(values, tuple(notices), tuple(rejected))


def parse_list(params: Mapping[str, str | Sequence[str]], entry: Entry,
               live: Collection[str] = ()) -> Parsed:
    """A repeatable key whose values must be among the row's choices: the valid ones are kept
    (a notice names the others); the key is rejected only when none is valid."""
    key = entry.name
    if key not in params or key in live:
        return Parsed()
    given = all_values(params[key])
    allowed = entry.choices()
    bad = [v for v in given if v not in allowed]
    kept = list(dict.fromkeys(v for v in given if v in allowed))
    if bad:
        notice = (f"Link: ignored {key}={', '.join(map(shown, bad[:5]))} (choose from "
                  f"{', '.join(allowed)}).")
        return Parsed({key: kept}, (notice,), (key,) if not kept else ())
    if len(kept) < len(given):
        return Parsed({key: kept}, (f"Link: {key} lists the same choice twice; each is used "
                                    "once.",))
    return Parsed({key: kept})


def unknown_keys(params: Iterable[str], known: Collection[str], *, where: str = "Link",
                 chosen: str = "", quote: Quote = shown, sep: str = " —",
                 live: Collection[str] = ()) -> Parsed:
    """A notice (and rejection) for every key no row of the page has. A key in ``live`` (its
    control held a value this session: the parameter of a surface, optimizer or schedule just
    switched away from) is rejected without a notice."""
    notices, rejected = [], []
    for key in params:
        if key not in known and key not in IGNORED_KEYS:
            detail = f" (chosen: {chosen})" if chosen else ""
            if key not in live:
                notices.append(f"{where}: ignored unknown parameter {quote(key)}{sep} this page "
                               f"has no such setting{detail}.")
            rejected.append(key)
    return Parsed({}, tuple(notices), tuple(rejected))


def link_pairs(values: Mapping[str, object], rows: Iterable[Entry],
               defaults: Mapping[str, object]) -> list[tuple[str, str]]:
    """A share link's (key, text) pairs in table order: only the values that differ from
    ``defaults`` (what the page shows without the key); a missing default is always written."""
    out = []
    for entry in rows:
        if entry.name not in values or entry.type == "list":
            continue
        text = entry.write(values[entry.name])
        default = defaults.get(entry.name)
        if default is None or text != entry.write(default):
            out.append((entry.name, text))
    return out
