"""The in-process OpenAPI validation, the answers it made the sandbox fix, and 4xx for malformed requests."""

from __future__ import annotations

import json

import pytest

from connector.sandbox import spec_exceptions
from connector.sandbox.validation import Validator

JSON = {"Content-Type": "application/json"}


def test_a_validating_sandbox_checks_each_exchange(refdata, sandbox_factory, gh, jira):
    sb = sandbox_factory(seed=1, validate=True)
    assert gh.get(sb.github_url + "/repos/acme/checkout-web/issues/3").status_code == 200
    assert jira.get(sb.jira_url + "/rest/api/3/myself").status_code == 200
    assert jira.put(sb.jira_url + "/rest/api/3/issue/CHK-3", json={"update": {"labels": [{"add": "x"}]}}
                    ).status_code == 204
    t = sb.validator.tally
    assert (t.requests, t.responses) == (3, 3) and sb.violations == []
    assert t.waived == 1  # the 204's declared JSON body (spec_exceptions)


def test_the_validator_reports_an_answer_the_description_forbids(refdata):
    v = Validator(shared=False)  # a deliberately bad exchange: kept out of the session's tally
    bad = json.dumps({"login": "x"}).encode()
    found = v.check("github", "GET", "/user", {}, {}, b"", 200, JSON, bad)
    assert found and all(x.kind == "response" and x.spec == "github" for x in found)
    found = v.check("cloud", "GET", "/rest/agile/1.0/board/1/sprint", {"startAt": "x"}, {}, b"", 200, JSON,
                    b'{"values": []}')
    assert any(x.kind == "request" and "startAt" in x.message for x in found)


def test_every_documented_exception_names_its_evidence(refdata):
    for entry in [*spec_exceptions.PATCHES, *spec_exceptions.WAIVERS]:
        assert entry.what and entry.evidence
        cited = [w for w in entry.evidence.replace("(", " ").split() if "/" in w and "." in w.split("/")[-1]]
        for path in cited:
            rel = path if path.split("/")[0] in ("specs", "github-replay", "jira-recorded") else None
            if rel:
                assert (refdata / rel).exists(), f"{entry.what[:40]}: {rel} is not in refdata"


def test_users_rendered_after_myself_carry_no_profile_only_fields(sandbox, jira):
    assert "groups" in jira.get(sandbox.jira_url + "/rest/api/3/myself").json()
    reporter = jira.get(sandbox.jira_url + "/rest/api/3/issue/CHK-3").json()["fields"]["reporter"]
    assert reporter["accountId"] and not {"groups", "applicationRoles", "locale", "expand"} & set(reporter)


def test_no_content_answers_carry_no_content_type(sandbox, jira):
    resp = jira.put(sandbox.jira_url + "/rest/api/3/issue/CHK-3", json={"update": {"labels": [{"add": "y"}]}})
    assert resp.status_code == 204 and "Content-Type" not in resp.headers


def test_server_info_needs_no_credentials(sandbox):
    import requests

    assert requests.get(sandbox.jira_url + "/rest/api/3/serverInfo").json()["deploymentType"] == "Cloud"


def test_boards_are_filtered_by_project_and_type(sandbox, jira):
    url = sandbox.jira_url + "/rest/agile/1.0/board"
    chk = jira.get(url, params={"projectKeyOrId": "CHK"}).json()["values"]
    assert [b["location"]["projectKey"] for b in chk] == ["CHK"]
    assert jira.get(url, params={"projectKeyOrId": "CHK", "type": "kanban"}).json()["values"] == []
    assert len(jira.get(url).json()["values"]) == len(sandbox.state.boards)
    assert jira.get(url, params={"projectKeyOrId": "NOPE"}).status_code == 400


def _jira_error(resp, status=400):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert isinstance(body["errorMessages"], list) and isinstance(body["errors"], dict)
    assert body["errorMessages"] or body["errors"]


def _github_error(resp, status):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["message"] and body["documentation_url"].startswith("https://docs.github.com")


@pytest.mark.parametrize("body", [
    {"update": {"labels": [{"add": 5}]}}, {"update": {"labels": "plan:x"}}, {"update": "labels"},
    {"fields": {"labels": "a b"}}, {"fields": {"nosuchfield": 1}}, {"update": {"labels": [{"put": "x"}]}},
    [1, 2], "{not json",
])
def test_a_malformed_jira_edit_is_a_400_in_jiras_error_shape(sandbox, jira, body):
    data = body if isinstance(body, str) else json.dumps(body)
    _jira_error(jira.put(sandbox.jira_url + "/rest/api/3/issue/CHK-3", data=data, headers=JSON))


