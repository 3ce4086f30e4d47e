"""Who plansync is on a Jira and what it may do: the identity `doctor` shows (with the site's cloud id,
which a service account's scoped token needs), and the permissions it checks before the first write.
"""

from __future__ import annotations

import logging

import requests

from connector.errors import AuthError
from connector.http import prepare_session
from connector.values import Identity

log = logging.getLogger(__name__)

TENANT_INFO = "/_edge/tenant_info"  # public on every Jira Cloud site: {"cloudId": "..."}


def discover_cloud_id(adapter) -> str | None:
    """The site's cloud id from `{url}/_edge/tenant_info` (no credentials sent), None when it has none."""
    tracker = adapter.tracker
    session = prepare_session(requests.Session(), timeout=tracker.timeout, verify=tracker.verify_tls,
                              stats=adapter.stats)
    try:
        resp = session.get(tracker.url + TENANT_INFO)
        data = resp.json() if resp.ok else None
    except (requests.RequestException, ValueError):
        return None
    finally:
        session.close()
    cloud_id = data.get("cloudId") if isinstance(data, dict) else None
    return str(cloud_id) if cloud_id else None


def checked_identity(adapter) -> Identity:
    """`doctor`'s identity line; on Cloud it names the cloud id, and a 401 from the site says which
    cloud_id the gateway needs."""
    tracker = adapter.tracker
    try:
        me = adapter._myself()
    except AuthError as exc:
        if tracker.via_gateway or tracker.deployment == "server":
            raise
        cloud_id = discover_cloud_id(adapter)
        if cloud_id is None:
            raise
        said = str(exc).removeprefix(f"tracker {adapter.name!r}: ")
        raise AuthError(adapter.name, f"{said}; this site's cloud id is {cloud_id}: "
                        f"cloud_id = \"{cloud_id}\"") from None
    user = me.get("emailAddress") or me.get("accountId") or me.get("name") or me.get("displayName") or "?"
    detail = f"{tracker.url} ({adapter.api})"
    if tracker.via_gateway:
        detail += f" through the API gateway {tracker.api_base}"
    elif adapter.deployment == "cloud":
        cloud_id = discover_cloud_id(adapter)
        if cloud_id:
            detail += f"; cloud id {cloud_id} (cloud_id = \"{cloud_id}\" for a service account's scoped token)"
    return Identity(tracker=adapter.name, user=str(user), deployment=adapter.deployment,
                    timezone=me.get("timeZone"), detail=detail)
