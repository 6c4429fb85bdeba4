"""Redirect targets that stay on this site."""

from urllib.parse import urlsplit

from flask import url_for


def safe_next_url(target: str | None, default_endpoint: str = "reports.new") -> str:
    """Return `target` if it is a path on this site, else the default page.

    Rejects absolute URLs, scheme-relative ``//host``, backslash tricks that
    browsers treat as another host, and control characters (a line break cannot
    go into a Location header).
    """
    if target and not any(ord(char) < 32 or ord(char) == 127 for char in target.strip()):
        target = target.strip()
        parts = urlsplit(target)
        if (target.startswith("/") and not target.startswith(("//", "/\\"))
                and not parts.scheme and not parts.netloc and "\\" not in target):
            return target
    return url_for(default_endpoint)
