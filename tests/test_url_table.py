"""The URL table: one row per parameter, unambiguous on every page, and every row (and every
whole link) round-trips: value -> link -> parse -> the same value.

The pages' parsers (`parse_lab_query`, `check_page_query`, `check_plain_query`, the network's
`parse_query`) and link builders (`lab_url`, `share_query`, the network's `query_params`) are
all derived from `lrviz.ui.url_table`; these tests pin the table itself and what follows from it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lrviz.engine.config import RunConfig
from lrviz.engine.optimizers import OPTIMIZERS, get_optimizer
from lrviz.engine.presets import PRESETS
from lrviz.engine.registry import REGISTRIES, get_entry
from lrviz.engine.schedules import SCHEDULES, get_schedule
from lrviz.engine.surfaces import SURFACES, get_surface
from lrviz.nets.config import NetConfig
from lrviz.ui import url_table as table
from lrviz.ui.links import lab_url
from lrviz.ui.network import url as network_url
from lrviz.ui.urlstate import (
    DEFAULT_CONFIG,
    check_page_query,
    check_plain_query,
    config_params,
    normalized,
    parse_lab_query,
    share_query,
)

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


# --- no ambiguity: one meaning per key wherever a URL can hold it -------------------------------


def _combinations(page: str):
    """Every choice of components a page's URL can make (slots on /schedules included)."""
    kinds = table.COMPONENTS.get(page, ())
    surfaces = list(SURFACES) if "surface" in kinds else ["rosenbrock"]
    optimizers = list(OPTIMIZERS) if "optimizer" in kinds else ["adam"]
    schedules = list(SCHEDULES) if "schedule" in kinds else ["constant"]
    for surface, optimizer, schedule in itertools.product(surfaces, optimizers, schedules):
        yield dict(surface=surface, optimizer=optimizer, schedule=schedule)


@pytest.mark.parametrize("page", table.PAGES)
def test_no_key_means_two_things_on_one_page(page):
    """Whatever components are chosen, the rows a page reads at once have distinct names: a
    surface parameter never shares its name with an optimizer or schedule parameter, nor any
    parameter with a fixed key (lr, steps, seed, the page's own keys)."""
    slot_choices = ([{i: name for i in table.SLOTS} for name in (table.NO_SLOT, *SCHEDULES)]
                    if page == table.SCHEDULES_PAGE else [None])
    for chosen in _combinations(page):
        for slots in slot_choices:
            names = Counter(e.name for e in table.page_rows(page, **chosen, slots=slots))
            clashes = [n for n, k in names.items() if k > 1]
            assert not clashes, (page, chosen, clashes)


def test_a_parameter_name_belongs_to_one_kind_of_component():
    """The same name may be reused within one kind (bowl's and Rosenbrock's ``b``: only one
    surface is chosen at a time, and changing it resets its parameters), never across kinds,
    which are chosen together."""
    kinds: dict[str, set[str]] = {}
    for kind, registry in REGISTRIES.items():
        for name in registry:
            for p in get_entry(kind, name).params:
                kinds.setdefault(p.name, set()).add(kind)
    assert {n: k for n, k in kinds.items() if len(k) > 1} == {}
    assert kinds["b"] == {"surface"} and kinds["eps"] == {"optimizer"}


def test_a_key_on_several_pages_has_one_type():
    """``lr`` on the lab and on /network, ``lesson`` on /lesson and /quiz: the same key reads
    the same way wherever a link carries it (ranges and choices may differ per page)."""
    types: dict[str, set[str]] = {}
    for page in table.PAGES:
        for entry in table.all_rows(page):
            types.setdefault(entry.name, set()).add(entry.type)
    assert {n: t for n, t in types.items() if len(t) > 1} == {}


def test_page_keys_do_not_shadow_generated_parameter_names():
    fixed = {e.name for e in table.TABLE}
    for kind, registry in REGISTRIES.items():
        for name in registry:
            clash = {p.name for p in get_entry(kind, name).params} & fixed
            assert not clash, (kind, name, clash)


