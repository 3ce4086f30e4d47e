"""Checks every request the sandbox receives and every answer it gives against the vendors' OpenAPI
descriptions (openapi-core, in process), when a Sandbox is made with validate=True; violations are
collected, those the descriptions get wrong are excused by spec_exceptions (and counted as waived).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import queue
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from werkzeug.datastructures import Headers, ImmutableMultiDict

from . import spec_exceptions

SPEC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "refdata" / "specs"
SPECS = {"github": ("github/api.github.com.octokit-openapi-23.0.2.json.gz", "https://api.github.com"),
         "jira-platform": ("jira/jira-platform.swagger-v3.v3.json", "https://your-domain.atlassian.net"),
         "jira-software": ("jira/jira-software.swagger.v3.json", "https://your-domain.atlassian.net")}
_LOADED: dict = {}
# openapi-core cannot check OAuth2 and says so on every request; basic auth and tokens are what it checks
warnings.filterwarnings("ignore", message="Unsupported scheme type", category=UserWarning)
_LOAD_LOCK = threading.Lock()


@dataclass(eq=False)  # hashed by identity, for the template cache
class Spec:
    name: str
    api: object
    server: str
    templates: list  # (regex, template), most literal first

    def template(self, path: str) -> tuple[str | None, dict]:
        """The description's path template for a concrete path, and its path parameters."""
        return _template(self, path)


@lru_cache(maxsize=8192)
def _template(spec: Spec, path: str) -> tuple[str | None, dict]:
    for rx, t in spec.templates:
        mt = rx.fullmatch(path)
        if mt:
            return t, dict(zip(re.findall(r"\{([^}]+)\}", t), mt.groups(), strict=True))
    return None, {}


def _fast_path_finding(api) -> None:
    """openapi-core finds a request's path by trying every template of the description on each request
    (GitHub's has 800): we already know the template, so its lookup is done once per operation."""
    for validator in (api.request_validator, api.response_validator):
        original, found = validator._find_path, {}

        def find(request, original=original, found=found):
            pattern = getattr(request, "path_pattern", None)
            if pattern is None:
                return original(request)
            key = (request.method, pattern)
            if key not in found:
                found[key] = original(request)
            return found[key]
        validator._find_path = find


def load(name: str, spec_dir: Path = SPEC_DIR) -> Spec:
    """One compiled description per process: the Jira platform one is 2.4 MB of JSON."""
    key = (name, str(spec_dir))
    with _LOAD_LOCK:
        hit = _LOADED.get(key)
        if hit is None:
            from openapi_core import Config, OpenAPI

            rel, server = SPECS[name]
            path = spec_dir / rel
            raw = gzip.open(path).read() if rel.endswith(".gz") else path.read_bytes()
            data = spec_exceptions.patch(name, json.loads(raw))
            # The Jira descriptions do not pass openapi-spec-validator themselves; use them as they are.
            api = OpenAPI.from_dict(data, config=Config(spec_validator_cls=None))
            api.raw = data
            templates = sorted(data["paths"], key=lambda t: (t.count("{"), -len(t)))
            compiled = [(re.compile(re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(t))), t) for t in templates]
            _fast_path_finding(api)
            hit = _LOADED[key] = Spec(name, api, server, compiled)
        return hit


class _Request:
    def __init__(self, server, path, method, args, headers, body, content_type, template=None, variables=None):
        from openapi_core.datatypes import RequestParameters

        self.host_url, self.path, self.method = server, path, method.lower()
        if template:
            self.path_pattern = template
        self.parameters = RequestParameters(query=ImmutableMultiDict(args), header=Headers(headers),
                                            cookie=ImmutableMultiDict(), path=variables or {})
        self.body, self.content_type = body or None, content_type


class _Response:
    def __init__(self, status, headers, body):
        self.status_code, self.headers, self.data = status, Headers(headers), body
        self.content_type = self.headers.get("Content-Type", "").split(";")[0].strip()


@dataclass
class Violation:
    spec: str
    kind: str  # "request" or "response"
    method: str
    path: str
    status: int
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.method} {self.path} -> {self.status} [{self.spec}]: {self.message}"


@dataclass
class Tally:
    requests: int = 0
    responses: int = 0
    waived: int = 0
    unvalidated: int = 0  # no description covers it (Jira Server)
    seconds: float = 0.0  # spent validating
    violations: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.responses += other.responses
        self.waived += other.waived
        self.unvalidated += other.unvalidated
        self.seconds += other.seconds
        self.violations += other.violations


# Every validating sandbox in this process also adds here, so a test session can report one total.
PROCESS = Tally()


