"""The reliability suite's harness: a workspace (sandbox + config + plan + store), the real CLI run as a
subprocess or in-process through `connector.cli.main`, and read-outs of the store and the sandbox log.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from connector.sandbox.demo import environment, sandbox_env, write_config, write_plan

REPO = Path(__file__).resolve().parents[2]
PREFIX = "plan:"
# endpoints that change labels on an issue, as the sandbox names them
LABEL_WRITES = {"jira.issue_put", "github.labels_add", "github.labels_set", "github.label_remove"}
TRACKER_OF_FLAVOUR = {"cloud": "jira", "server": "jira", "github": "github"}
TABLE_ENV = "PLANSYNC_RELIABILITY_TABLE"


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def __str__(self) -> str:  # shown by pytest when an assertion on a Result fails
        return f"exit {self.code}\n--- stdout\n{self.out[-4000:]}\n--- stderr\n{self.err[-4000:]}"


@dataclass
class Workspace:
    """One tmp folder with config.toml and plan.toml pointing at a started sandbox and a store."""

    folder: Path
    sandbox: object
    store_url: str
    env: dict = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.folder / "config.toml"

    @property
    def plan(self) -> Path:
        return self.folder / "plan.toml"

    def set_tracker_option(self, tracker: str, line: str) -> None:
        """Add `key = value` to one tracker's table (write_config's `extra` can only add new tables)."""
        text = self.config.read_text()
        header = f"[trackers.{tracker}]\n"
        assert header in text
        self.config.write_text(text.replace(header, header + line + "\n", 1))

    def full_env(self, extra: dict | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLANSYNC_")}
        env.update(self.env)
        env.update(extra or {})
        env.setdefault("PYTHONPATH", str(REPO))
        return env

    def argv(self, *args: str, global_args: tuple[str, ...] = ()) -> list[str]:
        command, *rest = args
        files = ["--config", str(self.config)]
        if command != "doctor":
            files += ["--plan", str(self.plan)]
        return [*global_args, command, *files, *rest]

    # --- the real CLI in a child process -----------------------------------------------------------
    def popen(self, *args: str, env: dict | None = None, global_args: tuple[str, ...] = (),
              preexec_fn=None) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "connector", *self.argv(*args, global_args=global_args)],
                                cwd=self.folder, env=self.full_env(env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn)

    def cli(self, *args: str, env: dict | None = None, global_args: tuple[str, ...] = (), timeout: float = 120,
            preexec_fn=None) -> Result:
        proc = self.popen(*args, env=env, global_args=global_args, preexec_fn=preexec_fn)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"plansync {' '.join(args)} ran past {timeout} s\n{out}\n{err}") from None
        return Result(proc.returncode, out, err)

    # --- the same CLI in this process (fast; connector.clock.sleep is faked by tests/conftest.py) ----
    def main(self, *args: str, env: dict | None = None, global_args: tuple[str, ...] = ()) -> Result:
        return run_main(self.argv(*args, global_args=global_args), {**self.env, **(env or {})})


def run_main(argv: list[str], env: dict | None = None) -> Result:
    """`plansync ARGV` in-process: the exit code it would return, and what it printed."""
    from connector.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with environment(env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


def make_workspace(folder: Path, sandbox, store_url: str | None = None, *, extra: str = "") -> Workspace:
    folder.mkdir(parents=True, exist_ok=True)
    url = store_url or f"sqlite:///{folder / 'plansync.db'}"
    write_config(folder, sandbox, store_url=url, extra=extra)
    write_plan(folder, sandbox.org)
    env = {**sandbox_env(sandbox.clock.now()),
           # Markdown and JSON only: the HTML charts cost seconds per run and are tested in tests/report
           "PLANSYNC_REPORT__FORMATS": '["md", "json"]'}
    workspace = Workspace(folder, sandbox, url, env)
    # These faults and crash points target one journaled PUT per Jira item; Cloud bulk edits have their
    # own crash, fallback and retry tests (tests/adapters/test_jira_citizenship.py, tests/e2e/test_apply_safety.py).
    workspace.set_tracker_option("jira", "bulk = false")
    return workspace


# --- read-outs ---------------------------------------------------------------------------------------


def store_state(url: str) -> dict:
    """Everything a run must not lose: items (all fields) and cursors, per tracker."""
    from connector.store import Store

    with Store.open(url) as store:
        items = {(i.tracker, i.id): i for i in store.items(present_only=False)}
        cursors = {t: {k: (c.updated, c.etag) for k, c in store.get_cursors(t).items()}
                   for t in ("jira", "github")}
    return {"items": items, "cursors": cursors}


def tracker_part(state: dict, tracker: str) -> dict:
    return {"items": {k: v for k, v in state["items"].items() if k[0] == tracker},
            "cursors": state["cursors"][tracker]}


def check_cursors_behind_data(state: dict) -> None:
    """A cursor never points past what the store holds: its instant is at most the newest stored item."""
    for tracker, cursors in state["cursors"].items():
        stored = [item.updated for key, item in state["items"].items() if key[0] == tracker]
        newest = max(stored) if stored else None
        for scope, (updated, _etag) in cursors.items():
            if updated is None:
                continue
            assert newest is not None, f"{tracker} cursor {scope} is set but nothing is stored"
            assert updated <= newest, (
                f"{tracker} cursor {scope} at {updated} is past the newest stored item {newest}")


def owned_labels(sandbox) -> dict[tuple[str, str], frozenset[str]]:
    """The labels inside the owned prefix on every issue, read from the sandbox's own state."""
    state = sandbox.state
    with state.lock:
        found = {("jira", i.key): frozenset(x for x in i.labels if x.startswith(PREFIX))
                 for i in state.jira_issues.values() if not getattr(i, "deleted", False)}
        for repo, issues in state.gh_issues.items():
            for n, i in issues.items():
                found[("github", f"{repo}#{n}")] = frozenset(x for x in i.labels if x.startswith(PREFIX))
    return {k: v for k, v in found.items() if v}


