"""Render deploy/nginx.conf for a listen address and the app instances behind it.

    python deploy/nginx.py --listen 80 --upstream 127.0.0.1:8001 --upstream 127.0.0.1:8002 \
        > /etc/vaka/nginx.conf
    nginx -c /etc/vaka/nginx.conf -p /var/lib/vaka-nginx/

The body size limit comes from config.py's MAX_CONTENT_LENGTH, so the two cannot drift.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import Config  # noqa: E402

TEMPLATE = ROOT / "deploy" / "nginx.conf"
STATIC_DIR = ROOT / "app" / "static"
MIME_TYPES = Path("/etc/nginx/mime.types")
#: Passive health: failures within FAIL_TIMEOUT that take an instance out for as long.
MAX_FAILS = 3
FAIL_TIMEOUT = "10s"


def render(listen: str, upstreams: Sequence[str], static_dir: Path = STATIC_DIR,
           mime_types: Path = MIME_TYPES) -> str:
    """The config text: nginx on `listen` (port or address:port) in front of `upstreams`."""
    if not upstreams:
        raise ValueError("at least one upstream (address:port) is needed")
    servers = "\n".join(f"        server {upstream} max_fails={MAX_FAILS} "
                        f"fail_timeout={FAIL_TIMEOUT};" for upstream in upstreams)
    values = {"LISTEN": listen, "UPSTREAM_SERVERS": servers, "STATIC_DIR": str(static_dir),
              "MIME_TYPES": str(mime_types),
              "MAX_BODY": f"{Config.MAX_CONTENT_LENGTH // 1024}k"}
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="80", help="port or address:port (default 80)")
    parser.add_argument("--upstream", action="append", required=True,
                        help="an app instance, address:port; give two or more")
    parser.add_argument("--static-dir", type=Path, default=STATIC_DIR)
    parser.add_argument("--mime-types", type=Path, default=MIME_TYPES)
    args = parser.parse_args()
    sys.stdout.write(render(args.listen, args.upstream, args.static_dir, args.mime_types))


if __name__ == "__main__":
    main()
