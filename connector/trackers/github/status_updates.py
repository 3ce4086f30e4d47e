"""Projects v2 status updates as output: a plan milestone's health on the projects its scopes name, one
update per ISO week per milestone, found again by the marker in its body and edited on rerun.

Creating is sent once (a retry after a lost answer would post twice); the next run finds an update that
did get created by its marker and edits it. Reading the project's recent updates costs 1 point; each
create or edit is one mutation (1 point, 5 towards GitHub's secondary limit).
"""

from __future__ import annotations

import logging
from datetime import date

from connector.trackers.github import project_docs as docs
from connector.trackers.github.graphql import GraphqlClient
from connector.trackers.github.projects import read_head

log = logging.getLogger(__name__)

# reconcile's health -> ProjectV2StatusUpdateStatus
STATUS = {"on-track": "ON_TRACK", "at-risk": "AT_RISK", "off-track": "OFF_TRACK", "done": "COMPLETE"}


def project_refs(scopes, tracker: str) -> list[str]:
    """The distinct projects (as written) that a milestone's scopes on `tracker` name."""
    refs: dict[str, str] = {}
    for scope in scopes:
        if scope.tracker == tracker and getattr(scope, "project", None):
            refs.setdefault(scope.project.casefold(), scope.project)
    return list(refs.values())


def publish_for(adapter, scopes, marker: str, health: str, due: date | None, body: str) -> list[tuple[str, str, str]]:
    """`publish` on every project the scopes name, through the adapter's transport: (project, id, how)."""
    client = GraphqlClient(adapter.http, budget_share=adapter.tracker.budget_share)
    return [(ref, *publish(client, adapter.name, ref, marker, health, due, body))
            for ref in project_refs(scopes, adapter.name)]


def publish(client: GraphqlClient, tracker: str, ref: str, marker: str, health: str, due: date | None,
            body: str) -> tuple[str, str]:
    """Create or edit the update holding `marker` on project `ref`; returns (update id, "created"|"edited")."""
    head = read_head(client, tracker, ref, None)
    if marker not in body:
        body = f"{body}\n\n{marker}"
    found = client.query(docs.STATUS_UPDATES, {"id": head.id}, what=f"GraphQL project {ref} status updates")
    updates = (((found.data.get("node") or {}).get("statusUpdates")) or {}).get("nodes") or ()
    fields = {"status": STATUS.get(health, "INACTIVE"), "body": body,
              "targetDate": due.isoformat() if due else None}
    for update in updates:
        if marker in (update.get("body") or ""):
            client.query(docs.UPDATE_STATUS_UPDATE, {"input": {"statusUpdateId": update["id"], **fields}},
                         what=f"GraphQL project {ref} edit status update", mutation=True)
            return str(update["id"]), "edited"
    created = client.query(docs.CREATE_STATUS_UPDATE, {"input": {"projectId": head.id, **fields}},
                           what=f"GraphQL project {ref} create status update", mutation=True)
    update = ((created.data.get("createProjectV2StatusUpdate") or {}).get("statusUpdate")) or {}
    return str(update.get("id")), "created"