def accepted_label_writes(sandbox) -> Counter:
    """Accepted (2xx) label-writing requests per (method, path): more than one on a path is a duplicate."""
    return Counter((r.method, r.path) for r in sandbox.log
                   if r.endpoint_name in LABEL_WRITES and 200 <= r.status < 300)


def duplicates(sandbox) -> dict:
    return {k: n for k, n in accepted_label_writes(sandbox).items() if n > 1}


def writes_to(sandbox, tracker: str) -> int:
    return sum(1 for r in sandbox.log if r.endpoint_name in LABEL_WRITES and TRACKER_OF_FLAVOUR[r.flavour] == tracker)


def failure_lines(result: Result) -> list[str]:
    return [line for line in result.text.splitlines() if line.startswith("plansync: tracker ")]


def assert_no_traceback(result: Result) -> None:
    assert "Traceback (most recent call last)" not in result.text, str(result)


def record(fault: str, outcome: str, lost: int = 0) -> None:
    """Append a row for the closing table when PLANSYNC_RELIABILITY_TABLE names a file (off by default)."""
    path = os.environ.get(TABLE_ENV)
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"fault": fault, "outcome": outcome, "lost": lost}) + "\n")


class TcpProxy:
    """A loopback TCP proxy (threads + sockets) in front of a server; `cut()` drops every open
    connection at once, as a database restart would, and keeps accepting new ones."""

    def __init__(self, target: tuple[str, int], tls=None):
        import socket
        import threading

        self.target, self.tls = target, tls  # tls: an ssl.SSLContext to terminate TLS on the client side
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set = set()
        self._lock = threading.Lock()
        self._closed = False
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading

        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client) -> None:
        import socket
        import threading

        try:
            if self.tls is not None:
                client = self.tls.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(self.target)
        except OSError:  # a client refusing our certificate ends here (ssl.SSLError is an OSError)
            client.close()
            return
        with self._lock:
            self._open.update((client, upstream))
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source, sink) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            self._close(source)
            self._close(sink)

    def _close(self, sock) -> None:
        import socket

        with self._lock:
            self._open.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self) -> int:
        with self._lock:
            victims = list(self._open)
        for sock in victims:
            self._close(sock)
        self.cuts += 1
        return len(victims)

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.cut()
