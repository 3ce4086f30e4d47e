"""The one place that lists tracker kinds: the built-in ones, plus any installed under the
`plansync.trackers` entry-point group (a `TrackerKind`), plus any registered at run time (tests)."""

from __future__ import annotations

import logging
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from connector.errors import ConfigError
from connector.trackers.base import TrackerKind

log = logging.getLogger(__name__)

BUILTIN = ("connector.trackers.jira:KIND", "connector.trackers.github:KIND", "connector.trackers.gitlab:KIND")
ENTRY_POINT_GROUP = "plansync.trackers"

_kinds: dict[str, TrackerKind] | None = None
_extra: dict[str, TrackerKind] = {}
version = 0  # bumped on every change, so models built from the registry know when to rebuild


def _load(ref: str) -> TrackerKind:
    module_name, _, attribute = ref.partition(":")
    return getattr(import_module(module_name), attribute)


def kinds() -> dict[str, TrackerKind]:
    """Every known kind by name, built-ins first."""
    global _kinds
    if _kinds is None:
        found: dict[str, TrackerKind] = {}
        for ref in BUILTIN:
            kind = _load(ref)
            found[kind.name] = kind
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                kind = point.load()
            except Exception as exc:  # a broken plugin must not take the built-in kinds down with it
                log.warning("tracker kind plugin %r could not be loaded: %s", point.name, exc)
                continue
            found.setdefault(kind.name, kind)
        _kinds = found
    return {**_kinds, **_extra}


def kind(name: str) -> TrackerKind:
    try:
        return kinds()[name]
    except KeyError:
        raise ConfigError(f"unknown tracker kind {name!r} (known: {', '.join(sorted(kinds()))})") from None


def register(tracker_kind: TrackerKind) -> None:
    """Add a kind at run time (a test's throwaway kind, an embedding program's own)."""
    global version
    _extra[tracker_kind.name] = tracker_kind
    version += 1


def unregister(name: str) -> None:
    global version
    if _extra.pop(name, None) is not None:
        version += 1


def identity_keys() -> dict[str, str]:
    """The [people] identity key of each kind: key -> kind name."""
    return {k.identity_key: k.name for k in kinds().values()}


def kind_for_scope(raw: dict[str, Any]) -> TrackerKind | None:
    """The kind a scope table belongs to by its keys alone (no config at hand): the kind whose
    distinguishing keys it uses; None when no kind or several kinds claim it."""
    claims = [k for k in kinds().values() if k.claims(raw)]
    return claims[0] if len(claims) == 1 else None


def scope_from(raw: dict[str, Any], kind_name: str | None = None):
    """A scope table as its kind's model (pydantic ValidationError on bad keys)."""
    raw = dict(raw)
    stored = raw.pop("kind", None)  # a dumped scope names its kind (Scope._with_kind)
    kind_name = kind_name or (stored if isinstance(stored, str) and stored in kinds() else None)
    chosen = kind(kind_name) if kind_name else kind_for_scope(raw)
    if chosen is None:
        raise ValueError("cannot tell which tracker kind this scope is for: "
                         + "; ".join(k.scope_hint for k in kinds().values()))
    return chosen.scope.model_validate(raw)


def make_adapter(tracker: Any, settings: Any, *, mapping: Any = None, policy: Any = None):
    """The adapter for one configured tracker (reads its token now: ConfigError when unset). A run
    builds one per tracker and keeps it for the whole run (connector.run.Run.adapter)."""
    chosen = kind(tracker.kind)
    return chosen.make_adapter(tracker, mapping if mapping is not None else chosen.load_mapping(tracker.mapping),
                               overlap_minutes=settings.sync.overlap_minutes, policy=policy)
