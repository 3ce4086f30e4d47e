"""Tracker adapters, one module per tracker kind; `make_adapter` picks one by the config's `kind`.

A third tracker is one new module here plus one mapping file: register its kind in `_KINDS`.
"""

from __future__ import annotations

from importlib import import_module

from connector.adapters.base import TrackerAdapter
from connector.adapters.http import RetryPolicy
from connector.mapping import load_mapping
from connector.settings import Settings, TrackerSettings

_KINDS = {
    "jira": ("connector.adapters.jira", "JiraAdapter"),
    "github": ("connector.adapters.github", "GithubAdapter"),
}


def make_adapter(tracker: TrackerSettings, settings: Settings, *, policy: RetryPolicy | None = None) -> TrackerAdapter:
    """Build the adapter for one configured tracker. Reads its token now (ConfigError when unset).

    Every adapter class takes: (tracker settings, mapping, *, overlap_minutes, policy).
    """
    module_name, class_name = _KINDS[tracker.kind]
    cls = getattr(import_module(module_name), class_name)
    mapping = load_mapping(tracker.kind, tracker.mapping)
    return cls(tracker, mapping, overlap_minutes=settings.sync.overlap_minutes, policy=policy or RetryPolicy())
