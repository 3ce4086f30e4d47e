"""The store: plansync's state in SQLite or PostgreSQL (SQLModel tables, Alembic migrations, the lease).

It knows tables and nothing about vendors; see `Store` for the API.
"""

from connector.store.lease import Lease
from connector.store.pulls import SaveSummary
from connector.store.records import ItemChange, JournalEntry
from connector.store.store import Store

__all__ = ["Store", "SaveSummary", "ItemChange", "JournalEntry", "Lease"]