def test_presenter_flag_is_a_row_of_the_pages_that_have_presenter_mode():
    entry = table.row("present", table.LAB)
    assert entry.type == "bool" and set(entry.pages) == {"lab", "race", "schedules", "finder",
                                                         "lesson"}
    assert entry.read("1") is True and entry.read("0") is False and entry.write(True) == "1"
    assert parse_lab_query({"present": "1"}).present
    q = parse_lab_query({"present": "maybe"})
    assert not q.present and "present" in q.rejected and any("present=" in n for n in q.notices)


def test_pages_use_the_tables_choices():
    from lrviz.ui.lab import race as race_view
    from lrviz.ui.lab import schedules as schedules_view

    assert tuple(race_view.MODES) == table.row("mode", table.RACE).choices()
    assert schedules_view.SLOT_DEFAULTS == table.SLOT_DEFAULTS
    assert table.row("section", table.LESSON).choices()[:2] == ("Listen", "Summary")


# --- every row round-trips --------------------------------------------------------------------


def _rows():
    seen = {}
    for page in table.PAGES:
        for entry in table.all_rows(page):
            seen.setdefault((entry.name, entry.pages, entry.owner, entry.valid), entry)
    return list(seen.values())


ROWS = _rows()


@st.composite
def row_and_value(draw):
    entry = draw(st.sampled_from(ROWS))
    if entry.type == "float":
        value = draw(st.floats(entry.valid.lo, entry.valid.hi, allow_nan=False))
    elif entry.type == "int":
        value = draw(st.integers(int(entry.valid.lo), int(entry.valid.hi)))
    elif entry.type == "enum":
        value = draw(st.sampled_from(entry.choices()))
    elif entry.type == "bool":
        value = draw(st.booleans())
    elif entry.type == "list":
        value = None
    elif entry.name == "hidden":
        value = tuple(draw(st.lists(st.integers(1, 512), min_size=1, max_size=4)))
    elif entry.name == "batch":
        value = draw(st.none() | st.integers(1, 10_000))
    else:
        value = draw(st.text(max_size=20))
    return entry, value


def test_the_table_has_rows_for_every_page_and_component():
    assert len(ROWS) > 150
    assert {e.type for e in ROWS} == {"float", "int", "enum", "bool", "str", "list"}
    owners = {e.owner for e in ROWS if e.owner}
    assert {f"schedule {name}" for name in SCHEDULES if get_schedule(name).params} <= owners


@FAST
@given(row_and_value())
def test_every_row_round_trips_value_text_value(case):
    entry, value = case
    assume(entry.type != "list")
    text = entry.write(value)
    assert entry.read(text) == value
    parsed = table.parse({entry.name: text}, [entry])
    assert parsed.values == {entry.name: value} and parsed.notices == ()


@st.composite
def run_config(draw):
    """A random run inside every control's range (each parameter on its slider)."""
    names = {k: draw(st.sampled_from(list(r))) for k, r in REGISTRIES.items()}
    params = {}
    for kind, name in names.items():
        params[f"{kind}_params"] = {
            p.name: float(draw(st.integers(int(p.low), int(p.high))) if p.integer else
                          draw(st.floats(p.low, p.high, allow_nan=False)))
            for p in get_entry(kind, name).params}
    (xlo, xhi), (ylo, yhi) = get_surface(names["surface"]).domain
    start = (draw(st.floats(xlo, xhi)), draw(st.floats(ylo, yhi)))
    try:
        return RunConfig(**names, **params, start=start, lr=draw(st.floats(1e-5, 10.0)),
                         steps=draw(st.integers(10, 2000)), noise=draw(st.floats(0.0, 3.0)),
                         seed=draw(st.integers(0, 2**31 - 1)))
    except ValueError:  # some parameter combinations are refused by the engine
        assume(False)


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query, keep_blank_values=True)


@FAST
@given(run_config(), st.sampled_from([None, *PRESETS]))
def test_a_lab_link_round_trips_and_writes_only_what_differs(cfg, preset):
    url = lab_url(preset=preset, config=cfg)
    q = parse_lab_query(_query(url))
    assert q.notices == () and q.config == normalized(cfg)
    base = PRESETS[preset].config if preset else DEFAULT_CONFIG
    written = {k for k in _query(url) if k != "preset"}
    if cfg.lr == base.lr:
        assert "lr" not in written
    if cfg.surface == base.surface:
        assert "surface" not in written


