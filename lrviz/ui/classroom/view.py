"""/class — the live class poll: teachers launch a prediction, students answer from phones.

Students open ``/class?code=K7MX2Q`` (the code prefills), pick a name that is unique in the
class and answer the active poll; they only ever see their own answer. The teacher (behind the
class passcode) launches polls, watches the distribution refresh every second on the projector,
reveals the simulated run beside it, and reads the dashboard or downloads it as CSV.
Every name, title and code shown here came from a person, so it is shown as plain text.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lrviz.engine.config import RunConfig
from lrviz.figures.classroom import poll_figure
from lrviz.figures.network import loss_figure as net_loss_figure
from lrviz.figures.trajectory import trajectory_figure
from lrviz.learning.class_polls import (
    build_poll,
    concept_results,
    poll_csv,
    poll_options,
    poll_run_config,
    question_results,
)
from lrviz.learning.classroom import ClassError, ClassroomStore, Member, clean_code, get_classroom
from lrviz.learning.content import Course, load_course
from lrviz.ui.lab import runs
from lrviz.ui.network import view as network_view

TEACHER_KEY = "class_teacher"  # the class code this session teaches (after the passcode)
MEMBER_KEY = "class_member"  # (code, member id, name, token) of this session's student
TEACHER_REFRESH_S = 1.0  # the projector's distribution is at most this old (+ a render)
STUDENT_REFRESH_S = 2.0


def page() -> None:
    st.title("Class poll")
    try:
        store = get_classroom()
    except Exception as exc:  # a missing driver or a bad URL too: say so, keep the app up
        st.error("The class database cannot be used right now.")
        st.text(str(exc))
        return
    course = load_course()
    role = st.segmented_control("I am", ["student", "teacher"], key="class_role",
                                format_func=str.capitalize, default="student")
    if role == "teacher":
        teacher_page(store, course)
    else:
        student_page(store, course)


def _url_code() -> str | None:
    """The class code from ``?code=``; a malformed one gets a notice and is ignored."""
    raw = st.query_params.get("code")
    if raw is None:
        return None
    try:
        return clean_code(raw)
    except ClassError:
        st.warning("The link's class code is not a valid code (6 letters and digits); type "
                   "the code shown on the projector instead.")
        return None


# --- students --------------------------------------------------------------------------------


def student_page(store: ClassroomStore, course: Course) -> None:
    member: Member | None = st.session_state.get(MEMBER_KEY)
    if member is None:
        _join_form(store)
        return
    room = store.room(member.code)
    if room is None:
        st.session_state.pop(MEMBER_KEY, None)
        st.warning("That class no longer exists; join another one.")
        return
    st.caption("Class")
    st.text(f"{room.title} · {room.code} · you are {member.name}")
    _student_poll(store, member)
    if st.button("Leave this class", key="class-leave"):
        st.session_state.pop(MEMBER_KEY, None)
        st.rerun()


def _join_form(store: ClassroomStore) -> None:
    code = _url_code()
    with st.form("class-join"):
        st.subheader("Join your class")
        typed = st.text_input("Class code", value=code or "", max_chars=12,
                              placeholder="K7MX2Q")
        name = st.text_input("Your name (your teacher sees it; classmates do not)",
                             max_chars=40)
        if not st.form_submit_button("Join", type="primary"):
            return
    try:
        st.session_state[MEMBER_KEY] = store.join(typed, name)
    except ClassError as exc:
        st.error(str(exc), icon=":material/error:")  # our own words: no user text in them
        return
    st.rerun()


@st.fragment(run_every=STUDENT_REFRESH_S)
def _student_poll(store: ClassroomStore, member: Member) -> None:
    try:
        poll = store.active_poll(member.code)
        mine = store.my_answer(member, poll.id) if poll else None
    except ClassError as exc:
        st.warning(str(exc))
        return
    if poll is None:
        st.info("Waiting for your teacher to launch a question…", icon=":material/hourglass:")
        return
    st.markdown(poll.prompt)  # written by the course authors or built from a preset
    labels = {c: _regime_label(c) for c in poll.choices}
    if poll.revealed:
        verdict = ("right" if mine in poll.accepted else "not this time") if mine else "no answer"
        st.success(f"The run: {labels[poll.answer]}. Your prediction: "
                   f"{labels.get(mine, 'none')} ({verdict}).", icon=":material/visibility:")
        return
    choice = st.radio("Your prediction", poll.choices, format_func=labels.get,
                      index=poll.choices.index(mine) if mine in poll.choices else None,
                      key=f"class-choice-{poll.id}")
    if st.button("Send my prediction", key=f"class-send-{poll.id}", type="primary",
                 disabled=choice is None):
        try:
            store.submit(member, poll.id, choice)
            mine = choice
        except ClassError as exc:
            st.error(str(exc))
    if mine:
        st.caption(f"Sent: {labels[mine]}. You can change it until your teacher reveals the "
                   f"run.")


def _regime_label(value: str) -> str:
    from lrviz.engine.diagnose import Regime

    return Regime(value).label


# --- teachers ------------------------------------------------------------------------------


def teacher_page(store: ClassroomStore, course: Course) -> None:
    code = st.session_state.get(TEACHER_KEY)
    room = store.room(code) if code else None
    if room is None:
        _teacher_sign_in(store)
        return
    st.text(f"{room.title} — class code {room.code}")
    st.markdown(f"Students join at **/class?code={room.code}** (or type the code on the "
                f"Class poll page).")
    launch, live, board = st.tabs(["Launch", "Live results", "Dashboard"])
    with launch:
        _launcher(store, course, room.code)
    with live:
        _live_panel(store, course, room.code)
    with board:
        _dashboard(store, room.code)
    if st.button("Sign out of this class", key="class-teacher-out"):
        st.session_state.pop(TEACHER_KEY, None)
        st.rerun()


def _teacher_sign_in(store: ClassroomStore) -> None:
    new, resume = st.columns(2)
    with new, st.form("class-open"):
        st.subheader("Open a new class")
        title = st.text_input("Class name", max_chars=120, placeholder="Period 3 — ML basics")
        passcode = st.text_input("Teacher passcode (4+ characters)", type="password")
        if st.form_submit_button("Open class", type="primary"):
            try:
                st.session_state[TEACHER_KEY] = store.open_class(title, passcode).code
                st.rerun()
            except ClassError as exc:
                st.error(str(exc))
    with resume, st.form("class-resume"):
        st.subheader("Resume a class")
        code = st.text_input("Class code", max_chars=12, value=_url_code() or "")
        passcode = st.text_input("Teacher passcode", type="password", key="class-resume-pass")
        if st.form_submit_button("Resume"):
            try:
                st.session_state[TEACHER_KEY] = store.teacher_login(code, passcode).code
                st.rerun()
            except ClassError as exc:
                st.error(str(exc))


def _launcher(store: ClassroomStore, course: Course, code: str) -> None:
    options = poll_options(course)
    titles = {(kind, ref): title for kind, ref, title in options}
    picked = st.selectbox("Question or preset", list(titles), format_func=titles.get,
                          key="class-pick")
    if st.button("Launch for the class", key="class-launch", type="primary"):
        with st.spinner("Running the simulation for the answer…"):
            spec = build_poll(course, *picked)
            store.launch(code, kind=spec.kind, ref=spec.ref, prompt=spec.prompt,
                         choices=spec.choices, answer=spec.answer, accepted=spec.accepted,
                         concepts=spec.concepts)
        st.success("Launched: students see it within two seconds. Open “Live results”.")


@st.fragment(run_every=TEACHER_REFRESH_S)
def _live_panel(store: ClassroomStore, course: Course, code: str) -> None:
    try:
        poll = store.active_poll(code)
        counts = store.tally(poll.id) if poll else None
        joined = len(store.members(code))
    except ClassError as exc:
        st.warning(str(exc))
        return
    if poll is None:
        st.info(f"{joined} student(s) joined. Launch a question to start.")
        return
    st.markdown(poll.prompt)
    answered = sum(counts.values())
    st.caption(f"{answered} of {joined} student(s) answered · refreshes every second")
    figure = poll_figure(poll.choices, counts, answer=poll.answer if poll.revealed else None)
    if not poll.revealed:
        st.plotly_chart(figure, key=f"class-dist-{poll.id}", width="stretch")
        if st.button("Reveal the run", key=f"class-reveal-{poll.id}", type="primary"):
            store.reveal(poll.id)
            st.rerun(scope="fragment")
        return
    left, right = st.columns(2)
    with left:
        st.plotly_chart(figure, key=f"class-dist-{poll.id}", width="stretch")
    with right:
        config = poll_run_config(course, poll)
        if isinstance(config, RunConfig):
            run = runs.run(config)
            figure = trajectory_figure([run], height=380, animate=True, colorbar=False)
        else:  # a network question (lesson 6): its loss curves
            run = network_view.train(config)  # cached, bounded
            figure = net_loss_figure(run.train_loss, run.eval_steps, run.val_loss,
                                     diverged_at=run.diverged_at, height=380)
        st.plotly_chart(figure, key=f"class-run-{poll.id}", width="stretch")
        st.caption(run.explanation)


def _dashboard(store: ClassroomStore, code: str) -> None:
    polls = store.polls(code)
    rows = store.answer_rows(code)
    if not polls:
        st.info("No polls yet: results appear here after the first launch.")
        return
    st.subheader("Per question")
    st.dataframe(pd.DataFrame(question_results(polls, rows)), hide_index=True,
                 column_config={"share_correct": st.column_config.NumberColumn(format="percent")})
    st.subheader("Per concept (weakest first)")
    st.dataframe(pd.DataFrame(concept_results(polls, rows)), hide_index=True,
                 column_config={"share_correct": st.column_config.NumberColumn(format="percent")})
    st.download_button("Download every answer (CSV)", poll_csv(rows),
                       file_name=f"lrviz-class-{code}.csv", mime="text/csv",
                       key="class-csv")
