"""The sandbox's GitHub GraphQL: documents are validated against GitHub's schema before they run, points
follow GitHub's documented rule, a missing project is GitHub's NOT_FOUND shape, and status updates are
created and edited as the mutations say."""

from __future__ import annotations

import requests
from graphql import parse

from connector.sandbox import GITHUB_TOKEN
from connector.sandbox import github_graphql as gq
from tests.adapters.graphql_check import answer_problems, needs_schema

pytestmark = needs_schema

# GitHub's worked example (docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api):
# 100 repositories + 100 x 50 issues' label connections + 1 = 5,101 requests -> 51 points
DOCS_EXAMPLE = """
query {
  viewer {
    login
    repositories(first: 100) {
      edges { node { id issues(first: 50) { edges { node { id labels(first: 60) {
        edges { node { id name } } } } } } } }
    }
  }
}
"""


def post(sb, query: str, variables: dict | None = None, token: str = GITHUB_TOKEN):
    return requests.post(f"{sb.github_url}/graphql", json={"query": query, "variables": variables or {}},
                         headers={"Authorization": f"bearer {token}"}, timeout=30)


def test_points_follow_githubs_documented_rule():
    assert gq.query_cost(parse(DOCS_EXAMPLE), {}) == 51
    assert gq.query_cost(parse("query($n: Int!) { viewer { repositories(first: $n) { totalCount } } }"),
                         {"n": 100}) == 1  # 1 request rounds to 0: at least 1
    assert gq.query_cost(parse("mutation { addStar(input: {starrableId: \"x\"}) { clientMutationId } }"), {}) == 1


def test_an_invalid_document_is_refused_with_githubs_error_shape(sandbox):
    reply = post(sandbox, "query { repositoryOwner(login: \"acme\") { nosuchfield } }")
    assert reply.status_code == 200
    errors = reply.json()["errors"]
    assert "nosuchfield" in errors[0]["message"] and "data" not in reply.json()


def test_a_missing_project_is_not_found_and_points_are_their_own_budget(sandbox):
    query = "query($n: Int!) { repositoryOwner(login: \"acme\") { ... on ProjectV2Owner { projectV2(number: $n) " \
            "{ id } } } rateLimit { cost remaining } }"
    reply = post(sandbox, query, {"n": 404})
    body = reply.json()
    assert body["data"]["repositoryOwner"]["projectV2"] is None
    assert body["errors"][0]["type"] == "NOT_FOUND" and body["errors"][0]["path"] == ["repositoryOwner", "projectV2"]
    assert reply.headers["X-RateLimit-Resource"] == "graphql"
    assert body["data"]["rateLimit"] == {"cost": 1, "remaining": gq.POINTS_PER_HOUR - 1}
    assert answer_problems(query, {"n": 404}, body) == []
    rest = requests.get(f"{sandbox.github_url}/rate_limit", headers={"Authorization": f"token {GITHUB_TOKEN}"},
                        timeout=30)
    assert rest.json()["resources"]["core"]["used"] == 0  # GraphQL spent no REST requests
    assert rest.json()["resources"]["graphql"]["used"] == 1


def test_status_updates_are_created_and_edited(sandbox):
    project = gq.add_project(sandbox, "acme", 3, "Ops", [])
    create = ("mutation($i: CreateProjectV2StatusUpdateInput!) { createProjectV2StatusUpdate(input: $i) "
              "{ statusUpdate { id status targetDate body } } }")
    made = post(sandbox, create, {"i": {"projectId": project.id, "status": "AT_RISK", "targetDate": "2026-12-24",
                                        "body": "week 48"}}).json()
    update = made["data"]["createProjectV2StatusUpdate"]["statusUpdate"]
    assert update["status"] == "AT_RISK" and update["targetDate"] == "2026-12-24"
    edit = ("mutation($i: UpdateProjectV2StatusUpdateInput!) { updateProjectV2StatusUpdate(input: $i) "
            "{ statusUpdate { id status } } }")
    edited = post(sandbox, edit, {"i": {"statusUpdateId": update["id"], "status": "ON_TRACK"}}).json()
    assert edited["data"]["updateProjectV2StatusUpdate"]["statusUpdate"] == {"id": update["id"], "status": "ON_TRACK"}
    assert [u["status"] for u in project.status_updates] == ["ON_TRACK"]
    bad = post(sandbox, create, {"i": {"projectId": project.id, "status": "FINE"}}).json()
    assert "FINE" in bad["errors"][0]["message"]  # not a ProjectV2StatusUpdateStatus: refused by the schema


def test_graphql_needs_the_token(sandbox):
    assert post(sandbox, "query { viewer { login } }", token="wrong-token").status_code == 401
