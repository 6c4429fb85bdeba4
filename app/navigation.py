"""Redirect targets that stay on this site."""

from urllib.parse import urlsplit

from flask import url_for


def safe_next_url(target: str | None, default_endpoint: str = "reports.new") -> str:
    """Return `target` if it is a path on this site, else the default page.

    Rejects absolute URLs, scheme-relative ``//host`` and backslash tricks that
    browsers treat as another host.
    """
    if target:
        target = target.strip()
        parts = urlsplit(target)
        if (target.startswith("/") and not target.startswith(("//", "/\\"))
                and not parts.scheme and not parts.netloc and "\\" not in target):
            return target
    return url_for(default_endpoint)
