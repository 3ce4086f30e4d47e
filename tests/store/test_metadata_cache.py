"""The store's cache of tracker metadata (store_meta rows): per tracker, expiring, written only on flush."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connector.store.metadata import MetadataCache

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_entries_are_kept_per_tracker_until_they_expire(store):
    first = MetadataCache(store, "jira", now=T0)
    assert first.get("field") is None
    calls = []
    assert first.cached("field", lambda: calls.append(1) or {"sprint": "customfield_10020"}) == {
        "sprint": "customfield_10020"}
    assert MetadataCache(store, "jira", now=T0).get("field") is None  # nothing stored before flush
    first.flush()
    later = MetadataCache(store, "jira", now=T0 + timedelta(hours=23))
    assert later.cached("field", lambda: calls.append(2) or {}) == {"sprint": "customfield_10020"}
    assert calls == [1]
    assert MetadataCache(store, "github", now=T0).get("field") is None  # another tracker's entries are apart
    expired = MetadataCache(store, "jira", now=T0 + timedelta(hours=25))
    assert expired.get("field") is None and expired.peek("field") == {"sprint": "customfield_10020"}


def test_a_census_refreshes_entries_older_than_half_the_ttl(store):
    cache = MetadataCache(store, "jira", now=T0)
    versions = [{"id": "1", "name": "Beta"}]
    cache.put("versions:CHK", versions)
    cache.flush()
    assert MetadataCache(store, "jira", now=T0 + timedelta(hours=11), census=True).get("versions:CHK") == versions
    assert MetadataCache(store, "jira", now=T0 + timedelta(hours=13), census=True).get("versions:CHK") is None
    assert MetadataCache(store, "jira", now=T0 + timedelta(hours=13)).get("versions:CHK") == versions


def test_an_unreadable_row_is_treated_as_absent(store):
    from connector.store.tables import store_meta

    store._write(lambda conn: conn.execute(store_meta.insert().values(key="metadata:jira:field", value="{not json")))
    cache = MetadataCache(store, "jira", now=T0)
    assert cache.get("field") is None
    cache.put("field", {"sprint": None})
    cache.flush()
    assert MetadataCache(store, "jira", now=T0).get("field") == {"sprint": None}
