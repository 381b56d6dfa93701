"""Shared by the browser tests' fixtures and tests: a page that may reach only this machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: What a test page may load: this machine's servers and inline data. Anything else (a CDN script
#: in an nbconvert page, a news feed) is refused and listed in ``BrowserPage.blocked``.
LOCAL_URL_PREFIXES = ("http://127.0.0.1:", "http://localhost:", "file://", "data:", "blob:")


@dataclass
class BrowserPage:
    """A Playwright page plus what it tried to fetch from outside this machine."""

    page: Any
    blocked: list[str] = field(default_factory=list)

    def route_local_only(self, route: Any) -> None:
        """Playwright route handler: let local requests through, refuse and record the rest."""
        url = route.request.url
        if url.startswith(LOCAL_URL_PREFIXES):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")
