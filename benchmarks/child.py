"""One benchmark case in a fresh process, so its peak RSS is its own: `python -m benchmarks.child SPEC.json`.

The spec names the case and its inputs; the result (exit code, wall seconds, peak RSS) goes to `spec["out"]`.
Wall time covers the case's work, not interpreter start-up and imports (measured once, apart).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path


def _peak_rss_mib() -> float:
    """This process's own peak: Linux VmHWM belongs to the address space exec created, whereas ru_maxrss
    survives exec and would report the benchmark parent (sandbox and all) as of the fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _work(spec: dict):
    """The callable for the case, with everything it imports already imported."""
    case = spec["case"]
    config, plan = Path(spec.get("config", "config.toml")), Path(spec.get("plan", "plan.toml"))
    if case in ("sync", "apply", "report", "run"):
        import connector.reconcile  # noqa: F401
        import connector.report  # noqa: F401
        import connector.store  # noqa: F401
        import connector.trackers.registry  # noqa: F401 - imported here so the timed part is the work
        from connector import commands

        kwargs = spec.get("kwargs", {})
        if kwargs.get("metrics_file"):
            kwargs["metrics_file"] = Path(kwargs["metrics_file"])
        return lambda: getattr(commands, case)(config, plan, **kwargs).code
    if case == "naive-github":
        import github  # noqa: F401

        from benchmarks.naive import naive_github

        return lambda: naive_github(spec["url"], os.environ[spec["token_env"]], spec["repos"]) and 0
    if case == "naive-jira":
        import jira  # noqa: F401

        from benchmarks.naive import naive_jira

        return lambda: naive_jira(spec["url"], spec["email"], os.environ[spec["token_env"]], spec["jqls"]) and 0
    raise SystemExit(f"unknown case {case!r}")


def _virtual_clock(control: str) -> None:
    """Waits advance the sandbox's clock instead of passing (`spec["virtual_clock"]` = its control URL),
    and GitHub's write pacing reads that same clock: minutes of 80-a-minute pacing cost no real time."""
    from types import SimpleNamespace

    import requests

    from connector import clock
    from connector.trackers.github import http as github_http

    start, slept = time.monotonic(), [0.0]

    def sleep(seconds: float) -> None:
        if seconds > 0:
            slept[0] += seconds
            requests.post(f"{control}/clock", json={"seconds": seconds}, timeout=30).raise_for_status()

    clock.sleep = sleep
    github_http.time = SimpleNamespace(monotonic=lambda: start + slept[0])


def _reconcile_work(items: int):
    from benchmarks.bench_reconcile import NOW, build
    from connector.reconcile import reconcile

    plan, built, members, milestones, events = build(items)
    reconcile(plan, built, members, milestones, events, now=NOW)  # warm-up: the timed call is the second
    return lambda: (reconcile(plan, built, members, milestones, events, now=NOW), 0)[1]


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    os.chdir(spec["dir"])
    os.environ.update(spec.get("env", {}))
    if spec.get("virtual_clock"):
        _virtual_clock(spec["virtual_clock"])
    started = time.perf_counter()
    work = _reconcile_work(int(spec["items"])) if spec["case"] == "reconcile" else _work(spec)
    setup_seconds = time.perf_counter() - started
    started = time.perf_counter()
    code = work()
    seconds = time.perf_counter() - started
    result = {"exit_code": int(code or 0), "seconds": seconds, "setup_seconds": setup_seconds, "peak_rss_mib": _peak_rss_mib()}
    Path(spec["out"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
