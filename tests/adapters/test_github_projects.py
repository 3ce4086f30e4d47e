"""Project scopes against the sandbox's GraphQL: field filters, drafts and pull requests, due dates from a
date field and an iteration, statuses from a single-select field, the quiet incremental cost, the census,
the errors that name tracker and project, and every exchange checked against GitHub's schema."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector.errors import FatalAPIError
from connector.model import Status
from connector.sandbox import github_graphql as gq
from connector.trackers.github.project_docs import ALL
from connector.trackers.github.scopes import GithubScope
from connector.values import PullSpec
from tests.adapters.graphql_check import answer_problems, document_problems, needs_schema
from tests.adapters.project_fixtures import REPO, roadmap
from tests.adapters.test_github_sandbox import make_github

pytestmark = needs_schema

SPRINT12 = GithubScope(tracker="gh", project="acme/7", field="Iteration", value="Sprint 12")
WHOLE = GithubScope(tracker="gh", project="acme/7")


@pytest.fixture
def sb(sandbox_factory):
    made = sandbox_factory(seed=1, scale=300)
    made.roadmap = roadmap(made)
    yield made
    # every document plansync sent and every answer the sandbox gave, against GitHub's schema
    for query, variables, answer in made.__dict__.get("graphql_log", ()):
        assert document_problems(query) == [], query
        assert answer_problems(query, variables, answer) == [], (query, answer)


def adapter_for(sb, monkeypatch, **fields):
    return make_github(sb, monkeypatch, project_fields=fields)


def pull(adapter, *scopes, cursors=None, full=False):
    result = adapter.pull(PullSpec(scopes=scopes, cursors=cursors or {}, full=full))
    return result, {s.scope_id: s for s in result.scopes}


def test_every_document_plansync_sends_validates_against_githubs_schema():
    for name, document in ALL.items():
        assert document_problems(document) == [], name


def test_an_iteration_filter_keeps_that_iterations_issues_and_pull_requests_and_skips_drafts(sb, monkeypatch):
    adapter = adapter_for(sb, monkeypatch)
    result, by_scope = pull(adapter, SPRINT12, WHOLE)
    road = sb.roadmap
    sprint12 = {i.key for i in by_scope[SPRINT12.id].items}
    assert sprint12 == {f"{REPO}#{i.number}" for i in road.sprint12} | {f"{REPO}#{road.pull.number}"}
    assert len(by_scope[WHOLE.id].items) == len(road.sprint11) + len(road.sprint12) + 1
    assert any(i.is_pull_request for i in by_scope[SPRINT12.id].items)
    assert all(s.complete for s in result.scopes)
    assert "skipped 1 draft issue(s)" in " ".join(result.notes)
    # one project read serves both scopes: the header query and one page of items
    assert sb.count(method="POST", endpoint="github.graphql") == 2
    assert adapter.stats.points == 1 + 2
    assert adapter.stats.as_dict()["points"] == 3  # recorded with the run's request counts


def test_a_named_field_the_project_lacks_is_a_note_not_a_failure(sb, monkeypatch):
    result, by_scope = pull(adapter_for(sb, monkeypatch, due="Deadline"), WHOLE)
    assert all(i.due is None for i in by_scope[WHOLE.id].items)
    assert any("has no field 'Deadline'" in note and "project_fields.due" in note for note in result.notes)


def test_due_dates_from_a_date_field_and_from_an_iterations_last_day(sb, monkeypatch):
    road = sb.roadmap
    first = road.project.items[0]
    gq.set_value(sb, road.project, first, "Target date", "2026-12-24")
    _, by_scope = pull(adapter_for(sb, monkeypatch, due="Target date"), WHOLE)
    dues = {i.key: i.due for i in by_scope[WHOLE.id].items}
    assert dues[f"{REPO}#{road.sprint11[0].number}"].isoformat() == "2026-12-24"
    assert sum(d is not None for d in dues.values()) == 1

    _, by_scope = pull(adapter_for(sb, monkeypatch, due="Iteration"), SPRINT12)
    last_day = road.sprint12_start + timedelta(days=13)  # 14 days from the start, as GitHub shows it
    assert {i.due for i in by_scope[SPRINT12.id].items} == {last_day}


def test_a_status_option_maps_through_the_mapping_file_for_open_issues(sb, monkeypatch):
    road = sb.roadmap
    _, by_scope = pull(adapter_for(sb, monkeypatch, status="Status"), WHOLE)
    status = {i.key: i.status for i in by_scope[WHOLE.id].items}
    assert status[f"{REPO}#{road.blocked.number}"] is Status.BLOCKED
    assert {status[f"{REPO}#{i.number}"] for i in road.sprint11} == {Status.IN_PROGRESS}
    sb.update_github_issue(REPO, road.blocked.number, state="closed")
    _, by_scope = pull(adapter_for(sb, monkeypatch, status="Status"), WHOLE)
    closed = next(i for i in by_scope[WHOLE.id].items if i.key == f"{REPO}#{road.blocked.number}")
    assert closed.status is Status.DONE  # a closed issue is done whatever the board says


def test_a_quiet_project_costs_one_request_and_a_change_reads_it_again(sb, monkeypatch):
    adapter = adapter_for(sb, monkeypatch, status="Status")
    _, by_scope = pull(adapter, SPRINT12)
    cursors = {sid: s.cursor for sid, s in by_scope.items()}
    sb.clock.advance(minutes=10)
    before = (adapter.stats.requests, adapter.stats.points)
    result, quiet = pull(adapter, SPRINT12, cursors=cursors)
    assert (adapter.stats.requests - before[0], adapter.stats.points - before[1]) == (1, 1)
    assert quiet[SPRINT12.id].items == () and not quiet[SPRINT12.id].complete
    assert quiet[SPRINT12.id].cursor == cursors[SPRINT12.id]

    sb.clock.advance(minutes=10)  # an issue edit: the search in the header query sees it
    sb.update_github_issue(REPO, sb.roadmap.sprint12[1].number, title="renamed")
    _, changed = pull(adapter, SPRINT12, cursors=cursors)
    assert changed[SPRINT12.id].complete
    assert "renamed" in {i.title for i in changed[SPRINT12.id].items}
    cursors = {sid: s.cursor for sid, s in changed.items()}

    sb.clock.advance(minutes=10)  # a field edit only: the project's updatedAt moves
    road = sb.roadmap
    gq.set_value(sb, road.project, road.project.items[1], "Status", "Done")
    _, moved = pull(adapter, SPRINT12, cursors=cursors)
    assert moved[SPRINT12.id].complete and len(moved[SPRINT12.id].items) == len(changed[SPRINT12.id].items)


def test_the_census_counts_project_items_as_seen(sb, monkeypatch):
    result, by_scope = pull(adapter_for(sb, monkeypatch), WHOLE, full=True)
    assert {i.id for i in by_scope[WHOLE.id].items} <= result.seen_ids and result.census


@pytest.mark.parametrize(("scope", "config", "message"), [
    (GithubScope(tracker="gh", project="acme/99"), {}, "project acme/99: acme has no project number 99"),
    (GithubScope(tracker="gh", project="nobody-here/7"), {}, "no organisation or user 'nobody-here'"),
    (GithubScope(tracker="gh", project="acme/7", field="Sprint", value="1"), {}, "has no field 'Sprint'"),
    (GithubScope(tracker="gh", project="acme/7", field="Target date", value="x"), {},
     "field 'Target date' is a date field; a scope's `field` takes a iteration or single-select field"),
    (GithubScope(tracker="gh", project="acme/7", field="Iteration", value="Sprint 99"), {},
     "has no iteration 'Sprint 99'"),
    (WHOLE, {"due": "Status"}, "`project_fields.due` takes a date or iteration field"),
])
def test_what_only_github_can_say_fails_the_tracker_naming_the_project(sb, monkeypatch, scope, config, message):
    with pytest.raises(FatalAPIError, match="tracker 'gh'") as caught:
        pull(adapter_for(sb, monkeypatch, **config), scope)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_answer_check_catches_answers_off_githubs_schema(sb, monkeypatch):
    pull(adapter_for(sb, monkeypatch, status="Status"), WHOLE)
    query, variables, answer = sb.graphql_log[-1]  # a page of items
    assert answer_problems(query, variables, answer) == []
    import copy

    node = copy.deepcopy(answer)
    node["data"]["node"]["items"]["nodes"][0]["type"] = "EPIC"  # no such ProjectV2ItemType
    assert answer_problems(query, variables, node)
    node = copy.deepcopy(answer)
    del node["data"]["node"]["items"]["pageInfo"]["hasNextPage"]  # non-null, missing
    assert answer_problems(query, variables, node)
    node = copy.deepcopy(answer)
    node["data"]["rateLimit"]["cost"] = "one"  # an Int that is not one
    assert answer_problems(query, variables, node)


def test_doctor_checks_each_project_and_its_filters_on_their_own(sb, monkeypatch):
    adapter = adapter_for(sb, monkeypatch)
    checked = adapter.check_scopes((SPRINT12, WHOLE, GithubScope(tracker="gh", project="acme/99"),
                                    GithubScope(tracker="gh", project="acme/8", field="Status", value="x")))
    assert checked[0] == ("project acme/7", None)
    assert checked[1][0] == "project acme/99" and "no project number 99" in checked[1][1]
    assert checked[2][0] == "project acme/8" and "no project number 8" in checked[2][1]
    gq.add_project(sb, "acme", 8, "Ops", [{"name": "Status", "type": "SINGLE_SELECT", "options": ["Todo"]}])
    again = dict(adapter.check_scopes((GithubScope(tracker="gh", project="acme/8", field="Status", value="x"),)))
    assert "field 'Status' has no option 'x'" in again["project acme/8"]


def test_scopes_filtering_on_different_fields_of_one_project_each_get_their_items(sb, monkeypatch):
    blocked = GithubScope(tracker="gh", project="acme/7", field="Status", value="blocked")  # names fold case
    _, by_scope = pull(adapter_for(sb, monkeypatch), SPRINT12, blocked)
    assert [i.key for i in by_scope[blocked.id].items] == [f"{REPO}#{sb.roadmap.blocked.number}"]
    assert len(by_scope[SPRINT12.id].items) == len(sb.roadmap.sprint12) + 1
