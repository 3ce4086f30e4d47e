"""Writes the rendered report: `<out>/<week>/plansync-report-<week>.<ext>` with its charts, `latest.<ext>`
(the newest week) and `index.html`, atomically; week pages link to their neighbours."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from connector.report.html import all_chart_svgs, render_html
from connector.report.index import SUMMARY_NAME, nav_html, render_index, summary_json, week_dirs
from connector.report.json_out import render_json
from connector.report.markdown import render_markdown
from connector.report.model import Report

log = logging.getLogger(__name__)

FORMATS = ("md", "html", "json")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_NAV = re.compile(r'<nav class="weeks">.*?</nav>', re.S)
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: os.umask can only be read by setting it


def _write(path: Path, text: str) -> None:
    """Write via a temp file and rename, so a reader (or a crash) never sees half a report."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp creates 0600; a report is meant to be read (served, uploaded): the usual mode
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def chart_file_name(label: str, key: str) -> str:
    """`burnup-<key>` for a milestone key; `timeline` and `hist-<key>` for the other charts.

    A key that does not survive as a file name as it is (non-ASCII, spaces, capitals that a
    case-insensitive disk folds) gets a short hash of itself, so two milestones never share a file."""
    if key in ("timeline", "dependencies"):
        return _UNSAFE_NAME.sub("_", f"plansync-report-{label}-{key}") + ".svg"
    kind, milestone = ("hist", key[5:]) if key.startswith("hist-") else ("burnup", key)
    slug = _UNSAFE_NAME.sub("_", milestone)
    if slug != milestone or milestone != milestone.lower():
        slug = f"{slug}-{hashlib.sha1(milestone.encode()).hexdigest()[:8]}"
    return _UNSAFE_NAME.sub("_", f"plansync-report-{label}") + f"-{kind}-{slug}.svg"


def report_file_name(label: str, fmt: str) -> str:
    return _UNSAFE_NAME.sub("_", f"plansync-report-{label}") + f".{fmt}"


def write_report(report: Report, out_dir: str | Path, formats: Iterable[str] = FORMATS) -> dict[str, Path]:
    """Render each format once and write it; returns {format: path of the week's file}.

    Markdown links its charts as SVG files in the week's folder; `latest.*` are copies (not symlinks)
    so the folder can be synced or mailed as is, and are only replaced by the newest week.
    """
    formats = tuple(dict.fromkeys(formats))
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown report format(s): {', '.join(sorted(unknown))}")
    out = Path(out_dir)
    week = _UNSAFE_NAME.sub("_", report.label)
    folder = out / week
    folder.mkdir(parents=True, exist_ok=True)
    newest = all(w <= week for w in week_dirs(out))
    charts = all_chart_svgs(report) if {"md", "html"} & set(formats) else {}
    written: dict[str, Path] = {}
    for fmt in formats:
        latest = None
        if fmt == "md":
            links = {}
            for key, svg in charts.items():
                name = chart_file_name(report.label, key)
                _write(folder / name, svg)
                links[key] = name
            html_name = report_file_name(report.label, "html")
            text = render_markdown(report, charts=links, full_report=html_name)
            latest = render_markdown(report, charts={k: f"{week}/{v}" for k, v in links.items()},
                                     full_report=f"{week}/{html_name}")
        elif fmt == "html":
            text = render_html(report, charts=charts, nav={"index": "../index.html"})
            # latest.html differs only in where its links point: swap the nav instead of rendering again
            latest = _NAV.sub(lambda _: nav_html(prev=None, nxt=None, index="index.html"), text, count=1)
        else:
            text = latest = render_json(report)
        path = folder / report_file_name(report.label, fmt)
        _write(path, text)
        if newest:
            _write(out / f"latest.{fmt}", latest)
        written[fmt] = path
        log.info("wrote %s report %s", fmt, path)
    _write(folder / SUMMARY_NAME, summary_json(report))  # what the index reads: small, unlike the JSON
    relink(out, week)
    return written


def relink(out: Path, around: str) -> None:
    """Point the week `around` and its neighbours (and latest.html) at their neighbours, and rewrite
    index.html: a week written later, or an older week backfilled, changes its neighbours' links."""
    weeks = week_dirs(out)
    at = weeks.index(around) if around in weeks else 0
    for n, week in enumerate(weeks):
        if abs(n - at) > 1 and n != len(weeks) - 1:
            continue
        page = out / week / report_file_name(week, "html")
        prev = weeks[n - 1] if n > 0 else None
        nxt = weeks[n + 1] if n + 1 < len(weeks) else None
        _renav(page, nav_html(prev=f"../{prev}/{report_file_name(prev, 'html')}" if prev else None,
                              nxt=f"../{nxt}/{report_file_name(nxt, 'html')}" if nxt else None,
                              index="../index.html"))
        if nxt is None:
            _renav(out / "latest.html",
                   nav_html(prev=f"{prev}/{report_file_name(prev, 'html')}" if prev else None, nxt=None,
                            index="index.html"))
    if weeks:
        _write(out / "index.html", render_index(out, weeks))


def _renav(page: Path, nav: str) -> None:
    if not page.exists():
        return
    text = page.read_text(encoding="utf-8")
    new = _NAV.sub(lambda _: nav, text, count=1)
    if new != text:
        _write(page, new)
