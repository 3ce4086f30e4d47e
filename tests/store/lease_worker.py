"""Code run in child processes by the lease tests (a module of its own, so any
multiprocessing start method can find it)."""

from __future__ import annotations

import os

from connector.errors import LeaseHeld
from connector.store import Store


def contend(url: str, name: str, barrier, results, done) -> None:
    """Race the others for `name`; the winner keeps the lease until the parent says `done`."""
    with Store.open(url) as store:
        barrier.wait(timeout=60)
        try:
            with store.lease(name, ttl=30):
                results.put(("won", os.getpid()))
                done.wait(60)
        except LeaseHeld as exc:
            results.put(("held", str(exc)))


def hold_forever(url: str, name: str, ttl: float, results, never) -> None:
    """Take the lease and keep renewing it until killed."""
    with Store.open(url) as store, store.lease(name, holder=f"doomed:{os.getpid()}", ttl=ttl):
        results.put(("held", os.getpid()))
        never.wait(120)


def open_store(url: str, barrier, results) -> None:
    """Open (and so migrate) a store at the same moment as the other workers."""
    barrier.wait(timeout=60)
    with Store.open(url) as store:
        results.put(store.schema_revision())


def migrate_at_once(url: str, wait: float, barrier, results) -> None:
    """Run `store upgrade`'s call at the same moment as the others; report what this process did."""
    from connector.store.engine import MigrationLocked

    with Store.open(url, migrate=False) as store:
        barrier.wait(timeout=60)
        try:
            results.put(("migrated" if store.upgrade(wait=wait) else "waited", os.getpid()))
        except MigrationLocked as exc:
            results.put(("locked", str(exc)))
