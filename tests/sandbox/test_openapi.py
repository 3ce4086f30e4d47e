"""Every sandbox endpoint's responses validate against the vendors' published OpenAPI descriptions."""

from __future__ import annotations

import pytest
import requests

JIRA_SERVER = "https://your-domain.atlassian.net"
GITHUB_SERVER = "https://api.github.com"


def validate(spec, server: str, resp: requests.Response, prefix: str, path_override: str | None = None):
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    path = path_override or resp.request.path_url.split("?")[0][len(prefix):]
    if resp.status_code == 204:
        # openapi-core wants a body for the declared 204; Jira sends none. Check the status is declared.
        op = next(v for k, v in spec.raw["paths"].items() if _template_match(k, path))[resp.request.method.lower()]
        assert "204" in op["responses"] and resp.content == b""
        return
    query = resp.request.path_url.partition("?")[2]
    req = requests.Request(resp.request.method, server + path + ("?" + query if query else ""),
                           headers=dict(resp.request.headers), data=resp.request.body)
    try:
        spec.validate_response(RequestsOpenAPIRequest(req), RequestsOpenAPIResponse(resp))
    except Exception as e:  # show the schema errors, not just "InvalidData"
        errors = getattr(e.__cause__, "schema_errors", None) or [e.__cause__ or e]
        pytest.fail(f"{resp.request.method} {path} {resp.status_code}: " + "\n".join(str(x)[:600] for x in errors[:3]))


def _template_match(template: str, path: str) -> bool:
    import re

    return re.fullmatch(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)), path) is not None


def validate_schema(spec, name: str, instance) -> None:
    from openapi_schema_validator import OAS30Validator
    from openapi_schema_validator import validate as check

    check(instance, {"$ref": f"#/components/schemas/{name}", "components": spec.raw["components"]},
          cls=OAS30Validator)


GITHUB_CALLS = [
    ("GET", "/repos/acme/checkout-web/issues?state=all&per_page=100", None),
    ("GET", "/repos/acme/checkout-web/issues?state=closed&sort=updated&direction=asc&since=2026-11-01T00:00:00Z"
            "&labels=bug&milestone=*", None),
    ("GET", "/repos/acme/checkout-web/issues/3", None),
    ("GET", "/repos/acme/checkout-web/milestones?state=all&sort=due_on", None),
    ("GET", "/repos/acme/checkout-web/milestones/2", None),
    ("GET", "/repos/acme/checkout-web", None),
    ("GET", "/rate_limit", None),
    ("POST", "/repos/acme/checkout-web/issues/3/labels", {"labels": ["plan:at-risk"]}),
    ("DELETE", "/repos/acme/checkout-web/issues/3/labels/plan%3Amissing", None),
    ("GET", "/repos/acme/checkout-web/issues/3/comments", None),
    ("POST", "/repos/acme/checkout-web/issues/3/comments", {"body": "hello"}),
    ("GET", "/repos/acme/checkout-web/issues/999999", None),
    ("PUT", "/repos/acme/checkout-web/issues/3/labels", {"labels": ["bug", "plan:on-track"]}),
    ("GET", "/repos/acme/checkout-web/labels", None),
]


@pytest.mark.parametrize(("method", "path", "body"), GITHUB_CALLS)
def test_github_responses_match_the_description(github_spec, sandbox, gh, method, path, body):
    resp = gh.request(method, sandbox.github_url + path, json=body)
    assert resp.status_code in (200, 201, 404)
    validate(github_spec, GITHUB_SERVER, resp, "/github")


def test_github_label_delete_comment_edit_and_gone_issues(github_spec, sandbox, gh):
    base = sandbox.github_url + "/repos/acme/checkout-web"
    gh.post(base + "/issues/3/labels", json={"labels": ["plan:at-risk"]})
    resp = gh.delete(base + "/issues/3/labels/plan%3Aat-risk")
    assert resp.status_code == 200
    validate(github_spec, GITHUB_SERVER, resp, "/github")
    cid = gh.post(base + "/issues/3/comments", json={"body": "x"}).json()["id"]
    resp = gh.patch(base + f"/issues/comments/{cid}", json={"body": "y"})
    assert resp.json()["body"] == "y"
    validate(github_spec, GITHUB_SERVER, resp, "/github")
    gone = sandbox.org["github"]["deleted"][0].split("#")[1]
    resp = gh.get(base + f"/issues/{gone}")
    assert resp.status_code == 410
    validate(github_spec, GITHUB_SERVER, resp, "/github")
    moved = next(iter(sandbox.org["github"]["transferred"])).split("#")[1]
    resp = gh.get(base + f"/issues/{moved}", allow_redirects=False)
    assert resp.status_code == 301
    validate(github_spec, GITHUB_SERVER, resp, "/github")