@pytest.mark.parametrize("path", [
    "/rest/api/3/project/CHK/version?startAt=x", "/rest/api/3/issue/CHK-3/changelog?startAt=x",
    "/rest/agile/1.0/board?startAt=x", "/rest/agile/1.0/board/1/sprint?maxResults=x",
    "/rest/api/3/search/jql?jql=project%3DCHK&maxResults=x", "/rest/api/3/project/search?startAt=x",
])
def test_a_non_numeric_page_parameter_is_a_400(sandbox, jira, path):
    _jira_error(jira.get(sandbox.jira_url + path))


def test_a_non_numeric_start_at_on_server_search_is_a_400(sandbox, jira):
    _jira_error(jira.get(sandbox.jira_server_url + "/rest/api/2/search?jql=project%3DCHK&startAt=x"))


@pytest.mark.parametrize(("body", "status"), [
    ({"labels": [5]}, 422), ({"labels": "bug"}, 422), ({"labels": [{"nom": "x"}]}, 422), (7, 422),
    ("{not json", 400),
])
def test_a_malformed_github_label_body_is_a_4xx_in_githubs_error_shape(sandbox, gh, body, status):
    data = body if isinstance(body, str) else json.dumps(body)
    for method in ("POST", "PUT"):
        _github_error(gh.request(method, sandbox.github_url + "/repos/acme/checkout-web/issues/3/labels",
                                 data=data, headers=JSON), status)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/repos/acme/checkout-web/issues", {"body": "no title"}),
    ("PATCH", "/repos/acme/checkout-web/issues/3", {"state": "gone"}),
    ("POST", "/repos/acme/checkout-web/labels", {"name": "x", "color": "nothex"}),
])
def test_a_malformed_github_edit_is_a_422(sandbox, gh, method, path, body):
    _github_error(gh.request(method, sandbox.github_url + path, json=body), 422)


MALFORMED = [
    ("cloud", "PUT", "/rest/api/3/issue/CHK-3", '{"update": {"labels": [{"add": 5}]}}'),
    ("cloud", "PUT", "/rest/api/3/issue/CHK-3", "{not json"),
    ("cloud", "GET", "/rest/api/3/project/CHK/version?startAt=x", None),
    ("cloud", "GET", "/rest/api/3/issue/CHK-3/changelog?startAt=x", None),
    ("cloud", "GET", "/rest/agile/1.0/board?startAt=x", None),
    ("cloud", "GET", "/rest/agile/1.0/board/1/sprint?startAt=x", None),
    ("cloud", "POST", "/rest/api/3/issue", '{"fields": {"project": {"key": "CHK"}}}'),
    ("cloud", "POST", "/rest/api/3/issue/CHK-3/transitions", '{"transition": {"id": "999"}}'),
    ("github", "POST", "/repos/acme/checkout-web/issues/3/labels", '{"labels": [5]}'),
    ("github", "PUT", "/repos/acme/checkout-web/issues/3/labels", '{"labels": "bug"}'),
    ("github", "POST", "/repos/acme/checkout-web/issues", '{"body": "no title"}'),
    ("github", "PATCH", "/repos/acme/checkout-web/issues/3", '{"state": "gone"}'),
]


@pytest.mark.parametrize(("flavour", "method", "path", "body"), MALFORMED)
def test_the_answer_to_a_malformed_request_is_a_described_4xx(refdata, sandbox, jira, gh, flavour, method, path,
                                                              body):
    session, base = (gh, sandbox.github_url) if flavour == "github" else (jira, sandbox.jira_url)
    resp = session.request(method, base + path, data=body, headers=JSON if body else {})
    assert 400 <= resp.status_code < 500, resp.text
    sub, _, query = path.partition("?")
    args = dict(x.split("=") for x in query.split("&")) if query else {}
    found = Validator(shared=False).check(flavour, method, sub, args, dict(resp.request.headers),
                                          (body or "").encode(), resp.status_code, dict(resp.headers), resp.content)
    # the request is malformed on purpose; the answer must be one the description declares, in its shape
    assert [str(v) for v in found if v.kind == "response"] == []
