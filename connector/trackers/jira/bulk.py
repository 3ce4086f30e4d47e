"""Jira Cloud bulk label edits: one POST /bulk/issues/fields per label set and 1,000 issues, then its task.

Journal unit: the issue. Every change of a batch is marked sent (through `sending`) before the batch's
POST, and confirmed or failed from the task's per-issue result; a crash in between leaves them sent, and
the next run's pull shows what landed, exactly as for single PUTs. Issues the task did not process are
retried one PUT each (label ADD/REMOVE is idempotent, so a retry never duplicates).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from connector import clock
from connector.errors import AuthError, FatalAPIError, RateLimitExhausted, TrackerError
from connector.faultpoints import crash_point
from connector.values import LabelChange, WriteResult

log = logging.getLogger(__name__)

BULK_LIMIT = 1000  # issues per bulk edit (Jira's cap)
MIN_GROUP = 2  # a lone change is one PUT: cheaper than a POST and a poll
POLL_FIRST, POLL_MAX = 0.5, 5.0  # seconds between task polls, doubling
DONE = {"COMPLETE"}
ENDED = {"FAILED", "CANCELLED", "DEAD", "CANCEL_REQUESTED"}


def push_grouped(adapter, changes: list[LabelChange], sending: Callable[[list[LabelChange]], None]
                 ) -> Iterator[WriteResult]:
    if adapter.deployment != "cloud" or not adapter.tracker.bulk:
        yield from _singles(adapter, changes, sending)
        return
    groups: dict[tuple[frozenset, frozenset], list[LabelChange]] = {}
    for change in changes:
        problem = None if change.empty else adapter.write_problem(change)
        if problem:
            yield WriteResult(change, ok=False, requests=0, error=problem)
        elif change.empty:
            yield WriteResult(change, ok=True, requests=0)
        else:
            groups.setdefault((change.add, change.remove), []).append(change)
    singles: list[LabelChange] = []
    for (add, remove), group in sorted(groups.items(), key=lambda kv: (sorted(kv[0][0]), sorted(kv[0][1]))):
        if len(group) < MIN_GROUP or adapter.bulk_refused:
            singles += group
            continue
        for start in range(0, len(group), BULK_LIMIT):
            batch = group[start:start + BULK_LIMIT]
            if adapter.bulk_refused:
                singles += batch
                continue
            yield from _batch(adapter, batch, add, remove, sending)
    yield from _singles(adapter, singles, sending)


def _singles(adapter, changes: list[LabelChange], sending) -> Iterator[WriteResult]:
    for change in changes:
        sending([change])
        yield adapter.push_labels(change)


def _batch(adapter, batch: list[LabelChange], add: frozenset, remove: frozenset, sending) -> Iterator[WriteResult]:
    sending(batch)
    before = adapter.stats.requests
    landed = {c.item_id for c in batch}
    try:
        for option, labels in (("ADD", add), ("REMOVE", remove)):
            if labels:
                landed &= _edit(adapter, [c.item_id for c in batch], option, labels)
    except FatalAPIError as exc:
        if "HTTP 403" not in str(exc):
            raise
        adapter.bulk_refused = True
        log.warning("%s: bulk edit refused (HTTP 403: the account lacks the Bulk change global permission); "
                    "writing one PUT per issue for the rest of this run", adapter.name)
        yield from _singles(adapter, batch, sending)
        return
    except _TaskUnfinished as exc:
        for change in batch:  # left sent: the next pull shows what landed
            yield WriteResult(change, ok=False, requests=0, error=str(exc))
        return
    share = adapter.stats.requests - before
    retry = [c for c in batch if c.item_id not in landed]
    if retry:
        log.info("%s: the bulk task did not edit %d issue(s); retrying them one by one", adapter.name, len(retry))
    for n, change in enumerate(c for c in batch if c.item_id in landed):
        yield WriteResult(change, ok=True, requests=share if n == 0 else 0)
    yield from _singles(adapter, retry, lambda _batch: None)  # already marked sent with the batch


class _TaskUnfinished(TrackerError):
    pass


def _edit(adapter, ids: list[str], option: str, labels: frozenset) -> set[str]:
    """One bulk edit and its task; returns the ids the task reports as processed."""
    body = {"selectedIssueIdsOrKeys": ids, "selectedActions": ["labels"],
            "editedFieldsInput": {"labelsFields": [{"fieldId": "labels", "bulkEditMultiSelectFieldOption": option,
                                                    "labels": [{"name": n} for n in sorted(labels)]}]},
            "sendBulkNotification": bool(adapter.tracker.notify)}
    what = f"bulk {option.lower()} of {', '.join(sorted(labels))} on {len(ids)} issue(s)"
    # retried like an idempotent call: adding or removing the same labels twice leaves the same labels
    resp = adapter.http.call("POST", f"{adapter.api}/bulk/issues/fields", what=what,
                             endpoint="POST /bulk/issues/fields", body=body)
    crash_point("bulk-posted")  # Jira has the task, nothing knows its outcome yet
    task = str((adapter.http.decode(resp, what) or {}).get("taskId") or "")
    if not task:
        raise FatalAPIError(adapter.name, f"{what}: Jira's answer has no taskId")
    waited, pause = 0.0, POLL_FIRST
    while True:
        progress = adapter.http.get_json(f"{adapter.api}/bulk/queue/{task}", what=f"{what} (task {task})",
                                         endpoint="GET /bulk/queue/{id}")
        status = str((progress or {}).get("status") or "")
        if status in DONE:
            return {str(i) for i in progress.get("processedAccessibleIssues") or ()}
        if status in ENDED:
            log.warning("%s: bulk task %s ended %s; its issues are retried one by one", adapter.name, task, status)
            return set()
        if waited >= adapter.tracker.bulk_poll_limit:
            raise _TaskUnfinished(adapter.name, f"{what}: task {task} still {status or 'unknown'} after "
                                  f"{waited:.0f} s; the next run's pull shows what landed")
        clock.sleep(pause)
        waited += pause
        pause = min(POLL_MAX, pause * 2)


def suppression_line(adapter) -> str:
    """Whether the account may suppress notifications and bulk-edit, from /mypermissions."""
    if adapter.tracker.notify:
        return "notifications: label edits email watchers (notify = true)"
    try:
        answer = adapter.http.get_json(f"{adapter.api}/mypermissions", what="reading /mypermissions",
                                       endpoint="GET /mypermissions",
                                       params={"permissions": "ADMINISTER,ADMINISTER_PROJECTS,BULK_CHANGE"})
    except (AuthError, RateLimitExhausted):
        raise
    except TrackerError as exc:
        return f"notifications: could not read permissions ({exc})"
    perms = (answer or {}).get("permissions") or {}

    def has(key: str) -> bool:
        return bool((perms.get(key) or {}).get("havePermission"))

    admin = has("ADMINISTER") or has("ADMINISTER_PROJECTS")
    if admin:
        line = "notifications: suppressed (the account has Administer rights; watchers get no email)"
    elif adapter.deployment == "cloud":
        line = ("notifications: NOT suppressible: Jira Cloud ignores notifyUsers=false without Administer "
                "Jira/Project, so label edits email watchers; grant Administer Projects to the account")
    else:
        line = ("notifications: NOT suppressible: Jira refuses notifyUsers=false without Administer rights; "
                "plansync retries without it and watchers get email")
    if adapter.deployment == "cloud" and adapter.tracker.bulk:
        line += "; bulk edits " + ("permitted" if has("BULK_CHANGE") else
                                   "not permitted (no Bulk change permission): one PUT per issue")
    return line
