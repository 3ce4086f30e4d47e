"""The WSGI app: one werkzeug server, three API bases (/jira, /jira-server, /github) and /_sandbox controls.

Order per request: faults → auth → (GitHub budget) → handler → ETag/304 → body faults → log.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time

from werkzeug.wrappers import Request, Response

from . import (  # noqa: F401  (they register routes)
    github_api,
    github_app,
    github_graphql,
    github_hierarchy,
    github_limits,
    github_work,
    gitlab_api,
    jira_access,
    jira_agile,
    jira_api,
    jira_bulk,
    jira_work,
)
from .faults import RequestRecord
from .wire import BadRequest, Req, Resp, json_resp

JIRA_EMAIL = "plansync-bot@example.com"
JIRA_TOKEN = "sandbox-jira-token"
JIRA_PAT = "sandbox-jira-pat"
GITHUB_TOKEN = "sandbox-github-token"
# A Jira Cloud service account: its scoped API token works only through the API gateway
# (/ex/jira/{cloudId}/rest/...); the site path (/jira/rest/...) answers 401 to it, as Atlassian does.
JIRA_SERVICE_EMAIL = jira_access.SERVICE_EMAIL
JIRA_SCOPED_TOKEN = jira_access.SCOPED_TOKEN
# Jira answers serverInfo (and _edge/tenant_info) without credentials (wrong credentials still get 401).
ANONYMOUS = {"jira.server_info", "jira.tenant_info"}
PREFIXES = (("/jira-server", "server"), ("/jira", "cloud"), ("/github", "github"), gitlab_api.PREFIX)
_GATEWAY = re.compile(r"/ex/jira/([^/]+)")


def _flavour(path: str) -> tuple[str, str, str]:
    gateway = _GATEWAY.match(path)
    if gateway and gateway.group(1) == jira_access.CLOUD_ID:
        return "cloud", gateway.group(0), path[gateway.end():] or "/"
    for prefix, flavour in PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return flavour, prefix, path[len(prefix):] or "/"
    return "", "", path


def _auth_ok(flavour: str, header: str, gateway: bool = False) -> bool:
    scheme, _, cred = header.partition(" ")
    scheme = scheme.lower()
    if flavour == "github":
        return scheme in ("token", "bearer") and cred == GITHUB_TOKEN
    if scheme == "basic":
        try:
            user = base64.b64decode(cred).decode()
        except ValueError:
            return False
        return user == f"{JIRA_EMAIL}:{JIRA_TOKEN}" or (gateway and user == f"{JIRA_SERVICE_EMAIL}:{JIRA_SCOPED_TOKEN}")
    return flavour == "server" and scheme == "bearer" and cred == JIRA_PAT


def _unauthorized(flavour: str) -> Resp:
    if flavour == "gitlab":
        return gitlab_api.unauthorized()
    if flavour == "github":
        return github_api.gh_error(401, "Bad credentials")
    if flavour == "cloud":
        # Jira Cloud answers a bad API token with this plain-text body.
        return Resp(401, b"Client must be authenticated to access this resource.",
                    {"Content-Type": "text/html;charset=UTF-8",
                     "WWW-Authenticate": 'Basic realm="protected-by-api-token"'})
    return json_resp({"errorMessages": ["You are not authenticated. Authentication required to perform this "
                                        "operation."], "errors": {}}, 401,
                     {"WWW-Authenticate": 'OAuth realm="http%3A%2F%2Flocalhost"'})


class App:
    def __init__(self, sb):
        self.sb = sb

    def __call__(self, environ, start_response):
        request = Request(environ)
        resp = self.handle(request, environ)
        response = Response(resp.body, status=resp.status, headers=resp.headers)
        if resp.status in (204, 304):  # no body, so no Content-Type (werkzeug would add text/plain)
            response.headers.pop("Content-Type", None)
        if self.sb.validator is not None and resp.endpoint != "_sandbox":
            self._validate(request, resp, response)
        return response(environ, start_response)

    def _validate(self, request: Request, resp: Resp, response: Response) -> None:
        flavour, _, sub = _flavour(request.path)
        if not flavour or resp.status == 0:
            return
        # An injected fault's answer is off-spec on purpose; the request that met it is still checked.
        self.sb.validator.submit(flavour, request.method, sub, request.args.copy(), dict(request.headers),
                                 request.get_data(cache=True), response.status_code, dict(response.headers),
                                 response.get_data(), response=not resp.faulted)

    def handle(self, request: Request, environ) -> Resp:
        sb = self.sb
        method = request.method
        flavour, prefix, sub = _flavour(request.path)
        if request.path.startswith("/_sandbox/"):
            # Control calls are not API cost; they stay out of the log and the counters.
            out = sb.control(method, request.path[len("/_sandbox"):], request)
            out.endpoint = "_sandbox"
            return out
        has_token = "nextPageToken" in request.args or b"nextPageToken" in request.get_data(cache=True)
        if flavour and sb.tick_seconds:  # time passes per request (tokens expiring mid-run, without sleeping)
            sb.clock.advance(seconds=sb.tick_seconds)
        fired = sb.faults.fire(method, request.path, flavour, has_token)
        delay = sb.latency_ms + sum(r.latency_ms for r in fired if r.kind == "latency")
        if delay:
            time.sleep(delay / 1000.0)
        if any(r.kind == "drop" for r in fired):
            self._log(request, Resp(0), flavour, "dropped")
            self._drop(environ)
            # werkzeug treats a ConnectionError from the app as a dropped connection and stays quiet.
            raise ConnectionAbortedError("sandbox fault: connection dropped")
        router = {"github": github_api.router, "gitlab": gitlab_api.router}.get(flavour, jira_api.router)
        if flavour == "gitlab":  # GitLab ids are URL-encoded paths: route on the path as sent
            sub = gitlab_api.raw_path(environ, request.path)[len(prefix):] or "/"
        name, fn, params = router.match(method, sub) if flavour else ("not_found", None, {})
        status_rule = next((r for r in fired if r.kind in ("status", "expired_token")), None)
        base = request.host_url.rstrip("/") + prefix
        if status_rule:
            resp = Resp(status_rule.status, status_rule.body_bytes(), dict(status_rule.headers))
            if status_rule.body is not None and not isinstance(status_rule.body, str | bytes):
                resp.headers.setdefault("Content-Type", "application/json; charset=utf-8")
            elif status_rule.body:  # proxies and Jira's auth filter answer with HTML/plain text
                resp.headers.setdefault("Content-Type", "text/html;charset=UTF-8")
        elif not flavour:
            resp = json_resp({"message": "Not Found"}, 404)
        elif not (gitlab_api.auth_ok(request.headers) if flavour == "gitlab"
                  else _auth_ok(flavour, request.headers.get("Authorization", ""), prefix.startswith("/ex/"))) and not (
                name in ANONYMOUS and not request.headers.get("Authorization")) and not (
                flavour == "github" and (name in github_app.JWT_ROUTES  # the handler verifies the app's JWT
                                         or github_app.token_ok(sb, request.headers.get("Authorization", ""), sub))):
            resp = _unauthorized(flavour)
        elif fn is None:
            resp = (github_api.not_found() if flavour == "github" else gitlab_api.not_found() if flavour == "gitlab"
                    else Resp(404 if name == "not_found" else 405, b""))
        elif flavour == "github" and sb.gh_exhausted(github_app.budget_key(sb, request.headers.get("Authorization", ""))) \
                and name not in ("github.rate_limit", "github.graphql"):
            resp = github_api.gh_error(403, "API rate limit exceeded for user ID 9000. If you reach out to GitHub "
                                       "Support for help, please include the request ID 1234:5678:ABCD.",
                                       "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                                       "#about-rate-limits")
        elif flavour == "github" and method not in ("GET", "HEAD") and sb.github_content_limits is not None \
                and (wait := sb.github_content_limits.admit(sb.clock.ts())) is not None:
            status, headers, body = github_limits.refusal(wait)
            resp = json_resp(body, status, headers=headers)
        else:
            try:
                with sb.state.lock:
                    resp = fn(sb, Req(request, method, sub, flavour, base), params)
            except BadRequest as e:
                resp = (github_api.gh_error(e.status, e.message) if flavour == "github" else
                        json_resp({"errorMessages": [e.message] if not e.errors else [], "errors": e.errors},
                                  e.status))
        if flavour == "github":
            self._github_headers(request, resp, name)
        elif flavour == "gitlab":
            gitlab_api.rate_headers(self.sb, request, resp)
        resp.faulted = bool(status_rule) or any(r.kind in ("truncate", "malformed") for r in fired)
        for r in fired:
            if r.kind == "truncate" and resp.body:
                resp.body = resp.body[: max(1, len(resp.body) // 2)]
            elif r.kind == "malformed":
                resp.body = b'{"issues": [{"id": "10001", "key": CHK-1,}'
        self._log(request, resp, flavour, name)
        return resp

    def _github_headers(self, request: Request, resp: Resp, name: str) -> None:
        sb = self.sb
        auth = github_app.budget_key(sb, request.headers.get("Authorization", ""))
        if resp.status == 200 and request.method in ("GET", "HEAD"):
            tag = github_api.etag(resp.body)
            resp.headers["ETag"] = tag
            resp.headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
            inm = request.headers.get("If-None-Match", "")
            if tag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
                resp.status, resp.body = 304, b""
        if name == "github.graphql":  # GraphQL spends points of its own budget (github_graphql sets the headers)
            resp.headers.setdefault("X-GitHub-Request-Id", "1234:5678:ABCD")
            return
        # 304s, /rate_limit and 401s do not count against the primary limit.
        spend = resp.status not in (304, 401) and name != "github.rate_limit" and \
            not (resp.status == 403 and "rate limit" in resp.body.decode("utf-8", "replace"))
        budget = sb.gh_budget(auth, spend=spend)
        if resp.headers.get("Content-Type", "").startswith("application/json"):
            resp.headers["Content-Type"] = "application/json; charset=utf-8"  # GitHub's spelling
        if auth.partition(" ")[2] == GITHUB_TOKEN and sb.github_token_scopes is not None:  # a classic token
            resp.headers["X-OAuth-Scopes"] = sb.github_token_scopes
            resp.headers["X-Accepted-OAuth-Scopes"] = "repo"
        resp.headers.update({
            "X-RateLimit-Limit": str(budget["limit"]), "X-RateLimit-Remaining": str(budget["remaining"]),
            "X-RateLimit-Reset": str(budget["reset"]), "X-RateLimit-Used": str(budget["used"]),
            "X-RateLimit-Resource": "core", "X-GitHub-Media-Type": "github.v3; format=json",
            "x-github-api-version-selected": "2022-11-28", "X-GitHub-Request-Id": "1234:5678:ABCD",
        })

    def _drop(self, environ) -> None:
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _log(self, request: Request, resp: Resp, flavour: str, name: str) -> None:
        self.sb.log_.add(RequestRecord(request.method, request.path, request.query_string.decode(), resp.status,
                                       flavour, name, self.sb.clock.ts()))


def serve(port: int = 8765, seed: int = 1, scale: int = 2000, host: str = "127.0.0.1",
          say=lambda line: None) -> None:
    """Run the sandbox in the foreground until interrupted (used by `plansync sandbox serve`, which
    passes `say` to print where everything is)."""
    from .core import Sandbox

    sb = Sandbox(seed=seed, scale=scale)
    url = sb.start(port=port, host=host)
    say(f"plansync sandbox on {url}")
    say(f"  Jira Cloud:   {sb.jira_url}   basic auth {JIRA_EMAIL} / {JIRA_TOKEN}")
    say(f"  Jira gateway: {url}/ex/jira/{jira_access.CLOUD_ID}   basic auth {JIRA_SERVICE_EMAIL} / {JIRA_SCOPED_TOKEN}"
        " (a service account's scoped token; the site path answers 401 to it)")
    say(f"  Jira Server:  {sb.jira_server_url}   bearer PAT {JIRA_PAT} (or the basic auth above)")
    key_file = github_app.write_private_key()
    say(f"  GitHub:       {sb.github_url}   token {GITHUB_TOKEN}, or GitHub App {github_app.APP_ID} with the private key "
        f"in {key_file} (generated for this process)")
    say(f"  GitLab:       {sb.gitlab_url}   PRIVATE-TOKEN {gitlab_api.TOKEN}")
    say(f"  Controls:     {url}/_sandbox/org, /requests, /counts, /faults, /clock, /simulate")
    try:
        sb.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()


def control_json(obj, status: int = 200) -> Resp:
    return Resp(status, json.dumps(obj, default=str).encode(), {"Content-Type": "application/json"})
