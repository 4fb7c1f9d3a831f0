"""Who is learning: a display name in the sidebar (no password), remembered for the session.

The name lives in ``st.session_state["learner"]`` with ``persist_state="session"``, so it follows
the learner from page to page. It is deliberately not put in the URL: a teacher who shares a
link must not sign the whole class in under their own name. Progress itself is in the database,
so typing the same name again (after a reload, next week) brings it all back.
"""

from __future__ import annotations

import streamlit as st

from lrviz.learning.store import Learner, StoreError, get_store, normalize_name, resolve_url

NAME_KEY = "learner"
_CACHE_KEY = "_lrviz_learner_cache"  # (db url, name) -> Learner, saves a query per rerun
# The last name the learner committed. On the first run after a page switch the text box can
# return "" although the session still holds the name; this keeps the learner signed in then.
_MEMORY_KEY = "_lrviz_learner_name"


def _remember_name() -> None:
    """on_change: the learner typed or cleared the name (clearing signs out)."""
    st.session_state[_MEMORY_KEY] = st.session_state.get(NAME_KEY) or ""


def _entered_name() -> str:
    return st.session_state.get(NAME_KEY) or st.session_state.get(_MEMORY_KEY) or ""


def store_problem() -> str | None:
    """The message explaining why progress cannot be saved right now, or None when it can."""
    try:
        get_store()
    except StoreError as exc:
        return str(exc)
    return None


def current_learner() -> Learner | None:
    """The learner whose name is entered in this session (created on first use), else None.

    Returns None, without raising, when no usable name is entered or the database is unusable.
    """
    raw = _entered_name()
    try:
        name = normalize_name(raw)
    except ValueError:
        return None
    url = resolve_url()
    cached = st.session_state.get(_CACHE_KEY)
    if cached and cached[0] == url and cached[1] == name.casefold():
        return cached[2]
    try:
        learner = get_store().learner(name)
    except StoreError:
        return None
    st.session_state[_CACHE_KEY] = (url, name.casefold(), learner)
    return learner


def learner_sidebar() -> Learner | None:
    """Show the display-name box in the sidebar; return the current learner (or None)."""
    with st.sidebar:
        raw = st.text_input(
            "Your display name", key=NAME_KEY, persist_state="session", max_chars=40,
            placeholder="e.g. Ada",
            help="No password. Your quiz scores, flashcards and reading are saved under this "
                 "name; type it again on any visit to continue.", on_change=_remember_name)
        if raw:
            st.session_state[_MEMORY_KEY] = raw
        else:
            raw = st.session_state.get(_MEMORY_KEY) or ""
        problem = store_problem()
        if problem:
            st.error(f"Progress cannot be saved: {problem}")
            return None
        if not (raw or "").strip():
            st.caption("Enter a name to save your progress.")
            return None
        try:
            normalize_name(raw)
        except ValueError as exc:
            st.warning(str(exc))
            return None
        learner = current_learner()
        if learner is not None:
            st.caption(f"Saving progress as **{learner.name}**.")
        return learner
