"""Dialect-neutral bulk statements: chunked upserts and IN-lists that never go one round trip per row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

CHUNK = 500  # rows per statement: 500 x ~27 columns stays under SQLite's 32,766 bound parameters


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _insert(conn: Connection, table: Table):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Iterable[str],
           keep: Iterable[str] = ()) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE every column except the keys and `keep`."""
    if not rows:
        return
    keys, keep = tuple(keys), set(keep)
    for part in chunks(rows):
        stmt = _insert(conn, table)
        columns = [c for c in part[0] if c not in keys and c not in keep]
        stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={c: stmt.excluded[c] for c in columns})
        conn.execute(stmt, list(part))


def insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    for part in chunks(rows):
        conn.execute(table.insert(), list(part))
