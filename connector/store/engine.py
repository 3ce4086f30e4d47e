"""Engines for SQLite and PostgreSQL, schema migrations on open, and store faults as one-line StoreErrors.

SQLite gets WAL, a busy timeout and explicit BEGIN (IMMEDIATE for writes) so two writers queue up
instead of failing on a lock upgrade; PostgreSQL gets pre-ping so a restarted server is survived.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from connector.errors import LeaseHeld, StoreError

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SQLITE_BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for another writer's lock
WRITE = {"plansync_write": True}  # execution option: SQLite takes the write lock at BEGIN
_MIGRATION_LOCK = 0x706C616E73796E63  # "plansync": PostgreSQL advisory lock key for migrations
MIGRATE_WAIT = 30.0  # seconds a second migrator waits for the first before giving up (exit 4)


class MigrationLocked(LeaseHeld):
    """Another process held the migration lock past the wait: nothing was done (exit 4, as a held lease)."""


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise StoreError("store URL is not a database URL (expected sqlite:///PATH or "
                         "postgresql+psycopg://USER@HOST/DB)") from None


def display_url(url: URL) -> str:
    """The URL without any password: safe for logs, errors and reports."""
    bare = URL.create(url.drivername, username=url.username, host=url.host, port=url.port,
                      database=url.database, query=url.query)  # URL.set(password=None) keeps it
    return bare.render_as_string(hide_password=False)


def describe(exc: BaseException, where: str) -> str:
    """One line naming the store and the database's own reason, without secrets."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    reason = lines[0] if lines else type(orig).__name__
    if "unable to open database file" in reason and where.startswith("sqlite"):
        folder = os.path.dirname(where.removeprefix("sqlite:///")) or "."
        if not os.path.isdir(folder):
            reason += f" (the folder {folder} does not exist)"
        elif not os.access(folder, os.W_OK):
            reason += f" (the folder {folder} is not writable)"
    if "database is locked" in reason:
        reason += " (another process kept the write lock past the busy timeout)"
    elif "disk I/O error" in reason or "database or disk is full" in reason:
        # SQLite reports a write refused for lack of space or a file-size limit as a plain I/O error
        reason += " (is the disk full, or the store file not writable?)"
    return f"store {where}: {reason}"


@contextmanager
def store_errors(where: str, secret: str | None = None) -> Iterator[None]:
    """Turn database failures into StoreError; the transaction they interrupted was rolled back."""
    try:
        yield
    except SQLAlchemyError as exc:
        message = describe(exc, where)
        if secret:
            message = message.replace(secret, "***")
        raise StoreError(message) from None


def make_engine(url: URL, busy_timeout: float = SQLITE_BUSY_TIMEOUT) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout)
    if url.get_backend_name() != "postgresql":
        raise StoreError(f"store {display_url(url)}: unsupported database (use SQLite or PostgreSQL)")
    if url.drivername == "postgresql":  # SQLAlchemy's default driver is psycopg2, which is not installed
        url = url.set(drivername="postgresql+psycopg")
    elif url.drivername != "postgresql+psycopg":
        raise StoreError(f"store {display_url(url)}: unsupported driver {url.drivername!r} "
                         "(use postgresql+psycopg://USER@HOST/DB)")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         connect_args={"connect_timeout": 10, "application_name": "plansync"})


def _sqlite_engine(url: URL, busy_timeout: float) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if memory:  # one shared connection, or every checkout would see a different empty database
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = create_engine(url, connect_args={"check_same_thread": False,
                                                  "timeout": busy_timeout})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite's own is deferred and late)
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # A deferred transaction that reads then writes can fail at once with SQLITE_BUSY when another
        # writer got in between; taking the write lock up front makes writers wait in busy_timeout.
        immediate = conn.get_execution_options().get("plansync_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def alembic_config() -> Config:
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision_on(conn)


def current_revision_on(conn) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def migrate(engine: Engine, revision: str = "head", wait: float = MIGRATE_WAIT) -> bool:
    """Upgrade the schema in one transaction, one migrator at a time; True when this call migrated.

    Concurrent migrators wait up to `wait` seconds for the one holding the lock (PostgreSQL: an
    advisory lock; SQLite: the write lock) and then find the schema done, or raise MigrationLocked.
    """
    target = head_revision() if revision == "head" else revision
    current = current_revision(engine)
    if current == target:
        return False
    if current is not None and not _known_revision(current):
        raise StoreError(f"store {display_url(engine.url)}: schema revision {current} is newer than this "
                         f"plansync knows (it knows up to {head_revision()}); upgrade plansync")
    with engine.connect() as outer:
        sqlite = outer.dialect.name == "sqlite"
        if sqlite:  # the write lock is the migration lock: wait for it `wait` seconds, not busy_timeout
            raw = outer.connection.dbapi_connection
            usual = raw.execute("PRAGMA busy_timeout").fetchone()[0]
            raw.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        try:
            with outer.execution_options(**WRITE).begin():
                if not sqlite:
                    _advisory_lock(outer, wait)
                before = MigrationContext.configure(outer).get_current_revision()
                if before == target:
                    return False
                config = alembic_config()
                config.attributes["connection"] = outer
                log.info("migrating store schema from %s to %s", before or "empty", target)
                command.upgrade(config, revision)
                return True
        except OperationalError as exc:
            if sqlite and "database is locked" in str(exc.orig):
                raise MigrationLocked(_locked_message(engine, wait)) from None
            raise
        finally:
            if sqlite:
                raw.execute(f"PRAGMA busy_timeout={usual}")


def _advisory_lock(conn, wait: float) -> None:
    """Take the migration lock for this transaction, waiting at most `wait` seconds (the server waits)."""
    conn.execute(text(f"SET LOCAL lock_timeout = '{max(int(wait * 1000), 1)}ms'"))
    try:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise MigrationLocked(_locked_message(conn.engine, wait)) from None
        raise
    conn.execute(text("SET LOCAL lock_timeout = DEFAULT"))


def _locked_message(engine: Engine, wait: float) -> str:
    return (f"store {display_url(engine.url)}: another process is migrating the schema and still held "
            f"the migration lock after {wait:g} s; nothing was done (try again when it has finished)")
