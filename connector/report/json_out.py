"""JSON for machines: every row (no list limits), stable sorted keys, ISO dates, a schema version."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

from connector.report.model import DECISION_RULE, Report

SCHEMA_VERSION = 2  # 2: summary, timeline, forecast percentiles / how-many / histogram, people by name


_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _plain(value):
    if value is None or isinstance(value, (str, int, float)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _fields(type(value))}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def report_dict(report: Report) -> dict:
    data = _plain(report)
    data["schema_version"] = SCHEMA_VERSION
    data["stale_trackers"] = [f.tracker for f in report.stale_trackers]
    for section, milestone in zip(data["milestones"], report.milestones, strict=True):
        section["progress"]["percent"] = milestone.progress.percent
    if report.summary is not None:
        for row, summary in zip(data["summary"]["milestones"], report.summary.milestones, strict=True):
            row["p50_moved_days"], row["p85_moved_days"] = summary.p50_moved, summary.p85_moved
        data["summary"]["decision_rule"] = DECISION_RULE
    return data


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), sort_keys=True, indent=1, ensure_ascii=False,
                      allow_nan=False) + "\n"
