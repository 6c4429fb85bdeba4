"""Fill a database with many realistic reports, for the benchmarks.

Texts come from the bundled corpus (scrubbed once, as submission does); the
reports spread over two years across 40 units. Older reports are mostly
finished, recent ones mostly open; a third carry a risk assessment (and so a
due time), coordinators hold the triaged ones, and one in twenty belongs to
one of 60 known issues. Inserts go in batches straight through SQLAlchemy
Core, so a million reports take minutes, not hours.
"""

import random
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNITS = 40
COORDINATORS = 4
KNOWN_ISSUES = 60
DAYS = 700
BATCH = 20_000
PASSWORD = "bench password that is long enough 42"
LAST_DAY = date(2026, 11, 28)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _status(age_days: int, rng: random.Random) -> str:
    roll = rng.random()
    if age_days > 30:
        return ("closed" if roll < 0.55 else "resolved" if roll < 0.85
                else "duplicate" if roll < 0.88 else "rejected" if roll < 0.90
                else "in_progress" if roll < 0.95 else "triaged")
    return ("new" if roll < 0.6 else "triaged" if roll < 0.8
            else "in_progress" if roll < 0.9 else "resolved")


def report_rows(count: int, units: list[int], coordinators: list[int], issues: list[int],
                seed: int = 1) -> Callable[[], list[dict]]:
    """A function returning the next batch of report rows (empty when all are made)."""
    from app.services.identifiers import deidentified_columns
    from app.services.workflow import due_hours
    from ml.corpus import load_corpus
    from models import OPEN_STATUSES, Report

    rng = random.Random(seed)
    corpus = load_corpus()
    scrubbed = [deidentified_columns(e.text, None)["text_deidentified"] for e in corpus]
    made = 0

    def next_batch() -> list[dict]:
        nonlocal made
        rows = []
        while made < count and len(rows) < BATCH:
            made += 1
            index = rng.randrange(len(corpus))
            example = corpus[index]
            age = DAYS - made * DAYS // count
            day = LAST_DAY - timedelta(days=age)
            arrival = datetime.combine(day, datetime.min.time()) + timedelta(
                minutes=rng.randrange(1440))
            status = _status(age, rng)
            safety = rng.random()
            consequence = likelihood = risk = due = None
            if rng.random() < 0.35:
                consequence, likelihood = rng.randint(1, 4), rng.randint(1, 4)
                risk = consequence * likelihood
                due = arrival + timedelta(hours=due_hours(risk))
            triaged = None if status == "new" else arrival + timedelta(hours=rng.randint(1, 72))
            rows.append({
                "kind": "incident" if made % 3 else "feedback", "text": example.text,
                "text_deidentified": scrubbed[index], "identifiers_found": 0,
                "suggestion": None, "suggestion_deidentified": None,
                "occurred_at": arrival - timedelta(minutes=rng.randrange(600)),
                "unit_id": rng.choice(units), "area": rng.choice(
                    ["medication", "test_results", "records", "ordering", "login", "printing",
                     "integrations", "other"]),
                "impact": rng.choice(["none", "none", "near_miss", "harm", "unknown"]),
                "language": example.lang if example.lang in ("sv", "en") else "sv",
                "reporter_id": None, "receipt_hash": "x", "submission_token": f"bench-{made}",
                "status": status, "submitted_on": day, "submitted_at": None,
                "submitted_hour": arrival.replace(minute=0, second=0, microsecond=0),
                "triaged_at": triaged,
                "finished_at": None if status in OPEN_STATUSES else triaged + timedelta(days=2),
                "assignee_id": rng.choice(coordinators) if triaged else None,
                "known_issue_id": rng.choice(issues) if rng.random() < 0.05 else None,
                "consequence": consequence, "likelihood": likelihood, "risk_score": risk,
                "risk_confirmed": risk is not None and status != "new", "due_at": due,
                "priority": Report.priority_for(risk, safety),
                "score_safety": safety, "score_training": rng.random(),
                "score_functionality": rng.random(), "is_safety": "safety" in example.labels,
                "is_training": "training" in example.labels,
                "is_functionality": "functionality" in example.labels,
                "labels_reviewed": False, "needs_review": rng.random() < 0.1,
            })
        return rows

    return next_batch


def fill(count: int, seed: int = 1, accounts: dict[str, str] | None = None) -> None:
    """Drop and create the tables of the current app's database, then add `count` reports.

    `accounts` maps e-mail to role for extra users the benchmark logs in with
    (password `PASSWORD`). Needs an app context.
    """
    from sqlalchemy import insert, select

    from models import KnownIssue, Report, Unit, User, db

    db.drop_all()
    db.create_all()
    users = [User(email=f"coordinator{n}@bench.example", role="coordinator")
             for n in range(COORDINATORS)]
    users += [User(email=email, role=role) for email, role in (accounts or {}).items()]
    for user in users:
        user.set_password(PASSWORD)
    db.session.add_all(users)
    db.session.add_all(Unit(name=f"Avdelning {number}") for number in range(1, UNITS + 1))
    db.session.flush()
    db.session.add_all(
        KnownIssue(title=f"Känt fel {number}", created_by_id=users[0].id,
                   status="resolved" if number % 3 == 0 else "open",
                   resolution_note="Åtgärdat av leverantören." if number % 3 == 0 else None,
                   resolved_at=datetime(2026, 6, 1) if number % 3 == 0 else None)
        for number in range(1, KNOWN_ISSUES + 1))
    db.session.commit()
    units = list(db.session.scalars(select(Unit.id)))
    issues = list(db.session.scalars(select(KnownIssue.id)))
    next_batch = report_rows(count, units, [u.id for u in users[:COORDINATORS]], issues, seed)
    made = 0
    while rows := next_batch():
        db.session.execute(insert(Report), rows)
        db.session.commit()
        made += len(rows)
        log(f"  {made:,} reports")
