"""The sandbox's bulk label edit, its task queue and /mypermissions validate against Jira's description."""

from __future__ import annotations

import pytest

from connector.sandbox.jira_bulk import citizenship
from tests.sandbox.test_openapi import JIRA_SERVER, validate

EDIT = {"selectedIssueIdsOrKeys": ["CHK-3", "CHK-4"], "selectedActions": ["labels"], "sendBulkNotification": False,
        "editedFieldsInput": {"labelsFields": [{"fieldId": "labels", "bulkEditMultiSelectFieldOption": "ADD",
                                                "labels": [{"name": "plan:at-risk"}]}]}}


def test_bulk_edit_and_its_task_match_the_description(jira_platform_spec, sandbox, jira):
    citizenship(sandbox).polls_to_complete = 2
    resp = jira.post(sandbox.jira_url + "/rest/api/3/bulk/issues/fields", json=EDIT)
    assert resp.status_code == 201
    validate(jira_platform_spec, JIRA_SERVER, resp, "/jira")
    task = resp.json()["taskId"]
    running = jira.get(sandbox.jira_url + f"/rest/api/3/bulk/queue/{task}")
    assert running.json()["status"] == "RUNNING"
    validate(jira_platform_spec, JIRA_SERVER, running, "/jira")
    done = jira.get(sandbox.jira_url + f"/rest/api/3/bulk/queue/{task}")
    assert done.json()["status"] == "COMPLETE" and len(done.json()["processedAccessibleIssues"]) == 2
    validate(jira_platform_spec, JIRA_SERVER, done, "/jira")
    assert "plan:at-risk" in sandbox.jira_issue("CHK-3").labels
    assert citizenship(sandbox).emails["cloud"] == 0


@pytest.mark.parametrize("case", ["too-many", "no-permission", "unknown-task"])
def test_bulk_refusals_match_the_description(jira_platform_spec, sandbox, jira, case):
    if case == "unknown-task":
        resp = jira.get(sandbox.jira_url + "/rest/api/3/bulk/queue/999")
        assert resp.status_code == 400
    else:
        body = dict(EDIT)
        if case == "too-many":
            body["selectedIssueIdsOrKeys"] = [f"CHK-{n}" for n in range(1, 1002)]
        else:
            citizenship(sandbox).bulk_permission = False
        resp = jira.post(sandbox.jira_url + "/rest/api/3/bulk/issues/fields", json=body)
        assert resp.status_code == (400 if case == "too-many" else 403)
        if case == "no-permission":
            # the description declares no 403 for the POST (only for the GET); check the body's schema
            from tests.sandbox.test_openapi import validate_schema
            validate_schema(jira_platform_spec, "BulkOperationErrorResponse", resp.json())
            return
    validate(jira_platform_spec, JIRA_SERVER, resp, "/jira")


def test_my_permissions_and_quiet_put_match_the_description(jira_platform_spec, sandbox, jira):
    resp = jira.get(sandbox.jira_url + "/rest/api/3/mypermissions",
                    params={"permissions": "ADMINISTER,ADMINISTER_PROJECTS,BULK_CHANGE"})
    assert resp.status_code == 200 and resp.json()["permissions"]["BULK_CHANGE"]["havePermission"]
    validate(jira_platform_spec, JIRA_SERVER, resp, "/jira")
    put = jira.put(sandbox.jira_url + "/rest/api/3/issue/CHK-3?notifyUsers=false",
                   json={"update": {"labels": [{"add": "plan:x"}]}})
    assert put.status_code == 204
    validate(jira_platform_spec, JIRA_SERVER, put, "/jira")


def test_server_refuses_notify_users_false_without_admin_as_data_center_does(sandbox, jira):
    citizenship(sandbox).can_suppress = False
    put = jira.put(sandbox.jira_server_url + "/rest/api/2/issue/CHK-3?notifyUsers=false",
                   json={"update": {"labels": [{"add": "plan:x"}]}})
    assert put.status_code == 403 and "plan:x" not in sandbox.jira_issue("CHK-3").labels
    assert "admin" in put.json()["errorMessages"][0]
