"""Deterministic progress of the organisation over simulated days (issues move, close, slip, appear)."""

from __future__ import annotations

import random

DAY = 86400.0


def run(sb, days: float) -> dict:
    """Advance sb's clock by `days`, changing issues at the simulated instants; returns a summary."""
    st = sb.state
    start = sb.clock.ts()
    rnd = random.Random(f"{sb.seed}:{int(start)}:{days}")
    summary = {"jira_transitions": 0, "jira_created": 0, "fix_version_changes": 0,
               "github_closed": 0, "github_labelled": 0, "github_created": 0}
    for day in range(int(days)):
        events = []
        for i in st.live_jira():
            r = rnd.random()
            if i.status == "To Do" and r < 0.04:
                events.append(("jira", i.key, {"status": "In Progress"}))
            elif i.status in ("In Progress", "In Review") and r < 0.1:
                events.append(("jira", i.key, {"status": "Done"}))
            elif i.status == "In Progress" and r < 0.115:
                events.append(("jira", i.key, {"status": "Blocked"}))
            elif i.status == "Blocked" and r < 0.15:
                events.append(("jira", i.key, {"status": "In Progress"}))
            elif i.fix_versions and i.status != "Done" and r > 0.995:
                names = {st.versions[v]["name"] for v in i.fix_versions}
                target = "GA" if "Beta" in names else "Beta"
                events.append(("jira", i.key, {"fix_versions": [target]}))
        for repo, issues in st.gh_issues.items():
            for i in list(issues.values()):
                if i.deleted or i.transferred_to or i.state != "open":
                    continue
                r = rnd.random()
                if r < 0.06:
                    events.append(("gh", (repo, i.number), {"state": "closed", "state_reason": "completed",
                                                            "labels": [x for x in i.labels if x != "in progress"]}))
                elif r < 0.065:
                    events.append(("gh", (repo, i.number), {"state": "closed", "state_reason": "not_planned"}))
                elif r < 0.09 and "in progress" not in i.labels:
                    events.append(("gh", (repo, i.number), {"labels": i.labels + ["in progress"]}))
                elif r < 0.095 and "blocked" not in i.labels:
                    events.append(("gh", (repo, i.number), {"labels": i.labels + ["blocked"]}))
        n_new = max(1, int(sb.scale * 0.002))
        for _ in range(n_new):
            events.append(("new_jira", rnd.choice(sorted(st.projects)), {}))
            events.append(("new_gh", rnd.choice(sorted(st.repos)), {}))
        times = sorted(start + day * DAY + rnd.uniform(0.1, 0.95) * DAY for _ in events)
        for t, (kind, ref, change) in zip(times, events, strict=True):
            sb.clock.set(t)
            if kind == "jira":
                sb.update_jira_issue(ref, **change)
                summary["fix_version_changes" if "fix_versions" in change else "jira_transitions"] += 1
            elif kind == "gh":
                sb.update_github_issue(*ref, **change)
                summary["github_closed" if "state" in change else "github_labelled"] += 1
            elif kind == "new_jira":
                sb.create_jira_issue(ref, f"New work found on day {day + 1}",
                                     fix_versions=[rnd.choice(("Beta", "GA"))] if rnd.random() < 0.6 else [])
                summary["jira_created"] += 1
            else:
                ms = rnd.choice((2, 3, None))
                sb.create_github_issue(ref, f"New report from day {day + 1}", milestone=ms)
                summary["github_created"] += 1
    sb.clock.set(start + days * DAY)
    summary["now"] = sb.clock.now().isoformat()
    return summary
