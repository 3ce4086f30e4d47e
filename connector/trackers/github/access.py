"""Who plansync is on a GitHub and what it may do: the identity `doctor` shows (a token's user, or a GitHub
App and its installations), and the permissions it checks before the first write.
"""

from __future__ import annotations

from urllib.parse import urlparse

from connector.values import Identity


def deployment_of(url: str) -> str:
    return "github.com" if (urlparse(url).hostname or "") == "api.github.com" else "enterprise"


def app_identity(adapter, repos: list[str] = ()) -> Identity:
    """A GitHub App: GET /app with its JWT, then one installation token per owner of the plan's repos."""
    tokens = adapter.http.app
    about = tokens.app()
    installations = []
    for repo in repos:
        owner, _, name = repo.partition("/")
        installations.append(f"{owner}: installation {tokens.installation(owner, name)}")
    detail = f"API version {adapter.tracker.api_version}"
    if installations:
        detail += "; " + ", ".join(dict.fromkeys(installations))
    return Identity(tracker=adapter.name, user=f"{about['slug']}[bot] (GitHub App {tokens.app_id})",
                    deployment=deployment_of(adapter.tracker.url), timezone=None, detail=detail)
