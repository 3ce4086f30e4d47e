"""The history to browse: `index.html` over the week folders (latest first), week-to-week links, and
forecast against actual per milestone, read from each week's small summary file."""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from connector.report.model import Report

SUMMARY_NAME = "summary.json"
_WEEK = re.compile(r"^\d{4}-W\d{2}$")


def week_dirs(out: Path) -> list[str]:
    """Week folders under `out`, oldest first (ISO week labels sort as text)."""
    if not out.is_dir():
        return []
    return sorted(p.name for p in out.iterdir() if p.is_dir() and _WEEK.match(p.name))


def nav_html(*, prev: str | None, nxt: str | None, index: str) -> str:
    parts = []
    if prev:
        parts.append(Markup('<a href="{}" rel="prev">← previous week</a>').format(prev))
    parts.append(Markup('<a href="{}">all weeks</a>').format(index))
    if nxt:
        parts.append(Markup('<a href="{}" rel="next">next week →</a>').format(nxt))
    return str(Markup('<nav class="weeks">{}</nav>').format(Markup("").join(parts)))


def finished_on(burnup) -> date | None:
    """The first day everything in scope was done (None while anything is open or nothing is in scope)."""
    if not burnup or burnup[-1].scope == 0 or burnup[-1].done < burnup[-1].scope:
        return None
    day = burnup[-1].day
    for point in reversed(burnup):
        if point.done < point.scope:
            break
        day = point.day
    return day


def summary_json(report: Report) -> str:
    """Per milestone: the week's health and forecast, and when (if) it was finished, as the index reads it."""
    rows = []
    for m in report.milestones:
        done = finished_on(m.burnup)
        rows.append({"key": m.key, "title": m.title, "due": m.due.isoformat(), "health": m.health,
                     "p50": m.forecast.p50.isoformat() if m.forecast.p50 else None,
                     "p85": m.forecast.p85.isoformat() if m.forecast.p85 else None,
                     "finished_on": done.isoformat() if done else None})
    today = report.as_of.date().isoformat()
    return json.dumps({"label": report.label, "plan_name": report.plan_name, "as_of": today,
                       "milestones": rows}, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _load(out: Path, week: str) -> dict | None:
    try:
        data = json.loads((out / week / SUMMARY_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a week written by an older plansync: listed, without figures
    return data if isinstance(data, dict) else None


def forecast_vs_actual(weeks: dict[str, dict]) -> list[dict]:
    """Per milestone and week: the P50/P85 given that week against what happened (newest week's view)."""
    if not weeks:
        return []
    newest = weeks[max(weeks)]
    today = date.fromisoformat(newest["as_of"])
    actual = {m["key"]: m.get("finished_on") for m in newest.get("milestones", ())}
    out = []
    for label in sorted(weeks):
        for m in weeks[label].get("milestones", ()):
            done = actual.get(m["key"])
            p85 = m.get("p85")
            if p85 is None:
                verdict = "no forecast"
            elif done is not None:
                verdict = "P85 met" if done <= p85 else "P85 missed"
            else:
                verdict = "open, P85 passed" if date.fromisoformat(p85) < today else "pending"
            out.append({"week": label, "key": m["key"], "p50": m.get("p50"), "p85": p85, "due": m.get("due"),
                        "finished_on": done, "verdict": verdict})
    return out


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("connector.report", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env.get_template("index.html.j2")


def render_index(out: Path, weeks: list[str]) -> str:
    loaded = {w: d for w in weeks if (d := _load(out, w)) is not None}
    name = next((loaded[w].get("plan_name") for w in reversed(weeks) if w in loaded), None) or "plansync"
    rows = [{"week": w, "href": f"{w}/plansync-report-{w}.html", "data": loaded.get(w)} for w in reversed(weeks)]
    return _template().render(plan_name=name, rows=rows, history=forecast_vs_actual(loaded), escape=escape)
