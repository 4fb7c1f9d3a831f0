"""Relative links into the lab, for every page that wants an "Open in lab" button.

Pure string building (no streamlit), so lessons, quizzes and tests can call it anywhere:

>>> lab_url(preset="overshoot")
'/lab?preset=overshoot'
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from lrviz.engine.config import RunConfig
from lrviz.engine.presets import PRESETS
from lrviz.ui.urlstate import MAX_PINS, config_pairs, encode_pin

LAB_PATH = "/lab"


def lab_query(preset: str | None = None, config: RunConfig | None = None,
              pins: Sequence[RunConfig] = ()) -> list[tuple[str, str]]:
    """The query of `lab_url` as (key, value) pairs (``pins`` may repeat), e.g. for
    ``st.page_link(..., query_params=...)``."""
    query: list[tuple[str, str]] = []
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
        query.append(("preset", preset))
    if config is not None:
        query += config_pairs(config, PRESETS[preset].config if preset is not None else
                              RunConfig())
    if len(pins) > MAX_PINS:
        raise ValueError(f"at most {MAX_PINS} pinned runs fit in the lab, got {len(pins)}")
    query += [("pins", encode_pin(p)) for p in pins]
    return query


def query_params_dict(query: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """(key, value) pairs as a dict; repeated keys become lists."""
    out: dict[str, str | list[str]] = {}
    for key, value in query:
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    return out


def lab_url(preset: str | None = None, config: RunConfig | None = None,
            pins: Sequence[RunConfig] = ()) -> str:
    """``/lab?preset=<id>``, ``/lab?surface=...&lr=...`` or both (the config overrides the
    preset's first run); ``pins`` adds up to four runs to compare against.

    Only the settings of ``config`` that differ from what the lab shows without them (the
    preset's, else the defaults) are written, in the order of the URL table. An unknown
    preset id raises ValueError here rather than producing a link that shows a notice.
    """
    query = lab_query(preset, config, pins)
    return LAB_PATH + ("?" + urlencode(query, safe=":,") if query else "")
