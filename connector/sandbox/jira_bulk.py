"""Jira Cloud's bulk label edit and its task queue, and the sandbox's count of writes that would email watchers.

POST /rest/api/3/bulk/issues/fields (≤ 1,000 issues, Bulk change permission, 201 + taskId) runs as a task
that GET /rest/api/3/bulk/queue/{taskId} reports on; the edit lands when the task is submitted (a client
that crashes before polling finds it in the next search, as on a real site once the index catches up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from .jira_api import API, _find, router
from .wire import Req, Resp, json_resp

BULK_LIMIT = 1000


@dataclass
class Citizenship:
    """Per-sandbox switches and counters (tests and benchmarks change the switches)."""

    can_suppress: bool = True  # the account has Administer Jira/Project: `notifyUsers=false` is honoured
    bulk_permission: bool = True  # the global Bulk change permission
    polls_to_complete: int = 1  # polls a task answers RUNNING before COMPLETE
    fail_ids: set[int] = field(default_factory=set)  # issues a bulk task reports in failedAccessibleIssues
    emails: dict[str, int] = field(default_factory=lambda: {"cloud": 0, "server": 0, "github": 0})
    suppressed: dict[str, int] = field(default_factory=lambda: {"cloud": 0, "server": 0, "github": 0})
    tasks: dict[str, dict] = field(default_factory=dict)
    denied: dict[str, set[str]] = field(default_factory=dict)  # project key ("*": all) -> permissions withheld


def citizenship(sb) -> Citizenship:
    state = getattr(sb, "_citizenship", None)
    if state is None:
        state = sb._citizenship = Citizenship()
    return state


def note_write(sb, flavour: str, *, notify: bool, issues: int = 1) -> None:
    """Count label edits that fire Issue Updated: emailed to watchers unless suppression was asked and honoured."""
    c = citizenship(sb)
    bucket = c.suppressed if not notify else c.emails
    bucket[flavour] = bucket.get(flavour, 0) + issues


def single_put_notify(sb, req: Req) -> tuple[bool, Resp | None]:
    """(would email, refusal) for `PUT /issue` with its `notifyUsers` flag, per flavour.

    Cloud ignores `notifyUsers=false` from an account without Administer rights (the edit emails);
    Server/Data Center refuses it with 403 (JRASERVER-67013).
    """
    asked_quiet = req.args.get("notifyUsers", "true").lower() == "false"
    if not asked_quiet:
        return True, None
    if citizenship(sb).can_suppress:
        return False, None
    if req.flavour == "server":
        return True, json_resp({"errorMessages": ["To discard the user notification either admin or project admin "
                                                  "permissions are required."], "errors": {}}, 403)
    return True, None


def _bulk_error(status: int, message: str) -> Resp:
    return json_resp({"errors": [{"message": message}]}, status)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@router.add("POST", API + r"/bulk/issues/fields", "jira.bulk_edit")
def bulk_edit(sb, req: Req, m: dict) -> Resp:
    if req.flavour != "cloud":
        return Resp(404, b"")
    c = citizenship(sb)
    if not c.bulk_permission:
        return _bulk_error(403, "You don't have the Bulk change global permission.")
    body = req.json()
    refs = [str(x) for x in body.get("selectedIssueIdsOrKeys") or []]
    actions = body.get("selectedActions") or []
    edits = (body.get("editedFieldsInput") or {}).get("labelsFields") or []
    if not refs:
        return _bulk_error(400, "selectedIssueIdsOrKeys must not be empty.")
    if len(refs) > BULK_LIMIT:
        return _bulk_error(400, f"You can bulk edit up to {BULK_LIMIT} issues at a time.")
    if "labels" not in actions or not edits:
        return _bulk_error(400, "The following editedFieldInput values are not listed as selectedActions : labels")
    notify = body.get("sendBulkNotification", True) is not False
    done, failed, invalid = [], {}, 0
    for ref in refs:
        issue = _find(sb, ref)
        if issue is None:
            invalid += 1
            continue
        if issue.id in c.fail_ids:
            failed[str(issue.id)] = ["The issue could not be edited: a workflow validator rejected the change."]
            continue
        labels = list(issue.labels)
        for edit in edits:
            names = [x.get("name") for x in edit.get("labels") or [] if isinstance(x, dict)]
            if edit.get("bulkEditMultiSelectFieldOption") == "ADD":
                labels += [n for n in names if n not in labels]
            elif edit.get("bulkEditMultiSelectFieldOption") == "REMOVE":
                labels = [x for x in labels if x not in names]
        if labels != issue.labels:
            sb.update_jira_issue(issue.key, labels=labels)
            note_write(sb, "cloud", notify=notify)
        done.append(issue.id)
    task_id = str(10000 + len(c.tasks))
    now = sb.clock.ts()
    c.tasks[task_id] = {"taskId": task_id, "created": _iso(now), "started": _iso(now), "updated": _iso(now),
                        "processedAccessibleIssues": done, "failedAccessibleIssues": failed,
                        "invalidOrInaccessibleIssueCount": invalid, "totalIssueCount": len(refs),
                        "submittedBy": {"accountId": "5b10a2844c20165700ede21g"}, "polls": 0}
    return json_resp({"taskId": task_id}, 201)


@router.add("GET", API + r"/bulk/queue/(?P<task>[^/]+)", "jira.bulk_queue")
def bulk_queue(sb, req: Req, m: dict) -> Resp:
    if req.flavour != "cloud":
        return Resp(404, b"")
    c = citizenship(sb)
    task = c.tasks.get(m["task"])
    if task is None:
        # the description's example has errorMessages, its schema (which the tests hold us to) errors[]
        return _bulk_error(400, "The task associated with this taskId is not a bulk operation task")
    task["polls"] += 1
    out = {k: v for k, v in task.items() if k != "polls"}
    if task["polls"] < c.polls_to_complete:
        out.update(status="RUNNING", progressPercent=50, processedAccessibleIssues=[], failedAccessibleIssues={})
    else:
        out.update(status="COMPLETE", progressPercent=100)
    return json_resp(out)


@router.add("GET", API + r"/mypermissions", "jira.mypermissions")
def my_permissions(sb, req: Req, m: dict) -> Resp:
    c = citizenship(sb)
    have = {"ADMINISTER": c.can_suppress, "ADMINISTER_PROJECTS": c.can_suppress,
            "BULK_CHANGE": c.bulk_permission, "BROWSE_PROJECTS": True, "EDIT_ISSUES": True,
            "ADD_COMMENTS": True, "EDIT_OWN_COMMENTS": True}
    denied = c.denied.get(req.args.get("projectKey") or "", set()) | c.denied.get("*", set())
    have = {key: value and key not in denied for key, value in have.items()}
    asked = [p for v in req.args.getlist("permissions") for p in v.split(",") if p] or list(have)
    unknown = [p for p in asked if p not in have]
    if unknown:
        return json_resp({"errorMessages": [f"Invalid permission key: {unknown[0]}"], "errors": {}}, 400)
    kinds = {"ADMINISTER": "GLOBAL", "BULK_CHANGE": "GLOBAL"}
    return json_resp({"permissions": {p: {"id": str(n), "key": p, "name": p.replace("_", " ").title(),
                                          "type": kinds.get(p, "PROJECT"), "description": p.lower(),
                                          "havePermission": have[p]} for n, p in enumerate(asked)}})
