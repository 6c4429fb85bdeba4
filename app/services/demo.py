"""Demo data for trying Vaka out: a hospital's units, accounts and a go-live story.

The story: twelve quiet weeks of mixed reports from every unit, worked through
by the coordination group (triaged, assigned, resolved or closed; one old fault
grouped and resolved as a known issue). Then, in the last few days, a new
version of the record system goes live and laboratory results stop reaching the
record in a few units: a burst of reports about that one fault, mostly still
new, the first of them grouped in an open known issue. The overview's spike
alerts fire on that fault's units, area and categories, and nowhere else.

Only ever loaded into an empty database, by `make run`'s demo step.
"""

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.services import ServiceError
from app.services.classification import reclassify_missing
from app.services.drafts import ReportDraft, new_report
from app.services.similarity import rebuild_index
from app.services.units import ensure_units
from app.services.users import create_user
from ml.corpus import load_corpus
from models import (
    Area,
    Impact,
    Kind,
    KnownIssue,
    Report,
    Role,
    Status,
    Unit,
    User,
    db,
    transaction,
    utcnow,
)

DEMO_UNITS = [
    "Akutmottagningen", "Avdelning 12 Kardiologi", "Avdelning 21 Ortopedi",
    "Barnakuten", "BB och förlossning", "Geriatrik avdelning 5", "Infektionskliniken",
    "Intensivvårdsavdelningen (IVA)", "Kirurgavdelning 34", "Klinisk kemi (laboratoriet)",
    "Onkologen dagvård", "Operation centralt", "Psykiatrisk akutvård", "Röntgen",
    "Vårdcentralen Norr",
]
#: The demo accounts: two coordinators share the triage work.
DEMO_ACCOUNTS = [
    (Role.COORDINATOR, "coordinator@vaka.example"),
    (Role.COORDINATOR, "coordinator2@vaka.example"),
    (Role.RESEARCHER, "researcher@vaka.example"),
    (Role.ADMIN, "admin@vaka.example"),
    (Role.STAFF, "staff@vaka.example"),
]
#: One in this many demo reports is anonymous (each costs a slow receipt hash).
ANONYMOUS_EVERY = 10
#: The quiet baseline covers the overview's twelve weeks.
DEMO_DAYS = 84
#: The go-live spike: its share of the reports, how many days ago it began, and where.
SPIKE_SHARE = 0.25
SPIKE_DAYS = 4
SPIKE_UNITS = ("Akutmottagningen", "Avdelning 12 Kardiologi", "Vårdcentralen Norr")
SPIKE_AREA = Area.TEST_RESULTS
SPIKE_ISSUE = "Lab results do not reach the record after the go-live"
#: A fault of the quiet weeks, grouped and resolved long ago.
OLD_ISSUE = "Wristband printer drops labels"
OLD_ISSUE_NOTE = ("The print server's queue was restarted and its driver updated; "
                  "wristbands print again.")
_TESTS = ("kalium", "CRP", "Hb", "troponin", "kreatinin", "INR", "blodgas", "laktat")
#: Reports of the spike: one fault told in many ways, in Swedish and English.
_SPIKE_TEXTS = (
    "Efter uppgraderingen syns inte provsvaret för {test} i journalen. Labbet bekräftar att "
    "svaret är klart sedan en timme, men vi ser det inte. Fick ringa labbet för att få värdet.",
    "Svar på {test} kom aldrig över till journalen efter att nya versionen gick live. "
    "Patienten fick vänta på behandling medan vi jagade svaret per telefon.",
    "Provsvar saknas i journalsystemet sedan driftstarten. {test} togs 07:30 och är "
    "analyserat enligt laboratoriet men visas inte i journalen. Risk att vi missar "
    "avvikande värden.",
    "Akut {test} beställdes men svaret dök inte upp i journalen. Först efter två timmar "
    "upptäckte vi att det fanns ett kritiskt värde hos labbet.",
    "Labbsvar ({test}) når inte journalen sedan i måndags. Vi har börjat skriva av svar "
    "från labbets system för hand, vilket tar tid och kan ge fel.",
    "The {test} result never reached the patient record after the new version went live. "
    "The lab had reported it hours earlier; we only found it by phoning them.",
    "Since the go-live, lab results such as {test} are missing from the record. We could "
    "not see a critical value and the doctor almost discharged the patient.",
    "Integrationen mellan labbsystemet och journalen verkar ha slutat fungera: inga svar på "
    "{test} sedan uppdateringen. Vi vet inte vilka svar som saknas.",
)
_OLD_ISSUE_TEXT = ("Skrivaren för id-band skriver inte ut. Jobben försvinner ur kön och "
                   "patienten fick vänta utan id-band på avdelningen.")


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
    accounts = [DemoAccount(role, email, secrets.token_urlsafe(12))
                for role, email in DEMO_ACCOUNTS]
    users = [create_user(a.email, a.password, a.role) for a in accounts]
    story = _Story(random.Random(seed), utcnow(),
                   staff=next(u for u in users if u.role == Role.STAFF),
                   coordinators=[u for u in users if u.role == Role.COORDINATOR])
    story.tell(report_count)
    rebuild_index()
    return DemoData(units=units, accounts=accounts, reports=report_count,
                    classified=reclassify_missing())


