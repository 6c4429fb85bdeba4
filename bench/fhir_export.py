"""Speed and memory of the FHIR AdverseEvent Bundle (`flask export fhir`), beside the CSV export.

    .venv/bin/python bench/fhir_export.py [--reports N] [--database URL] [--keep]

Fills a database as bench/export.py does, then runs `flask export fhir -o /dev/null` and
`flask export reports -o /dev/null`, each in a fresh process (start-up measured apart and
subtracted), and prints reports per second and peak resident memory (VmHWM). A Bundle is
streamed a batch at a time, so its memory should not grow with the number of reports.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.export import _child, fill_database  # noqa: E402
from bench.fill import log  # noqa: E402


def flask(url: str, *args: str) -> dict:
    argv = ["flask", "--app", "app", "export", *args]
    return _child(f"sys.argv = {argv!r}; from flask.cli import main; main()", url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--database", help="a database URL (default: a temporary SQLite file)")
    parser.add_argument("--keep", action="store_true", help="reuse the database if it is filled")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='vaka-bench-')}/bench.sqlite"
    if not args.keep:
        log(f"filling {url} with {args.reports:,} reports")
        fill_database(url, args.reports)
    startup = flask(url, "codebook")["wall"]
    print(f"{args.reports:,} reports on {url.split(':')[0]}")
    print(f"{'command':<16}{'reports/s':>10}{'seconds':>9}{'peak MB':>9}")
    for name, command in (("export fhir", ["fhir"]), ("export reports", ["reports"])):
        log(f"flask export {command[0]}")
        run = flask(url, *command, "--output", os.devnull)
        seconds = run["wall"] - startup
        print(f"{name:<16}{args.reports / seconds:>10,.0f}{seconds:>9.1f}{run['peak_mb']:>9.0f}")


if __name__ == "__main__":
    main()
