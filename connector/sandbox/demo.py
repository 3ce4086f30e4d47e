"""`plansync demo`: the sandbox trackers (Jira, GitHub and GitLab), a config and plan written for them, and two runs a week apart.

The config and plan writers are reused by the end-to-end tests and the benchmarks, so the demo, the
tests and the figures in the README all exercise the same setup.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from connector.errors import ExitCode

JIRA_TOKEN_ENV = "PLANSYNC_SANDBOX_JIRA_TOKEN"
GITHUB_TOKEN_ENV = "PLANSYNC_SANDBOX_GITHUB_TOKEN"
GITLAB_TOKEN_ENV = "PLANSYNC_SANDBOX_GITLAB_TOKEN"
DEMO_START = "2026-11-16T09:00:00Z"


def sandbox_tokens() -> dict[str, str]:
    """Environment for a plansync process talking to the sandbox (its fixed, public credentials)."""
    from connector.sandbox import GITHUB_TOKEN, GITLAB_TOKEN, JIRA_TOKEN

    return {JIRA_TOKEN_ENV: JIRA_TOKEN, GITHUB_TOKEN_ENV: GITHUB_TOKEN, GITLAB_TOKEN_ENV: GITLAB_TOKEN}


def sandbox_env(now) -> dict[str, str]:
    """The tokens plus the sandbox's clock pinned (PLANSYNC_NOW), with writes under a pinned clock
    allowed: against the sandbox that is what is meant."""
    from connector.clock import ALLOW_VARIABLE, NOW_VARIABLE

    return {**sandbox_tokens(), NOW_VARIABLE: now.isoformat(), ALLOW_VARIABLE: "1"}


def write_config(folder: Path, sandbox, *, store_url: str | None = None, flavour: str = "cloud",
                 extra: str = "", gitlab: bool = False) -> Path:
    """A config.toml pointing Jira and GitHub (and with `gitlab`, GitLab too) at a started sandbox."""
    from connector.sandbox import JIRA_EMAIL

    jira_url = sandbox.jira_url if flavour == "cloud" else sandbox.jira_server_url
    text = f'''# Written by plansync for its sandbox trackers (credentials are the sandbox's public ones).
[store]
url = "{store_url or 'sqlite:///plansync.db'}"

[labels]
prefix = "plan:"

[trackers.jira]
kind = "jira"
url = "{jira_url}"
deployment = "{flavour}"
auth = "basic"
email = "{JIRA_EMAIL}"
token_env = "{JIRA_TOKEN_ENV}"

[trackers.github]
kind = "github"
url = "{sandbox.github_url}"
token_env = "{GITHUB_TOKEN_ENV}"
write_interval = 0.0                 # the sandbox has no secondary limits; real GitHub wants >= 1 s
writes_per_minute = 0
writes_per_hour = 0                  # nor an hourly content limit (real GitHub: 500)
{_gitlab_tracker(sandbox) if gitlab else ""}
[report]
out_dir = "reports"

[apply]
# the demo compresses a week of work into one step, which flips whole milestones' health labels at once

{extra}'''
    path = folder / "config.toml"
    path.write_text(text)
    return path


def _gitlab_tracker(sandbox) -> str:
    return f'''
[trackers.gitlab]
kind = "gitlab"
url = "{sandbox.gitlab_url}"
token_env = "{GITLAB_TOKEN_ENV}"
'''


# the GitLab scope each demo milestone gets when the demo org has its third tracker
GITLAB_SCOPES = {
    "alpha": ("project", "acme/platform/checkout", "milestone", "Alpha"),
    "beta": ("project", "acme/platform/checkout", "milestone", "Beta"),
    "payments": ("group", "acme/platform", "milestone", "Q4 launch"),
    "ops-hardening": ("project", "acme/platform/mobile", "milestone", "Beta"),
    "ga": ("project", "acme/platform/checkout", "milestone", "GA"),
}


def _release(org: dict, project: str, version: str) -> date:
    for p in org["jira"]["projects"]:
        if p["key"] == project:
            for v in p["versions"]:
                if v["name"] == version:
                    return date.fromisoformat(v["releaseDate"])
    raise KeyError(f"{project} {version}")


def write_plan(folder: Path, org: dict, *, gitlab: bool = False) -> Path:
    """A plan over the sandbox organisation that exercises every rule: done, at-risk, off-track, drift."""
    now = datetime.fromisoformat(org["now"].replace("Z", "+00:00")).date()
    people = [p for p in org["people"] if p["key"] != "plansync-bot"]
    alpha = _release(org, "CHK", "Alpha")
    beta = _release(org, "CHK", "Beta")
    ga = _release(org, "CHK", "GA")
    payments = _release(org, "PAY", "2026.12")
    lines = [
        "# Written by `plansync demo` for the sandbox organisation \"acme\".",
        "[plan]",
        'name = "Checkout revamp (sandbox)"',
        'objective = "Ship the new one-page checkout and the second payment provider before the holiday freeze."',
        'timezone = "Europe/Berlin"',
        f"start = {now - timedelta(days=56)}",
        "",
    ]
    for person in people:
        lines += [f"[people.{person['key']}]", f'name = "{person["display_name"]}"',
                  f'jira = "{person["email"]}"', f'github = "{person["github_login"]}"']
        lines += [f'gitlab = "{person["github_login"]}"', ""] if gitlab else [""]
    owner = [p["key"] for p in people]
    milestones = [
        ("alpha", "Private alpha", alpha, owner[0], [], 'project = CHK AND fixVersion = "Alpha"',
         ("acme/checkout-web", "milestone", "Alpha")),
        # declared 3 days earlier than Jira's release date: the report shows milestone date drift
        ("beta", "Public beta", beta - timedelta(days=3), owner[0], ["payments"],
         'project = CHK AND fixVersion = "Beta"', ("acme/checkout-web", "milestone", "Beta")),
        ("payments", "Second payment provider", payments, owner[3], [], 'project = PAY AND fixVersion = "2026.12"',
         ("acme/payments-api", "milestone", "Beta")),
        # an operations milestone whose due date has passed with work still open: off-track
        ("ops-hardening", "Operations hardening", now - timedelta(days=2), owner[5], [],
         'project = OPS AND fixVersion = "Beta"', ("acme/infra", "milestone", "Beta")),
        ("ga", "General availability", ga, owner[1], ["beta"], 'project = CHK AND fixVersion = "GA"',
         ("acme/checkout-web", "milestone", "GA")),
    ]
    for key, title, due, who, deps, jql, (repo, kind, value) in milestones:
        lines += ["[[milestones]]", f'key = "{key}"', f'title = "{title}"', f"due = {due}", f'owner = "{who}"',
                  "depends_on = [" + ", ".join(f'"{d}"' for d in deps) + "]", "",
                  "  [[milestones.scope]]", '  tracker = "jira"', f"  jql = '{jql}'", "",
                  "  [[milestones.scope]]", '  tracker = "github"', f'  repo = "{repo}"', f'  {kind} = "{value}"', ""]
        if gitlab:
            where, path, narrow, name = GITLAB_SCOPES[key]
            lines += ["  [[milestones.scope]]", '  tracker = "gitlab"', f'  {where} = "{path}"',
                      f'  {narrow} = "{name}"', ""]
    lines += ["[[risks]]", 'title = "Payment provider certification may slip"', 'milestone = "payments"',
              'likelihood = "medium"', 'impact = "high"',
              'mitigation = "Keep the fallback provider integration warm"', f'owner = "{owner[3]}"', "",
              "[[risks]]", 'title = "On-call load from the old checkout slows the beta"', 'milestone = "beta"',
              'likelihood = "high"', 'impact = "medium"', 'mitigation = "Freeze old-checkout features from December"',
              "",
              "[[watch]]", 'tracker = "jira"', 'jql = "project = CHK"', "",
              "[[watch]]", 'tracker = "github"', 'repo = "acme/checkout-web"', ""]
    if gitlab:
        lines += ["[[watch]]", 'tracker = "gitlab"', 'project = "acme/platform/checkout"', ""]
    path = folder / "plan.toml"
    path.write_text("\n".join(lines))
    return path


def _replan(plan: Path) -> None:
    """The team pushes GA back a week: the report lists it under plan changes."""
    lines = plan.read_text().splitlines()
    at = lines.index('key = "ga"')
    due = next(i for i in range(at, len(lines)) if lines[i].startswith("due = "))
    moved = date.fromisoformat(lines[due].removeprefix("due = ")) + timedelta(days=7)
    lines[due] = f"due = {moved}"
    plan.write_text("\n".join(lines) + "\n")


@contextlib.contextmanager
def environment(values: dict):
    """Set environment variables for a block and restore them after (tests use it too)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_demo(folder: Path, *, scale: int = 1500, seed: int = 7, say: Callable[..., None] = lambda *_: None,
             validate: bool = False) -> int:
    """Start the sandbox, write config and plan, run twice a simulated week apart, say where the report is."""
    # the demo tells its story in a few printed lines; per-write log lines (useful under cron) would
    # bury them, so at the default level only warnings are logged here
    package_log = logging.getLogger("connector")
    previous = package_log.level
    if logging.getLogger().getEffectiveLevel() >= logging.INFO:
        package_log.setLevel(logging.WARNING)
    try:
        return _run_demo(Path(folder).resolve(), scale=scale, seed=seed, say=say, validate=validate)
    finally:
        package_log.setLevel(previous)


