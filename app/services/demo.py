"""Demo data for trying Vaka out: units of a hospital, accounts and reports.

Only ever loaded into an empty database, by `make run`'s demo step.
"""

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from app.services import ServiceError
from app.services.classification import reclassify_missing
from app.services.reports import ReportDraft, new_report
from app.services.units import ensure_units
from app.services.users import create_user
from ml.corpus import load_corpus
from models import Area, Impact, Kind, Report, Role, Status, Unit, User, db, transaction, utcnow

DEMO_UNITS = [
    "Akutmottagningen", "Avdelning 12 Kardiologi", "Avdelning 21 Ortopedi",
    "Barnakuten", "BB och förlossning", "Geriatrik avdelning 5", "Infektionskliniken",
    "Intensivvårdsavdelningen (IVA)", "Kirurgavdelning 34", "Klinisk kemi (laboratoriet)",
    "Onkologen dagvård", "Operation centralt", "Psykiatrisk akutvård", "Röntgen",
    "Vårdcentralen Norr",
]
DEMO_ROLES = [Role.COORDINATOR, Role.RESEARCHER, Role.ADMIN, Role.STAFF]
#: One in this many demo reports is anonymous (each costs a slow receipt hash).
ANONYMOUS_EVERY = 10
DEMO_DAYS = 60


class DemoError(ServiceError):
    pass


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str


@dataclass(frozen=True)
class DemoData:
    units: int
    accounts: list[DemoAccount]
    reports: int
    classified: int


def database_is_empty() -> bool:
    return not any(db.session.scalar(select(func.count()).select_from(model))
                   for model in (User, Report))


def load_demo_data(report_count: int, seed: int = 7) -> DemoData:
    if not database_is_empty():
        raise DemoError("the database already has users or reports")
    units = ensure_units(DEMO_UNITS)
    accounts = [DemoAccount(role, f"{role}@vaka.example", secrets.token_urlsafe(12))
                for role in DEMO_ROLES]
    users = {a.role: create_user(a.email, a.password, a.role) for a in accounts}
    _create_reports(report_count, users[Role.STAFF], random.Random(seed))
    return DemoData(units=units, accounts=accounts, reports=report_count,
                    classified=reclassify_missing())


def _create_reports(count: int, reporter: User, rng: random.Random) -> None:
    texts = [example.text for example in load_corpus()]
    unit_ids = list(db.session.scalars(select(Unit.id)))
    now = utcnow()
    with transaction():
        for number in range(count):
            submitted = now - timedelta(days=rng.random() * DEMO_DAYS)
            draft = ReportDraft(
                kind=rng.choice([Kind.INCIDENT, Kind.INCIDENT, Kind.FEEDBACK]),
                text=rng.choice(texts),
                occurred_at=(submitted - timedelta(hours=rng.random() * 48)).replace(
                    second=0, microsecond=0),
                unit_id=rng.choice(unit_ids), area=rng.choice(list(Area)),
                impact=rng.choice([Impact.NONE, Impact.NONE, Impact.NEAR_MISS,
                                   Impact.UNKNOWN, Impact.HARM]),
                suggestion=None, submission_token=secrets.token_urlsafe(24))
            anonymous = number % ANONYMOUS_EVERY == 0
            report = new_report(draft, None if anonymous else reporter, submitted)
            report.status = rng.choice([Status.NEW, Status.NEW, Status.NEW, Status.TRIAGED,
                                        Status.IN_PROGRESS, Status.RESOLVED])
            db.session.add(report)
