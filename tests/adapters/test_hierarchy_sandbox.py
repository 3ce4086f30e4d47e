"""Hierarchy and dependencies through both adapters against the sandbox: what the items carry, and what
the extra reads cost as the server counted them (only where a summary says there is something to read)."""

from __future__ import annotations

import pytest

from connector.model import Blocker
from connector.sandbox.hierarchy import (
    add_blocked_by,
    add_sub_issue,
    link_jira_blocks,
    set_issue_type,
    set_jira_parent,
)
from connector.trackers.github.scopes import GithubScope
from connector.trackers.jira.scopes import JiraScope
from connector.values import PullSpec
from tests.adapters.test_github_sandbox import make_github
from tests.adapters.test_jira_sandbox import make


def _open(sb, repo):
    return sorted((i for i in sb.state.gh_issues[repo].values()
                   if i.state == "open" and not i.is_pr and not i.deleted and not i.transferred_to),
                  key=lambda i: i.number)


def _ref(i) -> str:
    return f"{i.repo}#{i.number}"


def test_github_items_carry_parent_type_and_blockers_for_one_read_per_blocked_open_item(sandbox, monkeypatch):
    web, pay = _open(sandbox, "acme/checkout-web"), _open(sandbox, "acme/payments-api")
    add_sub_issue(sandbox, _ref(web[0]), _ref(pay[0]))
    set_issue_type(sandbox, _ref(web[1]), "Bug")
    add_blocked_by(sandbox, _ref(web[2]), _ref(pay[1]))  # open blocker: one read
    add_blocked_by(sandbox, _ref(web[3]), _ref(pay[2]))
    sandbox.update_github_issue("acme/payments-api", pay[2].number, state="closed")  # closed blocker: no read
    add_blocked_by(sandbox, _ref(web[4]), _ref(pay[3]))
    sandbox.update_github_issue("acme/checkout-web", web[4].number, state="closed")  # closed item: no read
    adapter = make_github(sandbox, monkeypatch)
    sandbox.reset_counts()
    result = adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo="acme/checkout-web"),), cursors={},
                                   full=False))
    items = {i.key: i for i in result.all_items().values()}
    assert items[_ref(web[1])].type == "Bug"
    assert items[_ref(web[0])].type == "issue"
    assert items[_ref(web[2])].blocked_by == (Blocker(str(pay[1].id), _ref(pay[1]), True),)
    assert items[_ref(web[3])].blocked_by == ()
    assert items[_ref(web[4])].blocked_by == ()
    assert sandbox.count(endpoint="github.blocked_by") == 1
    assert sandbox.count(endpoint="github.sub_issues") == 0  # no parent scope, no tree read


def test_a_github_parent_scope_reads_the_tree_only_below_parents_that_have_children(sandbox, monkeypatch):
    web, pay, infra = (_open(sandbox, r) for r in ("acme/checkout-web", "acme/payments-api", "acme/infra"))
    add_sub_issue(sandbox, _ref(web[0]), _ref(pay[0]))
    add_sub_issue(sandbox, _ref(web[0]), _ref(web[1]))
    add_sub_issue(sandbox, _ref(pay[0]), _ref(infra[0]))
    adapter = make_github(sandbox, monkeypatch)
    sandbox.reset_counts()
    scope = GithubScope(tracker="gh", parent=_ref(web[0]))
    result = adapter.pull(PullSpec(scopes=(scope,), cursors={}, full=False))
    [pulled] = result.scopes
    assert pulled.scope_id == scope.id and pulled.complete
    assert {i.key: i.parent for i in pulled.items} == {_ref(pay[0]): _ref(web[0]), _ref(web[1]): _ref(web[0]),
                                                       _ref(infra[0]): _ref(pay[0])}
    assert sandbox.count(endpoint="github.sub_issues") == 2  # the parent and the one child with children
    assert sandbox.count(endpoint="github.issues_list") == 0


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_jira_items_carry_blockers_and_a_parent_scope_reads_one_search_per_level(sandbox, flavour):
    chk = sorted((i for i in sandbox.state.jira_issues.values() if i.project == "CHK" and not i.deleted
                  and i.issuetype != "Epic" and i.status == "To Do"), key=lambda i: i.id)
    epic = sandbox.create_jira_issue("CHK", "An epic", issuetype="Epic")
    set_jira_parent(sandbox, chk[0].key, epic.key)
    set_jira_parent(sandbox, chk[1].key, chk[0].key)
    link_jira_blocks(sandbox, chk[2].key, chk[1].key)
    link_jira_blocks(sandbox, chk[3].key, chk[1].key)
    sandbox.update_jira_issue(chk[3].key, status="Done")
    adapter = make(sandbox, flavour)
    adapter.pull(PullSpec(scopes=(JiraScope(tracker="jira", items=(chk[0].key,)),), cursors={}))  # /field etc.
    sandbox.reset_counts()
    scope = JiraScope(tracker="jira", parent=epic.key)
    result = adapter.pull(PullSpec(scopes=(scope,), cursors={}))
    items = {i.key: i for i in result.all_items().values()}
    assert set(items) == {chk[0].key, chk[1].key}
    if flavour == "cloud":  # the sandbox's Data Center shows epics by Epic Link, not as `parent`
        assert items[chk[1].key].parent == chk[0].key
    assert set(items[chk[1].key].blocked_by) == {Blocker(str(chk[2].id), chk[2].key, True),
                                                 Blocker(str(chk[3].id), chk[3].key, False)}
    # three levels asked (epic's children, theirs, and the empty level below), one page each
    assert sandbox.count(endpoint="jira.search_jql") + sandbox.count(endpoint="jira.search") == 3


def test_github_reads_blockers_only_for_items_of_milestone_scopes(sandbox, monkeypatch):
    web, pay = _open(sandbox, "acme/checkout-web"), _open(sandbox, "acme/payments-api")
    add_blocked_by(sandbox, _ref(web[0]), _ref(pay[0]))  # in a milestone's scope
    add_blocked_by(sandbox, _ref(web[1]), _ref(pay[1]))  # only in the watch scope (the whole repository)
    milestone = GithubScope(tracker="gh", repo="acme/checkout-web", items=(_ref(web[0]),))
    watch = GithubScope(tracker="gh", repo="acme/checkout-web")
    adapter = make_github(sandbox, monkeypatch)
    sandbox.reset_counts()
    result = adapter.pull(PullSpec(scopes=(milestone, watch), cursors={}, planned=frozenset({milestone.id})))
    items = {i.key: i for i in result.all_items().values()}
    assert [b.key for b in items[_ref(web[0])].blocked_by] == [_ref(pay[0])]
    assert items[_ref(web[1])].blocked_by == ()
    assert sandbox.count(endpoint="github.blocked_by") == 1