JIRA_CALLS = [
    ("GET", "/rest/api/3/search/jql?jql=project%3DCHK&fields=*all&expand=changelog&maxResults=20", None),
    ("GET", "/rest/api/3/search/jql?jql=project%3DCHK&maxResults=5000", None),
    ("POST", "/rest/api/3/search/jql", {"jql": "project = PAY ORDER BY updated DESC", "fields": ["summary", "status"],
                                        "maxResults": 10}),
    ("GET", "/rest/api/3/search/jql?jql=project%20%3D%20", None),
    ("POST", "/rest/api/3/search/approximate-count", {"jql": "project = CHK"}),
    ("GET", "/rest/api/3/serverInfo", None),
    ("GET", "/rest/api/3/myself", None),
    ("GET", "/rest/api/3/field", None),
    ("GET", "/rest/api/3/project/CHK/versions", None),
    ("GET", "/rest/api/3/project/CHK/version?maxResults=2", None),
    ("GET", "/rest/api/3/issue/CHK-3", None),
    ("GET", "/rest/api/3/issue/CHK-3?expand=changelog", None),
    ("GET", "/rest/api/3/issue/99999999", None),
    ("PUT", "/rest/api/3/issue/CHK-3", {"update": {"labels": [{"add": "plan:at-risk"}]}}),
    ("GET", "/rest/api/3/issue/CHK-3/comment", None),
    ("GET", "/rest/api/3/issue/CHK-3/changelog?maxResults=2", None),
    ("POST", "/rest/api/3/issue/bulkfetch", {"issueIdsOrKeys": ["CHK-3", "CHK-4", "NOPE-1"], "fields": ["summary"]}),
    ("POST", "/rest/api/3/issue/CHK-3/comment", {"body": {"type": "doc", "version": 1, "content": []}}),
]


@pytest.mark.parametrize(("method", "path", "body"), JIRA_CALLS)
def test_jira_cloud_responses_match_the_description(jira_platform_spec, sandbox, jira, method, path, body):
    resp = jira.request(method, sandbox.jira_url + path, json=body)
    assert resp.status_code in (200, 201, 204, 400, 404)
    validate(jira_platform_spec, JIRA_SERVER, resp, "/jira")


def test_jira_comment_edit_matches_the_description(jira_platform_spec, sandbox, jira):
    cid = jira.post(sandbox.jira_url + "/rest/api/3/issue/CHK-3/comment", json={"body": "a"}).json()["id"]
    resp = jira.put(sandbox.jira_url + f"/rest/api/3/issue/CHK-3/comment/{cid}", json={"body": "b"})
    assert resp.status_code == 200
    validate(jira_platform_spec, JIRA_SERVER, resp, "/jira")


@pytest.mark.parametrize("path", ["/rest/agile/1.0/board", "/rest/agile/1.0/board/1/sprint?state=active,future",
                                  "/rest/agile/1.0/board/1/sprint"])
def test_jira_agile_responses_match_the_description(jira_software_spec, sandbox, jira, path):
    resp = jira.get(sandbox.jira_url + path)
    assert resp.status_code == 200
    validate(jira_software_spec, JIRA_SERVER, resp, "/jira")


def test_jira_server_search_matches_the_v3_search_shape(jira_platform_spec, sandbox, jira):
    # There is no published Server description here; Server's /rest/api/2/search has the shape the Cloud
    # description gives the (removed) /rest/api/3/search: startAt, maxResults, total, issues.
    resp = jira.get(sandbox.jira_server_url + "/rest/api/2/search?jql=project%3DCHK&maxResults=10")
    assert resp.status_code == 200
    validate(jira_platform_spec, JIRA_SERVER, resp, "/jira-server", path_override="/rest/api/3/search")


def test_removed_cloud_search_answers_the_recorded_410(sandbox, jira, refdata):
    # The description has no 410 for /search; the recorded body is the authority.
    import json

    recorded = json.loads((refdata / "jira-recorded/quoted-errors/410-search-removed.body.json").read_text())
    for path in ("/rest/api/3/search", "/rest/api/2/search"):
        assert jira.get(sandbox.jira_url + path, params={"jql": "project=CHK"}).status_code == 410
        resp = jira.post(sandbox.jira_url + path, json={"jql": "project=CHK"})
        assert resp.status_code == 410
        assert resp.json() == recorded


def test_jira_remote_links_are_a_list_of_described_links(jira_platform_spec, sandbox, jira):
    # The description declares a single RemoteIssueLink for this GET; Jira returns a list of them.
    key = sandbox.org["links"][0]["jira"]
    resp = jira.get(sandbox.jira_url + f"/rest/api/3/issue/{key}/remotelink")
    assert resp.status_code == 200 and resp.json()
    for link in resp.json():
        validate_schema(jira_platform_spec, "RemoteIssueLink", link)


def test_github_not_modified_matches_the_description(github_spec, sandbox, gh):
    url = sandbox.github_url + "/repos/acme/checkout-web/issues/3"
    resp = gh.get(url, headers={"If-None-Match": gh.get(url).headers["ETag"]})
    assert resp.status_code == 304
    validate(github_spec, GITHUB_SERVER, resp, "/github")
