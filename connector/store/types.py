"""Column types that behave the same on SQLite and PostgreSQL: aware-UTC datetimes in, aware-UTC out.

SQLite has no timezone-aware timestamp; it stores naive UTC text here and gets its tzinfo back on read.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already (never local time)."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """`timestamp with time zone` on PostgreSQL; naive UTC text on SQLite (which sorts correctly)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # raw text from a hand-written SQLite query
            value = datetime.fromisoformat(value)
        return as_utc(value)
