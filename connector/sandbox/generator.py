"""Deterministic generator of the "acme" organisation: Jira projects, GitHub repos, people, history.

Same (seed, scale, now) → identical data. Scenarios are seeded so a plan over it is interesting.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from .state import GithubIssue, JiraIssue, State

DAY = 86400.0
# name -> (status id, statusCategory key)
JIRA_STATUSES = {
    "To Do": ("10000", "new"),
    "In Progress": ("3", "indeterminate"),
    "In Review": ("10002", "indeterminate"),
    "Blocked": ("10003", "indeterminate"),
    "Done": ("10001", "done"),
    "Won't Do": ("10004", "done"),
}
RESOLUTIONS = {"Done": "10000", "Won't Do": "10001", "Duplicate": "10002"}
ISSUE_TYPES = {"Epic": "10000", "Story": "10001", "Task": "10002", "Bug": "10003"}

PEOPLE = [
    ("plansync-bot", "plansync bot", "plansync-bot@example.com", "plansync-bot"),
    ("dana", "Dana Kim", "dana@example.com", "dana-k"),
    ("luis", "Luis Ortega", "luis@example.com", "lortega"),
    ("mei", "Mei Chen", "mei@example.com", "meichen"),
    ("omar", "Omar Haddad", "omar@example.com", "ohaddad"),
    ("priya", "Priya Nair", "priya@example.com", "priya-n"),
    ("sam", "Sam Becker", "sam@example.com", "sbecker"),
    ("tove", "Tove Lind", "tove@example.com", "tovelind"),
    ("kofi", "Kofi Mensah", "kofi@example.com", "kmensah"),
    ("ana", "Ana Souza", "ana@example.com", "anasouza"),
    ("jon", "Jon Park", "jon@example.com", "jonpark"),
]
PROJECTS = [("CHK", "Checkout", 0.40), ("PAY", "Payments", 0.35), ("OPS", "Operations", 0.25)]
REPOS = [("acme/checkout-web", "CHK", 0.45), ("acme/payments-api", "PAY", 0.35), ("acme/infra", "OPS", 0.20)]
# name, days from now to release, released; "Alpha" is the finished one.
VERSIONS = [("Alpha", -20, True), ("Beta", 22, False), ("GA", 70, False), ("2026.12", 38, False)]
GH_MILESTONES = [("Alpha", -20, "closed"), ("Beta", 22, "open"), ("GA", 70, "open")]
# per milestone: weights of done, in progress, in review, blocked, to do, won't do
MIX = {
    "Alpha": (0.93, 0, 0, 0, 0, 0.07),
    "Beta": (0.42, 0.2, 0.06, 0.08, 0.22, 0.02),
    "GA": (0.12, 0.15, 0.03, 0.03, 0.65, 0.02),
    "2026.12": (0.3, 0.25, 0.05, 0.02, 0.36, 0.02),
    None: (0.5, 0.12, 0.03, 0.02, 0.28, 0.05),
}
STATE_NAMES = ("Done", "In Progress", "In Review", "Blocked", "To Do", "Won't Do")
WORDS = ("cart", "payment", "retry", "webhook", "invoice", "checkout", "coupon", "refund", "latency",
         "login", "session", "3DS", "currency", "tax", "address", "cache", "deploy", "alert", "queue")
VERBS = ("Fix", "Add", "Improve", "Handle", "Refactor", "Migrate", "Document", "Speed up", "Validate")


def adf(text: str) -> dict:
    """Atlassian Document Format for a plain paragraph, as Cloud returns descriptions."""
    return {"type": "doc", "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


def _date(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def build_state(seed: int, scale: int, now: float) -> State:
    rnd = random.Random(seed)
    people = [
        {"key": k, "display_name": n, "email": e, "github_login": g, "github_id": 9000 + i,
         "jira_account_id": f"5f{seed % 97:02d}{i:04d}a1b2c3d4e5f60718{i:02d}"}
        for i, (k, n, e, g) in enumerate(PEOPLE)
    ]
    projects, versions, sprints, boards = {}, {}, {}, {}
    vid, sid = 10100, 1
    for pi, (pkey, pname, _) in enumerate(PROJECTS):
        proj = {"id": str(10000 + pi), "key": pkey, "name": pname, "versions": [], "board": pi + 1,
                "lead": 1 + pi}
        for vname, dd, released in VERSIONS:
            versions[vid] = {"id": vid, "name": vname, "project": pkey, "released": released,
                             "archived": False, "releaseDate": _date(now + dd * DAY),
                             "startDate": _date(now - 60 * DAY), "description": f"{pname} {vname}"}
            proj["versions"].append(vid)
            vid += 1
        boards[pi + 1] = {"id": pi + 1, "name": f"{pkey} board", "type": "scrum", "project": pkey,
                          "sprints": []}
        # two-week sprints: four closed, one active, two future
        start0 = now - 9 * DAY - 4 * 14 * DAY
        for n in range(7):
            st = start0 + n * 14 * DAY
            state = "closed" if n < 4 else "active" if n == 4 else "future"
            sprints[sid] = {"id": sid, "name": f"{pkey} Sprint {n + 1}", "state": state,
                            "board": pi + 1, "start": st, "end": st + 14 * DAY,
                            "complete": st + 14 * DAY if state == "closed" else None,
                            "goal": ""}
            boards[pi + 1]["sprints"].append(sid)
            sid += 1
        projects[pkey] = proj
    repos = {}
    for ri, (full, _, _) in enumerate(REPOS):
        ms = {}
        for mi, (title, dd, mstate) in enumerate(GH_MILESTONES, start=1):
            ms[mi] = {"number": mi, "id": 7_000_000 + ri * 100 + mi, "title": title, "state": mstate,
                      "description": f"{title} for {full}", "due_on": now + dd * DAY,
                      "created_at": now - 90 * DAY, "updated_at": now - 10 * DAY,
                      "closed_at": now + dd * DAY if mstate == "closed" else None}
        labels = {}
        for li, (name, color) in enumerate([("bug", "d73a4a"), ("enhancement", "a2eeef"),
                                            ("blocked", "b60205"), ("in progress", "fbca04"),
                                            ("documentation", "0075ca")]):
            labels[name] = {"id": 8_000_000 + ri * 100 + li, "color": color,
                            "default": name in ("bug", "enhancement", "documentation"),
                            "description": None}
        repos[full] = {"id": 600_000 + ri, "full_name": full, "name": full.split("/")[1], "milestones": ms,
                       "labels": labels, "created_at": now - 700 * DAY}
    st = State(people=people, projects=projects, versions=versions, sprints=sprints, boards=boards,
               repos=repos, gh_issues={r: {} for r in repos})
    n_jira = max(12, int(scale * 0.6))
    n_gh = max(9, scale - n_jira)
    _gen_jira(st, rnd, n_jira, now)
    _gen_github(st, rnd, n_gh, now)
    _link_and_disturb(st, rnd, now)
    return st


_CUM = {k: [sum(v[: n + 1]) for n in range(len(v))] for k, v in MIX.items()}


def _pick_state(rnd: random.Random, milestone: str | None) -> str:
    return rnd.choices(STATE_NAMES, cum_weights=_CUM[milestone])[0]


def _two_words(rnd: random.Random) -> tuple[str, str]:
    a = int(rnd.random() * len(WORDS))
    return WORDS[a], WORDS[(a + 1 + int(rnd.random() * (len(WORDS) - 1))) % len(WORDS)]


JIRA_LABELS = ("backend", "frontend", "tech-debt", "customer", "security")


def _labels(rnd: random.Random) -> list[str]:
    r = rnd.random()
    if r < 0.45:
        return []
    first = JIRA_LABELS[int(r * 1000) % 5]
    return [first] if r < 0.85 else [first, JIRA_LABELS[(JIRA_LABELS.index(first) + 2) % 5]]


def _assignee(rnd: random.Random) -> int | None:
    return None if rnd.random() < 0.12 else rnd.randint(1, len(PEOPLE) - 1)


def _gen_jira(st: State, rnd: random.Random, count: int, now: float) -> None:
    per = [max(4, int(count * share)) for *_, share in PROJECTS]
    for (pkey, _, _), n in zip(PROJECTS, per, strict=True):
        proj = st.projects[pkey]
        vids = proj["versions"]
        board_sprints = st.boards[proj["board"]]["sprints"]
        epics: list[int] = []
        for num in range(1, n + 1):
            created = now - rnd.uniform(0.5, 58) * DAY
            if num <= max(2, n // 40):
                itype = "Epic"
            else:
                itype = rnd.choices(("Story", "Task", "Bug"), cum_weights=(0.6, 0.8, 1.0))[0]
            roll = rnd.random()
            vname = "Beta" if roll < 0.3 else "GA" if roll < 0.5 else "Alpha" if roll < 0.62 else (
                "2026.12" if roll < 0.7 else None)
            if vname == "Alpha":
                created = min(created, now - rnd.uniform(25, 58) * DAY)
            status = _pick_state(rnd, vname)
            iid = st.next_jira_id
            st.next_jira_id += 1
            words = _two_words(rnd)
            issue = JiraIssue(
                id=iid, key=f"{pkey}-{num}", project=pkey, issuetype=itype,
                summary=f"{rnd.choice(VERBS)} {words[0]} {words[1]}" if itype != "Epic" else f"{words[0].title()} epic",
                description=f"Work on {words[0]} and {words[1]}.", status="To Do",
                reporter=rnd.randint(1, len(PEOPLE) - 1), created=created, updated=created,
                assignee=_assignee(rnd),
                labels=_labels(rnd),
                story_points=rnd.choice((1.0, 2.0, 3.0, 5.0, 8.0)) if itype == "Story" else None,
            )
            if vname:
                v = next(x for x in vids if st.versions[x]["name"] == vname)
                if vname == "Beta" and rnd.random() < 0.25:
                    # slipped from Alpha into Beta: a fixVersion change in the changelog
                    alpha = vids[0]
                    issue.fix_versions = [alpha]
                    t = created + (now - created) * 0.3
                    issue.history.append((t, issue.reporter, [("Fix Version", None, None, str(alpha), "Alpha")]))
                    issue.history.append((t + 60, issue.reporter, [
                        ("Fix Version", str(alpha), "Alpha", None, None), ("Fix Version", None, None, str(v), vname)]))
                issue.fix_versions = [v]
            if epics and itype != "Epic":
                issue.parent = rnd.choice(epics)
            if itype == "Epic":
                epics.append(iid)
            if rnd.random() < 0.2:
                issue.duedate = _date(now + rnd.uniform(-10, 40) * DAY)
            _walk_jira(issue, status, rnd, now)
            if status in ("To Do",) and rnd.random() < 0.4:
                issue.sprints = [board_sprints[5]]
            elif status in ("In Progress", "In Review", "Blocked"):
                issue.sprints = [board_sprints[4]]
            elif status == "Done" and issue.resolved:
                idx = min(4, max(0, int((issue.resolved - (now - 65 * DAY)) // (14 * DAY))))
                issue.sprints = [board_sprints[idx]]
            st.jira_issues[iid] = issue
            st.jira_keys[issue.key] = iid


def _walk_jira(issue: JiraIssue, target: str, rnd: random.Random, now: float) -> None:
    """Record the status transitions from To Do to `target` between creation and now."""
    path = {"To Do": [], "In Progress": ["In Progress"], "In Review": ["In Progress", "In Review"],
            "Blocked": ["In Progress", "Blocked"], "Done": ["In Progress", "In Review", "Done"],
            "Won't Do": ["Won't Do"]}[target]
    t = max([issue.created] + [h[0] for h in issue.history])
    who = issue.assignee or issue.reporter
    prev = "To Do"
    for step in path:
        t = t + (now - t) * rnd.uniform(0.15, 0.6)
        issue.history.append((t, who, [("status", JIRA_STATUSES[prev][0], prev, JIRA_STATUSES[step][0], step)]))
        prev = step
    issue.status = target
    if target in ("Done", "Won't Do"):
        issue.resolution = "Done" if target == "Done" else rnd.choice(("Won't Do", "Duplicate"))
        issue.resolved = t
        issue.history[-1][2].append(("resolution", None, None, RESOLUTIONS[issue.resolution], issue.resolution))
    issue.updated = max(t, issue.created)


def _gen_github(st: State, rnd: random.Random, count: int, now: float) -> None:
    for full, _, share in REPOS:
        n = max(3, int(count * share))
        issues = st.gh_issues[full]
        for num in range(1, n + 1):
            created = now - rnd.uniform(0.5, 58) * DAY
            is_pr = rnd.random() < 0.25
            roll = rnd.random()
            mnum = None if is_pr else 2 if roll < 0.35 else 3 if roll < 0.55 else 1 if roll < 0.67 else None
            title_ms = st.repos[full]["milestones"][mnum]["title"] if mnum else None
            if mnum == 1:
                created = min(created, now - rnd.uniform(25, 58) * DAY)
            kind = _pick_state(rnd, title_ms)
            words = _two_words(rnd)
            gid = st.next_gh_id
            st.next_gh_id += 1
            issue = GithubIssue(
                id=gid, repo=full, number=num, title=f"{rnd.choice(VERBS)} {words[0]} {words[1]}",
                body=f"Details about {words[0]}.", user=rnd.randint(1, len(PEOPLE) - 1), state="open",
                created_at=created, updated_at=created, milestone=mnum, is_pr=is_pr,
                labels=rnd.sample(("bug", "enhancement", "documentation"), rnd.randint(0, 1)),
            )
            a = _assignee(rnd)
            issue.assignees = [a] if a else []
            t = created + (now - created) * rnd.uniform(0.2, 0.9)
            if kind in ("Done", "Won't Do"):
                issue.state = "closed"
                issue.state_reason = "completed" if kind == "Done" else rnd.choice(("not_planned", "duplicate"))
                issue.closed_at = t
            elif kind == "Blocked":
                issue.labels.append("blocked")
            elif kind in ("In Progress", "In Review"):
                issue.labels.append("in progress")
            issue.updated_at = t if kind != "To Do" else created
            issue.history.append((issue.updated_at, "generated", kind))
            issues[num] = issue


def _link_and_disturb(st: State, rnd: random.Random, now: float) -> None:
    """Cross-tracker mentions, closed/open linked pairs, moved, deleted and transferred issues."""
    for full, pkey, _ in REPOS:
        gh = [i for i in st.gh_issues[full].values() if not i.is_pr and i.milestone != 1]
        # Alpha stays entirely done, so linked pairs come from the other versions.
        alpha = {v for v in st.projects[pkey]["versions"] if st.versions[v]["name"] == "Alpha"}
        jira = [i for i in st.jira_issues.values()
                if i.project == pkey and i.issuetype != "Epic" and not alpha & set(i.fix_versions)]
        for k in range(min(len(gh), len(jira), 8)):
            g, j = gh[k * 2 % len(gh)], jira[k * 3 % len(jira)]
            url = f"https://github.com/{full}/issues/{g.number}"
            g.body += f"\n\nTracked in {j.key}."
            if k % 2:
                j.description += f" See {full}#{g.number}."
            else:
                j.description += f" See {url}"
                j.remote_links.append(url)
            if k < 3:  # one side closed, the other still open
                g.state, g.state_reason, g.closed_at = "closed", "completed", now - (k + 1) * DAY
                g.updated_at = g.closed_at
                g.labels = [x for x in g.labels if x not in ("blocked", "in progress")]
                if j.status in ("Done", "Won't Do"):
                    j.status, j.resolution, j.resolved = "In Progress", None, None
                    j.history.append((now - 2 * DAY, j.assignee or 1,
                                      [("status", "10001", "Done", "3", "In Progress")]))
                    j.updated = now - 2 * DAY
            st.links.append({"jira": j.key, "github": f"{full}#{g.number}",
                             "jira_state": j.status, "github_state": g.state})
    # A few moves (CHK -> PAY keeps the id), deletions and GitHub transfers/deletions.
    chk = [i for i in st.jira_issues.values() if i.project == "CHK" and i.issuetype != "Epic"]
    pay_next = 1 + sum(1 for i in st.jira_issues.values() if i.project == "PAY")
    for i in chk[-3:-1]:
        old = i.key
        i.old_keys.append(old)
        i.key, i.project = f"PAY-{pay_next}", "PAY"
        i.fix_versions = [v for v in st.projects["PAY"]["versions"] if st.versions[v]["name"] == "GA"]
        i.history.append((now - 3 * DAY, 1, [("Key", None, old, None, i.key),
                                             ("project", "10000", "Checkout", "10001", "Payments")]))
        i.updated = now - 3 * DAY
        st.jira_keys[i.key] = i.id
        pay_next += 1
    for pkey in ("CHK", "OPS"):
        victim = [i for i in st.jira_issues.values() if i.project == pkey][-1]
        victim.deleted = True
    web = st.gh_issues["acme/checkout-web"]
    last = max(web)
    web[last].deleted = True
    moved = web[last - 1]
    infra = st.gh_issues["acme/infra"]
    new_num = max(infra) + 1
    clone = GithubIssue(**{s: getattr(moved, s) for s in GithubIssue.__slots__})
    clone.repo, clone.number, clone.id, clone.milestone = "acme/infra", new_num, st.next_gh_id, None
    clone.labels, clone.assignees, clone.comments, clone.history = list(moved.labels), list(moved.assignees), [], []
    st.next_gh_id += 1
    clone.updated_at = now - DAY
    infra[new_num] = clone
    moved.transferred_to = ("acme/infra", new_num)


def org_description(st: State, now: float) -> dict:
    """The data description others write plans against (see the package docstring)."""
    def iso(ts):
        return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")

    projects = []
    for p in st.projects.values():
        board = st.boards[p["board"]]
        projects.append({
            "key": p["key"], "id": p["id"], "name": p["name"],
            "versions": [{k: st.versions[v][k] for k in ("id", "name", "releaseDate", "released")}
                         for v in p["versions"]],
            "boards": [{"id": board["id"], "name": board["name"], "sprints": [
                {"id": s, "name": st.sprints[s]["name"], "state": st.sprints[s]["state"]} for s in board["sprints"]]}],
            "epics": [i.key for i in st.live_jira() if i.project == p["key"] and i.issuetype == "Epic"],
            "issue_count": sum(1 for i in st.live_jira() if i.project == p["key"]),
        })
    repos = [{"full_name": r["full_name"], "issue_count": len(st.gh_issues[r["full_name"]]),
              "milestones": [{"number": m["number"], "title": m["title"], "state": m["state"],
                              "due_on": iso(m["due_on"])} for m in r["milestones"].values()]}
             for r in st.repos.values()]
    return {
        "name": "acme", "now": iso(now),
        "people": [dict(p) for p in st.people],
        "jira": {"projects": projects,
                 "moved": {k: i.key for i in st.jira_issues.values() for k in i.old_keys},
                 "deleted": [i.key for i in st.jira_issues.values() if i.deleted]},
        "github": {"repos": repos,
                   "deleted": [f"{i.repo}#{i.number}" for r in st.gh_issues.values() for i in r.values() if i.deleted],
                   "transferred": {f"{i.repo}#{i.number}": "{}#{}".format(*i.transferred_to)
                                   for r in st.gh_issues.values() for i in r.values() if i.transferred_to}},
        "links": list(st.links),
        "scenarios": {"done_milestone": "Alpha", "at_risk_milestone": "Beta", "blocked_milestone": "Beta",
                      "later_milestone": "GA", "unplanned": "issues with no fixVersion / no milestone"},
    }


def since(now: float, days: float) -> str:
    return (datetime.fromtimestamp(now, UTC) - timedelta(days=days)).isoformat()
