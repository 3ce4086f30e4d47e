"""Tracker metadata cached in the store, so a quiet incremental sync asks the tracker for items only.

Rows of `store_meta` (migration 0006), keyed `metadata:<tracker>:<name>`, value JSON
`{"at": ISO instant, "data": ...}`. What an adapter caches is its own business (Jira: the custom field
ids of `/field`, the account timezone of `/myself`, the boards of each project; GitHub: each repo's
milestone list with its ETag). Entries live `ttl` (default 24 h, `sync.metadata_ttl_hours`): an
incremental sync uses an unexpired entry and fetches a missing or expired one; a census run (full pull)
refreshes every entry older than half the ttl, so with the default daily census (hourly syncs,
`census_every = 24`) each census refreshes what the one before fetched, while a census shortly after
another (a `--full` rerun) reuses it. Nothing is written until `flush`, which the caller runs
after the pull it belongs to was stored: a failed pull leaves the cache as it was.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from connector.store import bulk
from connector.store.tables import store_meta
from connector.store.types import as_utc

log = logging.getLogger(__name__)
PREFIX = "metadata:"
TTL = timedelta(hours=24)


class MetadataCache:
    """One tracker's cached metadata for one pull. `get` answers unexpired entries only; `peek` any entry
    (for a conditional request: an ETag is worth sending however old); `put` records a fresh answer."""

    def __init__(self, store, tracker: str, *, now: datetime, ttl: timedelta = TTL, census: bool = False) -> None:
        self.tracker, self.now = tracker, as_utc(now)
        self.ttl = ttl / 2 if census else ttl
        self._store = store if hasattr(store, "_read") else None  # a stand-in store: cache for this pull only
        self._entries: dict[str, tuple[datetime, Any]] = self._store._read(self._load) if self._store else {}
        self._dirty: set[str] = set()

    def _key(self, name: str) -> str:
        return f"{PREFIX}{self.tracker}:{name}"

    def _load(self, conn) -> dict[str, tuple[datetime, Any]]:
        prefix = self._key("")
        rows = conn.execute(select(store_meta.c.key, store_meta.c.value)
                            .where(store_meta.c.key.startswith(prefix, autoescape=True))).all()
        out: dict[str, tuple[datetime, Any]] = {}
        for key, value in rows:
            try:
                entry = json.loads(value)
                out[key[len(prefix):]] = (as_utc(datetime.fromisoformat(entry["at"])), entry["data"])
            except (ValueError, KeyError, TypeError):  # unreadable: as if absent, refetched and overwritten
                log.debug("%s: ignoring unreadable cached metadata %r", self.tracker, key)
        return out

    def fresh(self, name: str) -> bool:
        entry = self._entries.get(name)
        return entry is not None and entry[0] <= self.now + timedelta(minutes=5) and self.now - entry[0] < self.ttl

    def get(self, name: str) -> Any | None:
        """The cached data while unexpired, else None (fetch it and `put` the answer)."""
        return self._entries[name][1] if self.fresh(name) else None

    def cached(self, name: str, fetch):
        """`get(name)`, else `fetch()`, recorded with `put`."""
        data = self.get(name)
        if data is None:
            data = fetch()
            self.put(name, data)
        return data

    def peek(self, name: str) -> Any | None:
        entry = self._entries.get(name)
        return entry[1] if entry else None

    def put(self, name: str, data: Any) -> None:
        self._entries[name] = (self.now, data)
        self._dirty.add(name)

    def flush(self) -> None:
        if not self._dirty or self._store is None:
            return
        rows = [{"key": self._key(name), "value": json.dumps({"at": self._entries[name][0].isoformat(),
                                                               "data": self._entries[name][1]})}
                for name in sorted(self._dirty)]
        self._store._write(lambda conn: bulk.upsert(conn, store_meta, rows, keys=("key",)))
        self._dirty.clear()

