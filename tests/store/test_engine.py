"""Opening stores: SQLite settings, in-memory stores, and URLs that never show a password."""

from __future__ import annotations

from sqlalchemy import text

from connector.store import Store


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_store):
    with sqlite_store._engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_in_memory_sqlite_store_is_one_database():
    with Store.open("sqlite://") as store:
        run = store.begin_run("validate", [])
        assert [r["id"] for r in store.runs()] == [run]
        with store.lease("run", ttl=300):
            assert store.lease_holder("run") is not None


def test_url_for_display_has_no_password(store, store_url):
    assert store.url_for_display == store_url  # test URLs carry no password
    with Store("postgresql+psycopg://bot:s3cr3t@db.internal:5433/plansync?sslmode=require") as unopened:
        # constructing connects to nothing; only open() (migrations) and queries do
        assert unopened.url_for_display == "postgresql+psycopg://bot@db.internal:5433/plansync?sslmode=require"
        assert "s3cr3t" not in repr(unopened)