class _Story:
    """Writes the go-live story's reports, with what the coordinators did about them."""

    def __init__(self, rng: random.Random, now: datetime, staff: User,
                 coordinators: list[User]) -> None:
        self.rng, self.now, self.staff, self.coordinators = rng, now, staff, coordinators
        self.units = dict(db.session.execute(select(Unit.name, Unit.id)).all())
        self.texts = [example.text for example in load_corpus()]
        self.number = 0

    def tell(self, count: int) -> None:
        spike = round(count * SPIKE_SHARE)
        old_issue = spike_issue = None
        with transaction():
            if count:
                old_issue = self._issue(OLD_ISSUE, DEMO_DAYS - 20)
                old_issue.resolve(OLD_ISSUE_NOTE, now=self.now - timedelta(days=DEMO_DAYS - 40))
            if spike:
                spike_issue = self._issue(SPIKE_ISSUE, SPIKE_DAYS - 1)
            for number in range(count - spike):
                grouped = number < 5
                report = self._baseline(old_issue if grouped else None)
                if grouped:
                    self._work(report, finished=Status.DUPLICATE if number else Status.RESOLVED)
            for number in range(spike):
                self._spike(spike_issue if number % 3 else None)

    def _issue(self, title: str, days_ago: float) -> KnownIssue:
        issue = KnownIssue(title=title, created_by_id=self.coordinators[0].id,
                           created_at=self.now - timedelta(days=days_ago))
        db.session.add(issue)
        return issue

    def _report(self, submitted: datetime, kind: str, text: str, unit_id: int, area: str,
                impact: str) -> Report:
        anonymous = self.number % ANONYMOUS_EVERY == 0
        self.number += 1
        draft = ReportDraft(
            kind=kind, text=text, unit_id=unit_id, area=area, impact=impact, suggestion=None,
            occurred_at=(submitted - timedelta(hours=self.rng.random() * 48)).replace(
                second=0, microsecond=0),
            submission_token=secrets.token_urlsafe(24))
        report = new_report(draft, None if anonymous else self.staff, submitted)
        report.status = Status.NEW
        db.session.add(report)
        return report

    def _baseline(self, issue: KnownIssue | None) -> Report:
        """A report of the quiet weeks: any unit, area and text, worked on by its age."""
        rng = self.rng
        if issue is not None:
            submitted = self.now - timedelta(days=DEMO_DAYS - 20 - rng.random() * 8)
            report = self._report(submitted, Kind.INCIDENT, _OLD_ISSUE_TEXT,
                                  self.units["Avdelning 21 Ortopedi"], Area.PRINTING,
                                  Impact.NEAR_MISS)
            report.known_issue = issue
            return report
        submitted = self.now - timedelta(days=rng.random() * DEMO_DAYS)
        report = self._report(
            submitted, rng.choice([Kind.INCIDENT, Kind.INCIDENT, Kind.FEEDBACK]),
            rng.choice(self.texts), rng.choice(list(self.units.values())), rng.choice(list(Area)),
            rng.choice([Impact.NONE, Impact.NONE, Impact.NEAR_MISS, Impact.UNKNOWN, Impact.HARM]))
        age_days = (self.now - submitted).total_seconds() / 86400
        if rng.random() < (0.95 if age_days > 3 else 0.5):
            finished = age_days > 10 and rng.random() < 0.8
            self._work(report, finished=rng.choice(
                [Status.RESOLVED, Status.RESOLVED, Status.CLOSED, Status.CLOSED,
                 Status.DUPLICATE, Status.REJECTED]) if finished else None)
        return report

    def _spike(self, issue: KnownIssue | None) -> None:
        """A report of the go-live fault, in one of the affected units, mostly still new."""
        rng = self.rng
        # More reports each day since the go-live: the square root skews towards now.
        submitted = self.now - timedelta(days=SPIKE_DAYS * (1 - rng.random() ** 0.5))
        text = rng.choice(_SPIKE_TEXTS).format(test=rng.choice(_TESTS))
        report = self._report(submitted, Kind.INCIDENT, text,
                              self.units[rng.choice(SPIKE_UNITS)], SPIKE_AREA,
                              rng.choice([Impact.NEAR_MISS, Impact.NEAR_MISS, Impact.HARM,
                                          Impact.UNKNOWN]))
        report.known_issue = issue
        if issue is not None and rng.random() < 0.6:
            self._work(report, finished=None)

    def _work(self, report: Report, finished: str | None) -> None:
        """Triage a report (risk, assignee), then move it on, finishing it if asked."""
        rng = self.rng
        arrival = report.submitted_at or datetime.combine(report.submitted_on, datetime.min.time())
        triaged = min(self.now, arrival + timedelta(hours=rng.expovariate(1 / 18)))
        report.set_status(Status.TRIAGED, now=triaged)
        consequence = {Impact.HARM: 3, Impact.NEAR_MISS: 2, Impact.UNKNOWN: 2}.get(
            report.impact, 1)
        report.set_risk(min(4, consequence + rng.randint(0, 1)), rng.randint(1, 3),
                        confirmed=False)
        if rng.random() < 0.85:
            report.assignee_id = rng.choice(self.coordinators).id
        if finished is None:
            if rng.random() < 0.4:
                report.set_status(Status.IN_PROGRESS, now=triaged)
            return
        done = min(self.now, triaged + timedelta(days=rng.expovariate(1 / 3)))
        report.set_status(finished, now=done)
