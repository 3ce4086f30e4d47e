"""The run lease: one holder per name, acquired atomically by one upsert on SQLite and PostgreSQL,
renewed by a background thread while the holder works, taken over once a crashed holder's expiry passes.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from connector.errors import LeaseHeld, StoreError
from connector.store.tables import leases

log = logging.getLogger(__name__)


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def db_now(conn: Connection) -> datetime:
    """Lease time is the database's clock on PostgreSQL (one clock for every machine), else this host's.

    Deliberately not connector.clock.now(): PLANSYNC_NOW pins the logical "now" for reports, and a
    pinned clock would make a crashed holder's lease never expire.
    """
    if conn.dialect.name == "postgresql":
        return conn.execute(text("SELECT clock_timestamp()")).scalar_one().astimezone(UTC)
    return datetime.now(UTC)


def acquire(conn: Connection, name: str, holder: str, ttl: float) -> bool:
    """Take the lease if it is free, expired, or already ours; True when `holder` has it afterwards."""
    now = db_now(conn)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(leases).values(name=name, holder=holder, acquired_at=now,
                                         expires_at=now + timedelta(seconds=ttl))
    # The conflict branch only fires for a lease that has run out or is ours: the database serialises
    # concurrent upserts of one row, so of two racing machines exactly one sees its own name after.
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at,
              "acquired_at": stmt.excluded.acquired_at},
        where=(leases.c.expires_at < now) | (leases.c.holder == holder),
    )
    conn.execute(stmt)
    current = conn.execute(select(leases.c.holder).where(leases.c.name == name)).scalar_one_or_none()
    return current == holder


def renew(conn: Connection, name: str, holder: str, ttl: float) -> bool:
    now = db_now(conn)
    done = conn.execute(update(leases).where(leases.c.name == name, leases.c.holder == holder)
                        .values(expires_at=now + timedelta(seconds=ttl)))
    return done.rowcount == 1


def release(conn: Connection, name: str, holder: str) -> None:
    conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))


def holder_of(conn: Connection, name: str) -> tuple[str, datetime] | None:
    """Who holds the lease and until when; None when it is free or has expired."""
    row = conn.execute(select(leases.c.holder, leases.c.expires_at).where(leases.c.name == name)).first()
    if row is None or row.expires_at <= db_now(conn):
        return None
    return row.holder, row.expires_at


class Lease:
    """A held lease; a daemon thread renews it every ttl/3 until `release()`.

    If a renewal fails (the store was unreachable past the expiry, or someone took it over), `lost`
    becomes True and `check()` raises LeaseHeld, so long work can stop before writing anything more.
    """

    def __init__(self, store, name: str, holder: str, ttl: float) -> None:
        self.store, self.name, self.holder, self.ttl = store, name, holder, ttl
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease-{name}", daemon=True)

    def start(self) -> Lease:
        self._thread.start()
        return self

    def _renew_loop(self) -> None:
        # A timer on an Event, not clock.sleep: this is a heartbeat, not a retry wait, and it must end
        # the moment the holder releases.
        while not self._stop.wait(self.ttl / 3):
            try:
                if not self.store.renew_lease(self.name, self.holder, self.ttl):
                    self.lost = True
                    log.error("lease %r was taken over; %s no longer holds it", self.name, self.holder)
                    return
            except StoreError as exc:  # keep trying: the lease is still ours until it expires
                log.warning("could not renew lease %r: %s", self.name, exc)

    def check(self) -> None:
        if self.lost:
            raise LeaseHeld(f"lease {self.name!r} was lost by {self.holder} while working")

    def release(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        if self.lost:
            return
        try:
            self.store.release_lease(self.name, self.holder)
        except StoreError as exc:  # never mask the work's own outcome; the lease will simply expire
            log.warning("could not release lease %r (it expires on its own): %s", self.name, exc)


def held_message(name: str, current: tuple[str, datetime] | None) -> str:
    if current is None:
        return f"lease {name!r} is held by another run"
    who, until = current
    return f"lease {name!r} held by {who} until {until.isoformat(timespec='seconds')}"

