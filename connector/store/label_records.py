"""What the store keeps about labels beyond the items: the label record of each item (what it last
confirmed there) and the plan the store is bound to. Mixed into Store."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from connector import clock
from connector.store import bulk
from connector.store.codec import dump_list, load_tuple
from connector.store.tables import label_records, store_binding
from connector.store.types import as_utc
from connector.values import LabelRecord


class LabelRecords:
    """Store methods over label_records and store_binding (they use Store._read / Store._write)."""

    # --- what the store last confirmed on each item -------------------------------------------------

    def label_records(self, tracker: str | None = None) -> dict[tuple[str, str], LabelRecord]:
        query = select(label_records)
        if tracker is not None:
            query = query.where(label_records.c.tracker == tracker)

        def work(conn: Connection) -> dict[tuple[str, str], LabelRecord]:
            return {(r.tracker, r.item_id): LabelRecord(r.tracker, r.item_id, frozenset(load_tuple(r.labels)),
                                                        tuple(load_tuple(r.placement)), bool(r.is_open), r.prefix,
                                                        frozenset(load_tuple(r.legacy)))
                    for r in conn.execute(query)}
        return self._read(work)

    def save_label_records(self, records: Iterable[LabelRecord], at: datetime) -> int:
        """Upsert records (adoption on a first apply, placements of items already right)."""
        rows = [record_row(r, at) for r in records]
        if rows:
            self._write(lambda conn: bulk.upsert(conn, label_records, rows, keys=("tracker", "item_id")))
        return len(rows)

    def recorded_trackers(self) -> frozenset[str]:
        """Trackers this store has confirmed (or adopted) labels on: any other is on its first apply."""
        query = select(label_records.c.tracker).distinct()
        return self._read(lambda conn: frozenset(conn.execute(query).scalars()))

    def binding(self) -> str | None:
        """The namespace of the plan this store serves (None: not bound yet)."""
        query = select(store_binding.c.namespace).where(store_binding.c.id == 1)
        return self._read(lambda c: c.execute(query).scalar_one_or_none())

    def bind(self, namespace: str) -> str:
        """Bind the store to `namespace` unless it is bound already; returns the namespace it serves."""
        def work(conn: Connection) -> str:
            # one statement that cannot race: runs starting together on a new store all insert, one wins
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(dialect.insert(store_binding).values(id=1, namespace=namespace, bound_at=clock.now())
                         .on_conflict_do_nothing(index_elements=["id"]))
            return conn.execute(select(store_binding.c.namespace).where(store_binding.c.id == 1)).scalar_one()
        return self._write(work)


def record_row(record: LabelRecord, at: datetime) -> dict[str, Any]:
    return {"tracker": record.tracker, "item_id": record.item_id, "labels": dump_list(sorted(record.labels)),
            "placement": dump_list(list(record.placement)), "is_open": record.is_open, "prefix": record.prefix,
            "legacy": dump_list(sorted(record.legacy)),
            "confirmed_at": as_utc(at)}
