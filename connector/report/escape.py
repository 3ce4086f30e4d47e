"""Markdown escaping for untrusted tracker text: everything a title, name or label can smuggle in.

HTML escaping is jinja2's autoescape; this module covers the Markdown output, where nothing escapes
by default, so the Markdown template escapes every expression unless it is a `Trusted` value.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

# Backslash-escapable Markdown punctuation (CommonMark allows escaping any ASCII punctuation).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#|!~])")
# C0 controls, DEL, line/paragraph separators and bidi overrides (which can make text read backwards)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
# the same minus tab and newlines, which HTML renders as plain whitespace: used by the HTML renderer
HTML_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
_MAX_CELL = 300  # a title longer than this is truncated: a table cell is for reading, not archiving


class Trusted(str):
    """Markdown we generated ourselves (links, emphasis around escaped text); passed through as is."""

    __slots__ = ()


def md_text(value: object, *, limit: int | None = _MAX_CELL) -> Trusted:
    """One line of untrusted text made inert in Markdown (and in the HTML Markdown may contain).

    Control characters and newlines become spaces (a newline would end a table row or open a block);
    `<`, `>` and `&` become entities so no raw HTML survives; Markdown punctuation is backslash-escaped;
    `@` gets a zero-width space after it so a posted report pings nobody.
    """
    if isinstance(value, Trusted):
        return value
    text = "" if value is None else str(value)
    text = _CONTROL.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = text.replace("@", "@\u200b")
    return Trusted(text)


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) and well-formed, percent-encoded so it cannot break out of `(...)`."""
    if not url:
        return None
    url = _CONTROL.sub("", str(url)).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # keep URL syntax characters, encode everything that could close the link or start markup
    return quote(url, safe="/:?&=%#+,;~@!$'")


def md_link(text: object, url: str | None) -> Trusted:
    """`[text](url)` when the URL is http(s); otherwise just the escaped text (no link at all)."""
    label = md_text(text)
    target = safe_url(url)
    if target is None:
        return label
    return Trusted(f"[{label}]({target.replace(chr(39), '%27').replace('!', '%21')})")


def md_cell(value: object) -> Trusted:
    """Table-cell text: as `md_text`, never empty (an empty cell can collapse a GFM table row)."""
    text = md_text(value)
    return text if text else Trusted("—")
