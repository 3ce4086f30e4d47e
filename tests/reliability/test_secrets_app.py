"""The GitHub App's private key (and the installation tokens and JWTs made from it) never leak: every
command at debug level, text and JSON logs, healthy and failing (refused JWTs, server errors), leaves them
out of stdout/stderr, reports, metrics files, every store row and every object's repr or exception."""

from __future__ import annotations

import pytest

from connector.sandbox import github_app
from tests.access.configs import as_github_app, via_gateway
from tests.reliability.harness import assert_no_traceback, record
from tests.reliability.test_secrets import COMMANDS, _store_dump

KEY = github_app.private_key_pem()
# the whole PEM, and each line of its body (a fragment is as bad as the whole)
FRAGMENTS = {"private key": KEY, **{f"private key line {n}": line for n, line in enumerate(KEY.splitlines())
                                    if not line.startswith("-----")}}


def _secrets(sandbox) -> dict[str, str]:
    minted = {f"installation token {n}": t for n, t in enumerate(github_app.app_state(sandbox).tokens)}
    return FRAGMENTS | minted | {"jira scoped token": "sandbox-jira-scoped-token"}


def _leaks(text: str, where: str, secrets: dict[str, str]) -> list[str]:
    return [f"{name} in {where}" for name, value in secrets.items() if value in text]


def _everything_written(ws, secrets) -> list[str]:
    found = _leaks(_store_dump(ws.folder / "plansync.db"), "the store", secrets)
    for path in ws.folder.rglob("*"):
        if path.is_file() and path.suffix != ".db" and not path.name.startswith("plansync.db"):
            found += _leaks(path.read_text(errors="replace"), str(path.relative_to(ws.folder)), secrets)
    return found


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_command_leaks_the_private_key_at_debug_level(log_format, workspace):
    ws = workspace()
    ws.env.update(as_github_app(ws.config))
    ws.env.update(via_gateway(ws.config, ws.sandbox))
    ws.env["PLANSYNC_REPORT__FORMATS"] = '["md", "html", "json"]'
    github_app.app_state(ws.sandbox).token_lifetime = 600
    ws.sandbox.tick_seconds = 10  # tokens are renewed during the runs: the renewal paths log too
    texts, outputs = [], 0
    for faults in ("none", "jwt refused", "server errors"):
        if faults == "jwt refused":  # error paths: the app's JWT refused when minting, server errors
            ws.sandbox.faults.add(preset="github_token_revoked", path=r"^/github/app/", times=None)
        elif faults == "server errors":
            ws.sandbox.faults.add(preset="500", path=r"^/github/repos/", after=1, times=None)
        for command in COMMANDS:
            result = ws.main(*command, global_args=("--log-level", "debug", "--log-format", log_format,
                                                    "--metrics-file", str(ws.folder / "plansync.prom")))
            assert_no_traceback(result)
            assert result.code in (0, 1), str(result)
            outputs += len(result.text.splitlines())
            texts.append((f"output of {' '.join(command)} (faults={faults})", result.text))
        ws.sandbox.faults.clear()
    secrets = _secrets(ws.sandbox)
    assert len(github_app.app_state(ws.sandbox).minted) >= 2 and len(secrets) > len(FRAGMENTS) + 1
    assert outputs > 100, "debug logging produced almost nothing: the search would be vacuous"
    assert any("GitHub refused the app's JWT" in text for _, text in texts)  # the refusal path did run
    leaks = [leak for where, text in texts for leak in _leaks(text, where, secrets)]
    leaks += _everything_written(ws, secrets)
    assert (ws.folder / "plansync.prom").is_file()
    assert not leaks, leaks
    record(f"secrets: GitHub App key and tokens, every command at debug ({log_format} logs), with and without "
           "faults", f"{3 * len(COMMANDS)} runs, 0 leaks", 0)


def test_no_private_key_in_a_real_process_output_either(workspace):
    ws = workspace()
    ws.env.update(as_github_app(ws.config))
    ws.sandbox.faults.add(preset="github_token_revoked", path=r"^/github/app/installations/", after=0, times=None)
    result = ws.cli("run", global_args=("--log-level", "debug"))
    assert result.code == 1, str(result)
    assert "GitHub refused the app's JWT" in result.text
    assert not _leaks(result.text, "the process output", FRAGMENTS) + _everything_written(ws, FRAGMENTS)


def test_no_private_key_in_reprs_or_exceptions(sandbox, monkeypatch):
    from connector.errors import FatalAPIError
    from connector.trackers.github.adapter import GithubAdapter
    from connector.trackers.github.config import GithubTrackerSettings
    from connector.trackers.github.mapping import load_github_mapping
    from connector.trackers.github.scopes import GithubScope
    from connector.values import PullSpec

    monkeypatch.setenv("APP_KEY", KEY)
    monkeypatch.setenv("PLANSYNC_NOW", sandbox.clock.now().isoformat())
    tracker = GithubTrackerSettings(kind="github", url=sandbox.github_url, app_id=github_app.APP_ID,
                                    private_key_env="APP_KEY")
    tracker._name = "gh"
    adapter = GithubAdapter(tracker, load_github_mapping())
    github_app.app_state(sandbox).uninstalled.add("acme/infra")
    try:
        adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo="acme/checkout-web"),), cursors={}, full=True))
        with pytest.raises(FatalAPIError) as caught:
            adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo="acme/infra"),), cursors={}, full=True))
        texts = [repr(tracker), str(tracker.model_dump()), repr(adapter.http.app), repr(adapter.http._bearer),
                 repr(adapter.http.app._auth), repr(caught.value), str(caught.value),
                 repr(adapter.http.app._tokens)]
    finally:
        adapter.close()
    secrets = _secrets(sandbox)
    assert len(secrets) > len(FRAGMENTS) + 1  # a token was minted: the search covers it
    assert not [leak for text in texts for leak in _leaks(text, "a repr", secrets)]
