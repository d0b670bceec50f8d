"""Where signing in sends a person back to: a local path only (never off the hub, never
with a query), the page a form was on when its session ended."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from app.drafts import KEPT_PAGES

MAX_PATH = 300


def local_path(value: str | None) -> str | None:
    """``value`` if it is a path on this site (no scheme, host, query or fragment), else
    None: where a sign-in may send someone back to, so it can never lead off the hub. Paths
    hold ids, never names, so none carries personal data."""
    if not value or len(value) > MAX_PATH or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value or any(not ch.isprintable() for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.query or parts.fragment:
        return None
    return value


def form_page(request: Request) -> str | None:
    """The page a form was posted from: the Referer's path when it is this site's, else
    the form's own action if that is a page whose form is kept, else None."""
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc and parts.netloc == request.headers.get("host"):
            found = local_path(parts.path)
            if found is not None:
                return found
    path = request.url.path
    return path if KEPT_PAGES.fullmatch(path) else None