def spec_for(flavour: str, sub: str) -> str | None:
    if flavour == "github":  # GraphQL is checked by graphql-core against GitHub's schema (github_graphql)
        return None if sub == "/graphql" else "github"
    if flavour == "cloud" and sub.startswith("/rest/agile/"):
        return "jira-software"
    if flavour == "cloud" and sub.startswith(("/rest/api/3/", "/rest/api/2/", "/rest/api/latest/")):
        return "jira-platform"  # v2 against the v3 description: see spec_exceptions.V2_AS_V3
    return None  # Jira Server: no published description in refdata


def _messages(exc: Exception) -> list[str]:
    cause = exc.__cause__
    errors = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None)
    head = f"{type(exc).__name__}: {str(exc)[:200]}"
    if errors:
        head = type(exc).__name__
        return [f"{head} at {'/'.join(str(x) for x in e.absolute_path) or '(root)'}: {str(e).splitlines()[0][:300]}"
                for e in errors[:5]]
    return [head + (f" ({str(cause)[:300]})" if cause else "")]


_SEEN: dict = {}  # answers already validated: (spec, method, template, status, type, sha1) -> messages
_QUEUE: queue.Queue = queue.Queue()
_WORKER: list = []


def _work() -> None:
    while True:
        validator, args, kwargs = _QUEUE.get()
        try:
            validator.check(*args, **kwargs)
        except Exception as e:  # a validator bug must show up as a failure, not vanish with the thread
            crash = Violation("-", "validator", args[1], args[2], args[6], repr(e))
            for tally in (validator._tally, PROCESS):
                with tally.lock:
                    tally.violations.append(crash)
        finally:
            _QUEUE.task_done()


def drain() -> None:
    """Wait until every exchange submitted so far has been validated."""
    _QUEUE.join()


class Validator:
    """Validates exchanges; thread-safe (the sandbox server is threaded). `submit` validates later, on one
    background thread, so the client is answered first; `check` validates now."""

    def __init__(self, spec_dir: Path = SPEC_DIR, *, shared: bool = True):
        self.spec_dir, self.shared = spec_dir, shared
        self._tally = Tally()
        for name in SPECS:  # load up front, so the first request is not the slow one
            load(name, spec_dir)

    @property
    def tally(self) -> Tally:
        drain()
        return self._tally

    def submit(self, *args, **kwargs) -> None:
        with _LOAD_LOCK:
            if not _WORKER:
                _WORKER.append(threading.Thread(target=_work, name="openapi-validation", daemon=True))
                _WORKER[0].start()
        _QUEUE.put((self, args, kwargs))

    def check(self, flavour: str, method: str, sub: str, args, req_headers, req_body: bytes,
              status: int, resp_headers: dict, resp_body: bytes, *, response: bool = True) -> list[Violation]:
        name = spec_for(flavour, sub)
        local = Tally()
        started = time.perf_counter()
        if name is None:
            local.unvalidated += 1
        else:
            spec = load(name, self.spec_dir)
            if name == "jira-platform" and not sub.startswith("/rest/api/3/"):
                sub = "/rest/api/3/" + sub.split("/", 4)[4]  # v2 and latest (= v2) against v3
            template, variables = spec.template(sub)
            ctype = (req_headers.get("Content-Type") or "").split(";")[0].strip()
            req = _Request(spec.server, sub, method, args, req_headers, req_body, ctype, template, variables)
            template = template or sub
            found = []
            local.requests += 1
            try:
                spec.api.validate_request(req)
            except Exception as e:  # openapi-core raises one exception type per kind of problem
                found += [("request", m) for m in _messages(e)]
            if response:
                local.responses += 1
                found += [("response", m) for m in self._response(spec, req, template, status, resp_headers,
                                                                  resp_body)]
            for kind, msg in found:
                code = "" if kind == "request" else str(status)
                if spec_exceptions.waiver_for(name, method, template, code, msg):
                    local.waived += 1
                else:
                    local.violations.append(Violation(name, kind, method, sub, status, msg))
        local.seconds = time.perf_counter() - started
        with self._tally.lock:
            self._tally.add(local)
        if self.shared:
            with PROCESS.lock:
                PROCESS.add(local)
        return local.violations

    def _response(self, spec, req, template, status, headers, body) -> list[str]:
        # The same answer again (plansync re-reads unchanged pages run after run) is not re-validated:
        # a 100-issue page costs about 0.1 s of schema checks.
        ctype = headers.get("Content-Type", "")
        key = (spec.name, req.method, template, status, ctype, hashlib.sha1(body).digest())
        hit = _SEEN.get(key)
        if hit is None:
            try:
                spec.api.validate_response(req, _Response(status, headers, body))
                hit = ()
            except Exception as e:
                hit = tuple(_messages(e))
            if len(_SEEN) > 20000:
                _SEEN.clear()
            _SEEN[key] = hit
        return list(hit)

    @property
    def violations(self) -> list[Violation]:
        return list(self.tally.violations)
