"""Writes the rendered report files: `plansync-report-<week>.<ext>` plus `latest.<ext>`, atomically."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from connector.report.html import chart_svgs, render_html
from connector.report.json_out import render_json
from connector.report.markdown import render_markdown
from connector.report.model import Report

log = logging.getLogger(__name__)

FORMATS = ("md", "html", "json")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
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
    return _UNSAFE_NAME.sub("_", f"plansync-report-{label}-burnup-{key}") + ".svg"


def write_report(report: Report, out_dir: str | Path, formats: Iterable[str] = FORMATS) -> dict[str, Path]:
    """Render each format once and write it; returns {format: path of the week's file}.

    Markdown links its burn-up charts as SVG files written beside it; `latest.*` are copies (not
    symlinks) so the folder can be synced or mailed as is.
    """
    formats = tuple(dict.fromkeys(formats))
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown report format(s): {', '.join(sorted(unknown))}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = _UNSAFE_NAME.sub("_", f"plansync-report-{report.label}")
    charts = chart_svgs(report) if {"md", "html"} & set(formats) else {}
    written: dict[str, Path] = {}
    for fmt in formats:
        if fmt == "md":
            links = {}
            for key, svg in charts.items():
                name = chart_file_name(report.label, key)
                _write(out / name, svg)
                links[key] = name
            text = render_markdown(report, charts=links)
        elif fmt == "html":
            text = render_html(report, charts=charts)
        else:
            text = render_json(report)
        path = out / f"{base}.{fmt}"
        _write(path, text)
        _write(out / f"latest.{fmt}", text)
        written[fmt] = path
        log.info("wrote %s report %s", fmt, path)
    return written
