"""The allocator setting the server makes for itself (lrviz.ui.memory)."""

from __future__ import annotations

import sys

import pytest

from lrviz.ui import memory


@pytest.fixture(autouse=True)
def fresh():
    memory.cap_malloc_arenas.cache_clear()
    yield
    memory.cap_malloc_arenas.cache_clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_the_arena_limit_is_set_on_linux(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.cap_malloc_arenas() is True


def test_an_operators_choice_in_the_environment_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.cap_malloc_arenas() is False
