"""A guard on following GitHub's `Link: rel="next"`: a server (or a proxy) whose next link leads back to
a page already read, or that serves the same page under ever new URLs, must fail the list, not loop.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from connector.errors import FatalAPIError

MAX_PAGES = 10_000  # 1,000,000 issues at 100 a page: no real repository's list is longer
LAST_SLACK = 50  # pages created while a list is read, beyond the `rel="last"` its first page gave


def _page(url: str) -> int | None:
    value = dict(parse_qsl(urlsplit(url).query)).get("page")
    return int(value) if value is not None and value.isdigit() else None


def _canonical(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    return parts.path.rstrip("/"), tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


class PageGuard:
    """Sees every page of one list in order; `next_page(url, data)` raises FatalAPIError naming the loop
    when the next link repeats a URL, goes back to an earlier page number, or a full page brings no
    entry not seen before; and when the list grows past a ceiling derived from its first page."""

    def __init__(self, tracker: str, what: str, first_url: str, *, last: int | None = None,
                 per_page: int = 100) -> None:
        self.tracker, self.what, self.per_page = tracker, what, per_page
        self.urls = {_canonical(first_url)}
        self.page = _page(first_url) or 1
        self.ids: set = set()
        self.pages = 1
        self.ceiling = min(MAX_PAGES, last + LAST_SLACK) if last else MAX_PAGES

    def _fail(self, why: str) -> None:
        raise FatalAPIError(self.tracker, f"{self.what}: the server's Link rel=\"next\" pagination loops ({why}); "
                                          "stopped following it, this list was not stored")

    def seen(self, data) -> None:
        """Entries of a page just read (the first one included); a full page of known ones is a loop."""
        if not isinstance(data, list):
            return
        ids = {entry.get("id") for entry in data if isinstance(entry, dict) and entry.get("id") is not None}
        if self.pages > 1 and len(data) >= self.per_page and ids and ids <= self.ids:
            self._fail(f"page {self.pages} holds only entries already read")
        self.ids |= ids

    def next_page(self, url: str) -> None:
        """Called before following `url`."""
        key = _canonical(url)
        if key in self.urls:
            self._fail(f"{url} was already read")
        number = _page(url)
        if number is not None and number <= self.page:
            self._fail(f"page {number} follows page {self.page}")
        self.pages += 1
        if self.pages > self.ceiling:
            self._fail(f"more than {self.ceiling} pages")
        self.urls.add(key)
        if number is not None:
            self.page = number


def page_number(url: str) -> int | None:
    """The `page` query parameter of a Link URL (1 when absent), or None when it is not a number."""
    value = dict(parse_qsl(urlsplit(url).query)).get("page", "1")
    return int(value) if value.isdigit() else None


def at_page(url: str, number: int) -> str:
    """The same Link URL asking for page `number` (every other parameter kept as GitHub sent it)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("page", str(number))])))
