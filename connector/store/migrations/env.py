"""Alembic environment: Store.open passes its own connection; by hand the URL comes from the environment."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from connector.store.tables import metadata

config = context.config
target_metadata = metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("PLANSYNC_STORE__URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set PLANSYNC_STORE__URL to the store URL (as config.toml [store] url)")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) mode is not supported; run against a database")
run_migrations_online()
