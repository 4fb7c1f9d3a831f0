"""The one table from a kind of component to its registry.

A run is built from three kinds of component, each a registry of named entries with their own
parameters: ``"surface"`` (`surfaces.SURFACES`), ``"optimizer"`` (`optimizers.OPTIMIZERS`) and
``"schedule"`` (`schedules.SCHEDULES`). Code that handles "a component of some kind" (config
validation, phase maps, URL and widget tables) goes through `REGISTRIES` and `get_entry`
instead of spelling the mapping again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.schedules import SCHEDULES
from lrviz.engine.spec import lookup
from lrviz.engine.surfaces import SURFACES

REGISTRIES: Mapping[str, Mapping[str, Any]] = {
    "surface": SURFACES,
    "optimizer": OPTIMIZERS,
    "schedule": SCHEDULES,
}
KINDS: tuple[str, ...] = tuple(REGISTRIES)


def get_entry(kind: str, name: str) -> Any:
    """The ``kind`` entry called ``name`` (a ValueError lists the names when it is unknown, or
    the kinds when ``kind`` is not one)."""
    if kind not in REGISTRIES:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")
    return lookup(REGISTRIES[kind], kind, name)