def _said(result, say: Callable[..., None]) -> int:
    for line in result.lines:
        say(line)
    return result.code


def _run_demo(folder: Path, *, scale: int, seed: int, say: Callable[..., None], validate: bool = False) -> int:
    from connector import commands
    from connector.sandbox import Sandbox

    if folder.exists():
        for name in ("plansync.db", "plansync.db-wal", "plansync.db-shm", "reports"):
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    # the organisation is generated as of a week ago; the first run happens then, the second after
    # sandbox.simulate() has played a week of work in both trackers
    # validate: the tests check every exchange of the demo against the vendors' OpenAPI descriptions
    sandbox = Sandbox(seed=seed, scale=scale, now=DEMO_START, validate=validate)
    sandbox.start()
    try:
        config = write_config(folder, sandbox, gitlab=True)
        plan = write_plan(folder, sandbox.org, gitlab=True)
        say(f"sandbox  Jira {sandbox.jira_url}  GitHub {sandbox.github_url}  GitLab {sandbox.gitlab_url}  "
            f"({scale} issues, seed {seed})")
        say(f"files    {config}  {plan}")
        with environment(sandbox_env(sandbox.clock.now())):
            say(f"run 1    {sandbox.clock.now():%Y-%m-%d} (a week ago)")
            first = _said(commands.run(config, plan), say)
        sandbox.simulate(days=7)  # a week of work happens in both trackers
        _replan(plan)  # and the team moves a date in its plan, as teams do
        with environment(sandbox_env(sandbox.clock.now())):
            say(f"run 2    {sandbox.clock.now():%Y-%m-%d} (today)")
            second = _said(commands.run(config, plan), say)
    finally:
        sandbox.stop()
    reports = folder / "reports"
    html = sorted(reports.glob("*.html"))
    if first not in (0,) or second not in (0,) or not html:
        say(f"plansync demo: a run failed (exit {first}, {second}); see the messages above")
        return int(ExitCode.FAILED)
    latest = next((p for p in html if p.name.startswith("latest")), html[-1])
    say("")
    say(f"Report: {latest}")
    say("It shows each milestone's health with reasons, progress and forecast, the burn-up charts, what")
    say("changed this week, workload per person across Jira, GitHub and GitLab, unplanned work, risks and drift.")
    return int(ExitCode.OK)
