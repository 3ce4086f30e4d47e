"""`plansync store info`: the store's size, row counts, oldest data and schema version, from either engine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, select, text

from connector.store.tables import item_history, item_versions, metadata, runs, write_journal
from connector.store.types import as_utc

# the oldest row of each kind of history, as (label, column)
_OLDEST = (("run", runs.c.started), ("item version", item_versions.c.valid_from),
           ("item change", item_history.c.observed_at), ("journal entry", write_journal.c.created))


@dataclass
class StoreInfo:
    engine: str
    url: str
    schema: str | None
    head: str
    size_bytes: int | None  # the database file(s) or the PostgreSQL database
    rows: dict[str, int] = field(default_factory=dict)
    table_bytes: dict[str, int] = field(default_factory=dict)  # PostgreSQL only (with indexes and TOAST)
    oldest: dict[str, datetime | None] = field(default_factory=dict)
    thinned_before: str | None = None


def sqlite_size(database: str | None) -> int | None:
    """The database file plus its WAL and shared-memory files (what a copy of the store must hold)."""
    if not database or database == ":memory:":
        return None
    return sum(os.path.getsize(p) for p in (database, f"{database}-wal", f"{database}-shm") if os.path.exists(p))


def database_size(conn: Connection) -> int | None:
    if conn.dialect.name == "postgresql":
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    return sqlite_size(conn.engine.url.database)


def collect(conn: Connection, *, url: str, schema: str | None, head: str) -> StoreInfo:
    from connector.store.retention import THINNED_BEFORE, get_meta

    info = StoreInfo(engine=conn.dialect.name, url=url, schema=schema, head=head, size_bytes=database_size(conn))
    existing = set(conn.dialect.get_table_names(conn))
    for name, table in sorted(metadata.tables.items()):
        if name not in existing:
            continue
        info.rows[name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if conn.dialect.name == "postgresql":
            info.table_bytes[name] = int(conn.execute(text("SELECT pg_total_relation_size(:t)"), {"t": name})
                                         .scalar_one())
    for label, column in _OLDEST:
        if column.table.name in existing:
            value = conn.execute(select(func.min(column))).scalar_one_or_none()
            info.oldest[label] = as_utc(value) if isinstance(value, datetime) else None
    if "store_meta" in existing:
        info.thinned_before = get_meta(conn, THINNED_BEFORE)
    return info