@FAST
@given(run_config(), st.sampled_from([None, *PRESETS]))
def test_an_old_full_link_parses_as_before(cfg, preset):
    """Links written before the table (every setting spelled out, in DESIGN.md's order)
    parse to the same run as the compact links written now."""
    old = ([("preset", preset)] if preset else []) + list(config_params(cfg).items())
    q_old = parse_lab_query(_query("/lab?" + urlencode(old)))
    assert q_old.notices == () and q_old.config == normalized(cfg)
    q_new = parse_lab_query(_query(lab_url(preset=preset, config=cfg)))
    assert q_new.config == q_old.config


def test_share_query_keeps_pins_and_view():
    preset = PRESETS["adam-needs-tuning"]  # several runs: removing its pins needs pins=none
    assert len(preset.runs) > 1
    url = share_query(preset, preset.config.with_(lr=0.05), (), True, view3d=True)
    assert url == "/lab?preset=adam-needs-tuning&lr=0.05&pins=none&view3d=true"
    q = parse_lab_query(_query(url))
    assert q.config.lr == 0.05 and q.pins == () and q.view3d and q.notices == ()


@st.composite
def net_config(draw):
    optimizer = draw(st.sampled_from(list(OPTIMIZERS)))
    schedule = draw(st.sampled_from(list(SCHEDULES)))
    params = {}
    for kind, spec in (("optimizer", get_optimizer(optimizer)),
                       ("schedule", get_schedule(schedule))):
        params[f"{kind}_params"] = {
            p.name: float(draw(st.integers(int(p.low), int(p.high))) if p.integer else
                          draw(st.floats(p.low, p.high, allow_nan=False)))
            for p in spec.params}
    try:
        return NetConfig(
            dataset=draw(st.sampled_from(["moons", "circles", "spirals", "digits"])),
            hidden=tuple(draw(st.lists(st.integers(1, 512), min_size=1, max_size=4))),
            activation=draw(st.sampled_from(network_url.ACTIVATIONS)),
            loss=draw(st.sampled_from(network_url.LOSSES)), optimizer=optimizer,
            schedule=schedule, lr=draw(st.floats(1e-5, 10.0)), steps=draw(st.integers(10, 1000)),
            batch_size=draw(st.none() | st.sampled_from([8, 16, 32, 64])),
            weight_decay=draw(st.sampled_from([0.0, 0.0]) | st.floats(0.0, 0.1)),
            seed=draw(st.integers(0, 9999)), sharpness_every=draw(st.integers(0, 100)),
            **params)
    except ValueError:
        assume(False)


@FAST
@given(net_config(), st.sampled_from([None, "catapult", "trainability-map"]))
def test_a_network_link_round_trips_and_writes_only_what_differs(cfg, preset):
    params = network_url.query_params(cfg, preset)
    q = network_url.parse_query(params)
    assert q.notices == () and q.config == cfg
    base = network_url.preset_base(preset)
    if cfg.dataset == base.dataset:
        assert "dataset" not in params


# --- parsing returns results; the notices name parameter and value ----------------------------


def test_parse_returns_values_notices_and_rejected_keys():
    rows = table.page_rows(table.LAB, "bowl")
    found = table.parse({"lr": "0.5", "a": "99", "steps": "1e309"}, rows, {"a": 1.0})
    assert found.values == {"lr": 0.5}
    assert found.rejected == ("steps", "a")
    assert found.notices == (
        "Link: ignored steps='1e309' (not a finite number); using the default.",
        "Link: ignored a='99' (outside the allowed range 0.1 … 10); using a=1.",
    )


@pytest.mark.parametrize("text", ["٥", "１", "1e309", "nan", "inf", " ", "0x10", "5\u0301"])
def test_unusable_numbers_fall_back_with_a_notice(text):
    q = parse_lab_query({"lr": text})
    assert q.config.lr == DEFAULT_CONFIG.lr and q.rejected == ("lr",)
    assert any(n.startswith("Link: ignored lr=") for n in q.notices)


