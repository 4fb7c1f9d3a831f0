"""Who is learning: a display name plus a passphrase or recovery code, in the sidebar.

Signing in
    * A new name is created at once and gets a recovery code, shown once; a passphrase typed
      with it (at least 6 characters) is set too. Either opens the progress on a later visit.
    * A taken name needs its passphrase or recovery code: two learners who pick the same name
      (case and spacing ignored) are told so, never merged.
    * A learner saved before passphrases existed is claimed by the next sign-in under that name,
      which gets a fresh recovery code (the README's threat model explains the risk).

The session keeps only the authenticated learner (id and name) in ``st.session_state``; the
passphrase box is emptied as soon as it has been checked. Nothing identifying goes into the
URL: a teacher who shares a link must not sign the class in under their own name.
"""

from __future__ import annotations

import re

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lrviz.learning.store import (
    Learner,
    ProgressStore,
    SignInError,
    StoreError,
    StoreReadOnlyError,
    TooManyAttemptsError,
    get_store,
    normalize_name,
    resolve_url,
    set_busy_handler,
    set_default_busy_handler,
)

NAME_KEY = "learner"
SECRET_KEY = "learner_secret"
_SIGNED_KEY = "_lrviz_signed_in"  # (db url, Learner): the authenticated learner
_CODE_KEY = "_lrviz_new_code"  # (learner id, code): a recovery code to show once
_NOTICE_KEY = "_lrviz_signin_notice"  # (kind, text) for the sidebar
_HOLD_KEY = "_lrviz_hold_name"  # a new name whose passphrase was refused: not created bare
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def escape_markdown(text: str) -> str:
    """``text`` with every Markdown/HTML special character backslash-escaped (shown as typed)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))


def store_problem() -> str | None:
    """The message explaining why progress cannot be saved right now, or None when it can."""
    try:
        get_store()
    except StoreError as exc:
        return str(exc)
    return None


def signed_in() -> Learner | None:
    """The learner this session authenticated as (for the current database), else None."""
    held = st.session_state.get(_SIGNED_KEY)
    if held and held[0] == resolve_url():
        return held[1]
    return None


def current_learner() -> Learner | None:
    """Same as `signed_in` (kept for callers that only need the learner)."""
    return signed_in()


def sign_out() -> None:
    """Forget the authenticated learner and the recovery code shown (a button callback)."""
    for key in (_SIGNED_KEY, _CODE_KEY, _NOTICE_KEY):
        st.session_state.pop(key, None)
    st.session_state[NAME_KEY] = ""
    st.session_state[SECRET_KEY] = ""


def _name_changed() -> None:
    """on_change of the name box: a different (or no) name ends the current sign-in."""
    typed = " ".join((st.session_state.get(NAME_KEY) or "").split()).casefold()
    who = signed_in()
    if who is None or typed != who.name.casefold():
        for key in (_SIGNED_KEY, _CODE_KEY, _NOTICE_KEY):
            st.session_state.pop(key, None)


def _accept(learner: Learner, code: str | None = None, note: str | None = None) -> None:
    st.session_state[_SIGNED_KEY] = (resolve_url(), learner)
    if code:
        st.session_state[_CODE_KEY] = (learner.id, code)
    if note:
        st.session_state[_NOTICE_KEY] = ("info", note)
    else:
        st.session_state.pop(_NOTICE_KEY, None)


def _attempt_sign_in(store: ProgressStore, raw_name: str, secret: str) -> None:
    """Sign in, create or claim ``raw_name`` with ``secret``; the outcome goes to the notice."""
    try:
        name = normalize_name(raw_name)
    except ValueError as exc:
        st.session_state[_NOTICE_KEY] = ("warning", str(exc))
        return
    who = signed_in()
    if who is not None and who.name.casefold() == name.casefold():
        return
    st.session_state.pop(_SIGNED_KEY, None)
    st.session_state.pop(_CODE_KEY, None)
    try:
        status = store.name_status(name)
        if status.state == "new":
            if not secret and st.session_state.get(_HOLD_KEY) == name.casefold():
                return  # its passphrase was refused: wait for a better one, not none
            try:
                learner, code = store.create_learner(name, secret or None)
            except ValueError:
                st.session_state[_HOLD_KEY] = name.casefold()
                raise
            st.session_state.pop(_HOLD_KEY, None)
            _accept(learner, code)
        elif status.state == "unprotected":
            try:
                learner, code = store.claim_learner(name, secret or None)
            except StoreReadOnlyError:  # cannot protect it now; it was open before anyway
                _accept(status.learner, None, "This name has no passphrase yet and the "
                        "database cannot be written, so it is shown read-only; it gets a "
                        "recovery code at the first sign-in once saving works again.")
                return
            _accept(learner, code, "This name's progress was saved before passphrases "
                                   "existed; it is now protected by the recovery code below.")
        elif not secret:
            st.session_state[_NOTICE_KEY] = ("warning", "That name is taken — enter its "
                                             "passphrase (or recovery code) or choose another.")
        else:
            _accept(store.sign_in(name, secret))
    except (SignInError, TooManyAttemptsError, ValueError) as exc:
        st.session_state[_NOTICE_KEY] = ("warning", str(exc))
    except StoreError as exc:
        st.session_state[_NOTICE_KEY] = ("error", f"Signing in failed: {exc}")


BUSY_TEXT = ("The progress database is busy (another program is writing to it); retrying… "
             "({waited:.1f} s so far, at most a few seconds)")


def _toast_busy(waited: float) -> None:
    """Busy while no page placeholder is set up yet (e.g. inside a button's callback)."""
    if get_script_run_ctx() is not None:
        st.toast(BUSY_TEXT.format(waited=waited), icon=":material/hourglass_top:")


set_default_busy_handler(_toast_busy)


def _busy_notice() -> None:
    """Show "busy, retrying" above the page whenever the store waits for a lock this run."""
    slot = st.empty()

    def show(waited: float) -> None:
        slot.warning(BUSY_TEXT.format(waited=waited), icon=":material/hourglass_top:")

    set_busy_handler(show)


def _show_code(learner: Learner) -> None:
    held = st.session_state.get(_CODE_KEY)
    if not held or held[0] != learner.id:
        return
    st.warning("Your recovery code — write it down now; it is shown only once. With your name "
               "it opens your progress on any visit (and resets a forgotten passphrase).")
    st.code(held[1], language=None)
    st.button("I have written it down", key="learner-code-done",
              on_click=lambda: st.session_state.pop(_CODE_KEY, None))


def _secret_settings(store: ProgressStore, learner: Learner) -> None:
    with st.expander("Passphrase and recovery code"):
        with st.form("learner-secrets", clear_on_submit=True, border=False):
            current = st.text_input("Current passphrase or recovery code", type="password",
                                    key="learner-current")
            new = st.text_input("New passphrase (6+ characters)", type="password",
                                key="learner-new-passphrase")
            change = st.form_submit_button("Set passphrase")
            renew = st.form_submit_button("Issue a new recovery code")
        if not (change or renew):
            return
        try:
            if change:
                store.set_passphrase(learner.id, current, new)
                st.success("Passphrase saved.")
            else:
                code = store.replace_recovery_code(learner.id, current)
                st.session_state[_CODE_KEY] = (learner.id, code)
                _show_code(learner)
        except (SignInError, TooManyAttemptsError, ValueError, StoreError) as exc:
            st.warning(str(exc))


def _write_status(store: ProgressStore) -> None:
    """Say when saving is impossible or changes are waiting (progress stays viewable)."""
    waiting = store.pending_count()
    if waiting:
        waiting = store.flush_pending()  # bounded by the store's busy budget
    if store.write_problem:
        st.warning(f"Saving is paused: {store.write_problem}")
    if waiting:
        st.info(f"{waiting} change(s) are kept by the server and will be saved when the "
                f"database takes writes again.")


def learner_sidebar() -> Learner | None:
    """Show sign-in in the sidebar; return the authenticated learner (or None)."""
    _busy_notice()
    with st.sidebar:
        problem = store_problem()
        if problem:
            st.text_input("Your display name", key=NAME_KEY, persist_state="session",
                          max_chars=40, on_change=_name_changed)
            st.error(f"Progress cannot be saved: {problem}")
            return None
        store = get_store()
        raw = st.session_state.get(NAME_KEY) or ""
        secret = st.session_state.get(SECRET_KEY) or ""
        if raw.strip():
            _attempt_sign_in(store, raw, secret)
            if secret:  # checked: never kept in the session (kept only until a name comes)
                st.session_state[SECRET_KEY] = ""
        st.text_input(
            "Your display name", key=NAME_KEY, persist_state="session", max_chars=40,
            placeholder="e.g. Ada", on_change=_name_changed,
            help="Your quiz scores, flashcards and reading are saved under this name.")
        st.text_input(
            "Passphrase or recovery code", key=SECRET_KEY, type="password", max_chars=128,
            help="New name: optionally choose a passphrase (6+ characters); you also get a "
                 "recovery code. Taken name: enter its passphrase or recovery code.")
        learner = signed_in()
        kind, text = st.session_state.get(_NOTICE_KEY, (None, None))
        if text and (learner is None or kind == "info"):
            (st.info if kind == "info" else st.error if kind == "error" else st.warning)(text)
        _write_status(store)
        if learner is None:
            if not raw.strip():
                st.caption("Enter a name to save your progress.")
            return None
        st.caption(f"Saving progress as **{escape_markdown(learner.name)}**.")
        _show_code(learner)
        _secret_settings(store, learner)
        st.button("Sign out", key="learner-sign-out", on_click=sign_out)
        return learner
