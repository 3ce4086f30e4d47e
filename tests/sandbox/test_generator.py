"""The generated organisation: deterministic, plan-worthy scenarios, large scales, and simulate()."""

from __future__ import annotations

import json

from connector.sandbox import Sandbox


def snapshot(sb: Sandbox) -> str:
    st = sb.state
    jira = [(i.id, i.key, i.status, i.labels, i.fix_versions, i.updated, i.history) for i in st.jira_issues.values()]
    gh = [(i.repo, i.number, i.state, i.state_reason, i.labels, i.milestone, i.updated_at)
          for r in st.gh_issues.values() for i in r.values()]
    return json.dumps([jira, gh, sb.org], default=str)


def test_same_seed_same_data_and_other_seed_differs():
    assert snapshot(Sandbox(seed=7, scale=800)) == snapshot(Sandbox(seed=7, scale=800))
    assert snapshot(Sandbox(seed=7, scale=800)) != snapshot(Sandbox(seed=8, scale=800))


def test_same_seed_same_wire_responses(sandbox_factory, jira_for):
    a, b = sandbox_factory(seed=5), sandbox_factory(seed=5)
    params = {"jql": "project = CHK ORDER BY key", "fields": "*all", "expand": "changelog", "maxResults": 100}
    bodies = [jira_for(sb).get(sb.jira_url + "/rest/api/3/search/jql", params=params).text.replace(sb.url, "")
              for sb in (a, b)]
    assert bodies[0] == bodies[1]


def test_scenarios_make_a_plan_interesting():
    sb = Sandbox(seed=1, scale=2000)
    st = sb.state

    def jira_in(project, version):
        return [i for i in st.live_jira() if i.project == project
                and version in [st.versions[v]["name"] for v in i.fix_versions]]

    assert {i.status for i in jira_in("CHK", "Alpha")} <= {"Done", "Won't Do"}  # a done milestone
    beta = jira_in("CHK", "Beta")
    assert any(i.status == "Blocked" for i in beta) and any(i.status == "To Do" for i in beta)
    web = [i for i in st.gh_issues["acme/checkout-web"].values() if not i.deleted and not i.transferred_to]
    assert {i.state for i in web if i.milestone == 1} == {"closed"}
    assert any("blocked" in i.labels for i in web if i.milestone == 2)
    assert any(i.milestone is None and not i.is_pr for i in web)  # unplanned GitHub work
    assert any(not i.fix_versions for i in st.live_jira() if i.project == "CHK")  # unplanned Jira work
    org = sb.org
    mixed = [x for x in org["links"] if x["github_state"] == "closed" and x["jira_state"] not in ("Done", "Won't Do")]
    assert mixed
    mention = mixed[0]
    assert mention["jira"] in sb.github_issue(*_split(mention["github"])).body
    assert any("github.com/acme/" in i.description or "acme/" in i.description for i in st.live_jira())
    assert org["jira"]["moved"] and org["jira"]["deleted"] and org["github"]["deleted"] and org["github"]["transferred"]
    assert {p["github_login"] for p in org["people"]} and all(p["jira_account_id"] for p in org["people"])
    assert [v["name"] for v in org["jira"]["projects"][0]["versions"]] == ["Alpha", "Beta", "GA", "2026.12"]
    assert sb.jira_issue(next(iter(org["jira"]["moved"]))).key == org["jira"]["moved"][next(iter(org["jira"]["moved"]))]


def _split(ref: str):
    repo, num = ref.split("#")
    return repo, int(num)


def test_history_spans_weeks_before_the_clock():
    sb = Sandbox(seed=2, scale=1000)
    now = sb.clock.ts()
    created = [i.created for i in sb.state.live_jira()]
    assert min(created) < now - 50 * 86400 and max(created) <= now
    changes = [h for i in sb.state.live_jira() for h in i.history]
    assert all(t <= now for t, _, _ in changes)
    assert any(item[0] == "Fix Version" for _, _, items in changes for item in items)


def test_large_scale_generates_and_serves(sandbox_factory, jira_for):
    sb = sandbox_factory(scale=100_000)
    total = len(sb.state.jira_issues) + sum(len(r) for r in sb.state.gh_issues.values())
    assert total >= 99_000
    body = jira_for(sb).get(sb.jira_url + "/rest/api/3/search/jql",
                            params={"jql": "project = CHK", "fields": "*all", "maxResults": 100}).json()
    assert len(body["issues"]) == 100 and body["nextPageToken"]


def test_simulate_is_deterministic_and_moves_the_clock():
    a, b = Sandbox(seed=4, scale=600), Sandbox(seed=4, scale=600)
    start = a.clock.ts()
    summary = a.simulate(days=7)
    assert summary == b.simulate(days=7)
    assert snapshot(a) == snapshot(b)
    assert a.clock.ts() == start + 7 * 86400
    assert summary["jira_transitions"] and summary["github_closed"] and summary["jira_created"]
    changed = [i for i in a.state.live_jira() if i.updated > start]
    assert changed and all(start < i.updated <= a.clock.ts() for i in changed)
    stamps = [t for i in changed for t, _, _ in i.history if t > start]
    assert len(set(stamps)) > 10  # spread over the simulated days, not one instant


def test_mutations_bump_updated_and_record_history(sandbox):
    sandbox.clock.advance(hours=2)
    issue = sandbox.update_jira_issue("CHK-6", status="Done", fix_versions=["GA"])
    assert issue.updated == sandbox.clock.ts() and issue.resolution == "Done"
    assert {item[0] for item in issue.history[-1][2]} >= {"status", "resolution", "Fix Version"}
    number = next(i.number for i in sandbox.state.gh_issues["acme/infra"].values() if i.state == "open")
    gh = sandbox.update_github_issue("acme/infra", number, state="closed", state_reason="not_planned",
                                     milestone="GA")
    assert gh.updated_at == gh.closed_at == sandbox.clock.ts() and gh.state_reason == "not_planned"
    new = sandbox.create_github_issue("acme/infra", "new", labels=["bug"], milestone=2)
    assert sandbox.github_issue("acme/infra", new.number).labels == ["bug"]
    made = sandbox.create_jira_issue("PAY", "new one", fix_versions=["Beta"], status="In Progress")
    assert made.key.startswith("PAY-") and made.status == "In Progress"


def test_now_override_moves_the_whole_history():
    a = Sandbox(seed=1, scale=300)
    b = Sandbox(seed=1, scale=300, now="2027-03-01T12:00:00Z")
    shift = b.clock.ts() - a.clock.ts()
    assert shift > 0
    ia, ib = a.jira_issue("CHK-3"), b.jira_issue("CHK-3")
    assert abs((ib.updated - ia.updated) - shift) < 1e-3
    assert b.org["now"] == "2027-03-01T12:00:00Z"
