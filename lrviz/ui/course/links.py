"""In-app links from a lesson to the lab, built from `lrviz.ui.links.lab_url`.

The link goes through ``st.page_link`` (not a plain anchor) so it stays in the same browser
tab and session: the learner's name and settings follow them into the lab and back.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import streamlit as st

from lrviz.ui.links import LAB_PATH, lab_url

LAB_PAGE = "lrviz/ui/pages/lab.py"


def lab_query(preset: str) -> list[tuple[str, str]]:
    """The query parameters of the lab link for ``preset`` (ValueError if it is unknown)."""
    url = urlsplit(lab_url(preset=preset))
    if url.path != LAB_PATH:
        raise ValueError(f"lab_url returned {url.path!r}, expected {LAB_PATH!r}")
    return parse_qsl(url.query)


def open_in_lab(preset: str, label: str = "Open in lab") -> None:
    """A link that opens the lab with ``preset`` loaded, or a notice if the preset is unknown."""
    try:
        query = lab_query(preset)
    except ValueError as exc:
        st.warning(f"This lab link is broken: {exc}", icon=":material/science:")
        return
    st.page_link(LAB_PAGE, label=label, icon=":material/science:", query_params=query,
                 help=f"Loads the “{preset}” preset in the lab")