def test_a_repeated_key_keeps_its_last_value_with_a_notice():
    q = parse_lab_query({"lr": ["0.1", "0.2"]})
    assert q.config.lr == 0.2
    assert q.notices == ("Link: 'lr' was given 2 times; using the last value, '0\\.2'.",)


def test_other_pages_read_their_rows():
    found = check_page_query("race", {"mode": "tuned", "optimizers": ["sgd", "nope"],
                                      "lr": "0.1", "noise": "1"}, RunConfig())
    assert found.values["mode"] == "tuned" and found.values["optimizers"] == ["sgd"]
    assert found.rejected == ("noise",)  # /race has no noise control; optimizers keeps sgd
    assert any("nope" in n for n in found.notices)
    found = check_page_query("schedules", {"s1": "step", "s1_gamma": "2", "s2": "none"},
                             RunConfig())
    assert found.rejected == ("s1_gamma",) and found.values["s2"] == "none"
    found = check_page_query("finder", {"optimizer": "sgd", "phase_param": "momentum"},
                             RunConfig())
    assert found.rejected == ("phase_param",)  # sgd has no momentum parameter
    found = check_plain_query("lesson", {"section": "Summary", "lesson": "x", "zz": "1"})
    assert found.values == {"section": "Summary", "lesson": "x"} and found.rejected == ("zz",)


def test_network_notices_are_plain_text_naming_parameter_and_value():
    q = network_url.parse_query({"lr": "**fast**"})
    assert q.notices == ("Link: ignored lr='**fast**' (not a number); using lr=0.1.",)
    q = network_url.parse_query({"steps": ["50", "60"]})
    assert q.config.steps == 60
    assert q.notices == ("Link: 'steps' was given 2 times; using the last value, '60'.",)
    q = network_url.parse_query({"colour": "red"})
    assert q.notices == ("Link: ignored unknown parameter 'colour': this page has no such "
                         "setting.",)


# --- the widgets are the table's rows: same keys, same ranges, same choices -------------------

SESSION_ONLY = {"lr_log", "net_lr_log", "preset_pick"}  # keyed widgets not bound to the URL
INPUTS = ("number_input", "slider", "selectbox", "toggle", "multiselect", "radio", "checkbox")


@pytest.mark.parametrize(("page", "query"), [
    ("lab", {"surface": "bowl", "optimizer": "rmsprop", "schedule": "step", "noise": "0.5"}),
    ("race", {}), ("schedules", {"s3": "cyclic"}), ("finder", {"optimizer": "adam"}),
    ("network", {"optimizer": "adamw", "schedule": "cosine"}), ("network", {"view": "map"}),
    ("network", {"view": "range"}),
])
def test_every_bound_widget_is_a_row_with_the_rows_range_and_choices(app_test, page, query):
    at = app_test(f"lrviz/ui/pages/{page}.py", query=query, timeout=240)
    assert not at.exception, [e.value for e in at.exception]
    chosen = {k: query.get(k, at.selectbox(key=k).value) for k in ("surface", "optimizer",
                                                                   "schedule")
              if k in query or any(w.key == k for w in at.selectbox)}
    slots = {i: at.selectbox(key=f"s{i}").value for i in table.SLOTS} if page == "schedules" \
        else None
    rows = {e.name: e for e in table.page_rows(page, **chosen, slots=slots)}
    seen = set()
    for kind in INPUTS:
        for widget in getattr(at, kind):
            if not widget.key or widget.key in SESSION_ONLY:
                continue
            assert widget.key in rows, f"{page}: widget {widget.key!r} has no URL table row"
            entry, seen = rows[widget.key], seen | {widget.key}
            if entry.type in ("float", "int"):
                assert (widget.min, widget.max) == (entry.valid.lo, entry.valid.hi), entry.name
            if entry.type in ("enum", "list"):
                assert tuple(widget.options) == entry.choices(), entry.name
    run_rows = {e.name for e in rows.values() if e.owner or e.name in (
        "surface", "optimizer", "schedule", "lr", "steps", "x0", "y0", "noise", "seed")}
    assert run_rows <= seen, f"{page}: rows without a widget: {run_rows - seen}"
