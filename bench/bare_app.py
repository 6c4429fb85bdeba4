"""The yardstick of bench/burst.py: a bare Flask app that inserts one row per POST.

    gunicorn --workers 2 --bind 127.0.0.1:8001 'bench.bare_app:create_app()'

GET / gives a form with the hidden fields a real form has (a CSRF token and a submission
token, checked by nothing) and one unit; POST / inserts the fields into `bare_report`
(DATABASE_URL) and answers 200. No sessions, no validation, no idempotency: a POST sent
twice is stored twice. It is what the database and the web stack cost without the app.
"""

import os
import secrets

from flask import Flask, request
from markupsafe import escape
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, select
from sqlalchemy.engine import Engine

metadata = MetaData()
bare_report = Table(
    "bare_report", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20)), Column("text", Text), Column("unit_id", Integer),
    Column("area", String(30)), Column("impact", String(20)),
    Column("submission_token", String(64)))

FORM = """<!doctype html><form method="post">
<input type="hidden" name="csrf_token" value="{csrf}">
<input type="hidden" name="submission_token" value="{token}">
<select name="unit_id"><option value="1">Avdelning 1</option></select>
<textarea name="text"></textarea><button>Send</button></form>"""


def create_table(engine: Engine) -> None:
    metadata.create_all(engine)


def bare_rows(engine: Engine, run_id: str) -> dict[str, int]:
    """Rows per burst tag of the run `run_id` (bench/burst.py's tags)."""
    from bench.burst import tag_counts

    with engine.connect() as connection:
        texts = connection.scalars(select(bare_report.c.text).where(
            bare_report.c.text.like(f"%[burst {run_id}-%"))).all()
    return tag_counts(list(texts), run_id)


def create_app() -> Flask:
    from config import database_url

    engine = create_engine(database_url(os.environ["DATABASE_URL"]), pool_pre_ping=True)
    app = Flask(__name__)

    @app.get("/")
    def form() -> str:
        return FORM.format(csrf=secrets.token_urlsafe(32), token=secrets.token_urlsafe(24))

    @app.post("/")
    def submit() -> str:
        with engine.begin() as connection:
            row = connection.execute(bare_report.insert().values(
                kind=request.form.get("kind"), text=request.form.get("text"),
                unit_id=int(request.form.get("unit_id", "0")),
                area=request.form.get("area"), impact=request.form.get("impact"),
                submission_token=request.form.get("submission_token"),
            ).returning(bare_report.c.id)).scalar_one()
        return f"<p>Thanks, report {escape(row)}.</p>"

    return app
