"""Outside text (URL values, labels from links, names, file contents) shown as inert text.

Streamlit renders ``st.markdown``, ``st.caption``, ``st.warning``, ``st.info``... bodies as
Markdown: a URL value echoed there verbatim could become a live link, a remote image, a heading
or a ``:material/...:`` directive. Every piece of outside text therefore goes through `md`
before it is placed in a Markdown body, and through `html_text` before it is placed in HTML.
No streamlit import: the helpers are pure and unit-tested.

- `md(text)`: Markdown source that displays ``text`` literally, on one line.
- `shown(value)`: a value quoted for a notice (Markdown), cut to a readable length, with
  control and direction-changing characters written as escapes.
- `clean_label(text)`: a label from a link with control/bidi characters removed, cut short.
- `swatch_line(colour, text)`: the one piece of app-authored HTML the pages use (a coloured
  square before a label), with the label escaped for both Markdown and HTML.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Characters that start inline markup anywhere in a line: emphasis, code, links and images,
# raw HTML and entities, tables, strikethrough, maths, Streamlit's ``:colour[...]`` and
# ``:material/...:`` directives and emoji shortcodes; escaping ``:``, ``.`` and ``@`` also
# breaks GFM autolinks (``http\://``, ``www\.``, ``a@b\.c``). CommonMark lets any ASCII
# punctuation be backslash-escaped.
_MD_INLINE = re.compile(r"([\\`*_{}\[\]<>()#!|~$:&.@])")
# These only mean something at the start of a line (list item, thematic break, setext heading).
_MD_LINE_START = re.compile(r"^(\s*)([-+=])")
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|rgba?\([0-9., ]+\)")
LABEL_LIMIT = 80
SHOWN_LIMIT = 60


def _is_hidden(ch: str) -> bool:
    """Control (Cc), format (Cf: bidi overrides, zero-width) and line/paragraph separators."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def visible(text: str) -> str:
    """``text`` with hidden characters written as escapes: ``"a\\nb"`` -> ``"a\\\\nb"``."""
    return "".join(ch.encode("unicode_escape").decode("ascii") if _is_hidden(ch) else ch
                   for ch in str(text))


def md(text: object) -> str:
    """Markdown source that shows ``text`` literally (one line, every markup character inert).

    Hidden characters (newlines, NUL, bidi overrides) are written as visible escapes, so a value
    can neither start a new block nor reorder the sentence around it.
    """
    return _MD_LINE_START.sub(r"\1\\\2", _MD_INLINE.sub(r"\\\1", visible(str(text))))


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """A URL value as a notice quotes it: ``'abc'`` as Markdown source (`md`), hidden characters
    escaped, cut to ``limit`` characters."""
    return md("'" + cut(visible(str(value)), limit) + "'")


def clean_label(text: str, limit: int = LABEL_LIMIT) -> str:
    """A label from a link: hidden characters dropped, whitespace collapsed, at most ``limit``
    characters (so a legend stays a legend)."""
    kept = "".join(" " if _is_hidden(ch) else ch for ch in str(text))
    kept = " ".join(kept.split())
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def html_text(text: object) -> str:
    """``text`` escaped for an HTML text node or attribute."""
    return html.escape(str(text), quote=True)


def swatch_line(colour: str, text: object, *, bold: bool = True, suffix_md: str = "") -> str:
    """Markdown (with one app-authored HTML span) for ``■ label``: the square in ``colour``.

    Only ``colour`` reaches HTML, and it must be a colour literal; the label is Markdown-escaped
    (which also makes ``<`` inert) and ``suffix_md`` is the caller's own Markdown.
    """
    if not _COLOUR.fullmatch(colour):
        raise ValueError(f"not a colour literal: {colour!r}")
    label = md(text)
    label = f"**{label}**" if bold else label
    return (f"<span style='color:{html_text(colour)};font-size:1.3em'>■</span> "
            f"{label}{suffix_md}")
