"""full-text search over report text

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 09:50:00

SQLite: an FTS5 table over report.text kept in step by triggers, filled from
the existing reports. PostgreSQL: a GIN index over the text stemmed as
Swedish and as English, diacritics folded first (unaccent). (models/search.py
creates the same for create_all.)
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE report_search USING fts5(text, content='report',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER report_search_insert AFTER INSERT ON report BEGIN"
    " INSERT INTO report_search(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER report_search_delete AFTER DELETE ON report BEGIN"
    " INSERT INTO report_search(report_search, rowid, text) VALUES ('delete', old.id, old.text);"
    " END",
    "CREATE TRIGGER report_search_update AFTER UPDATE OF text ON report BEGIN"
    " INSERT INTO report_search(report_search, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO report_search(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO report_search(report_search) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER report_search_update",
    "DROP TRIGGER report_search_delete",
    "DROP TRIGGER report_search_insert",
    "DROP TABLE report_search",
)
POSTGRES_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION vaka_swedish (COPY = pg_catalog.swedish)",
    "ALTER TEXT SEARCH CONFIGURATION vaka_swedish ALTER MAPPING FOR hword, hword_part, word"
    " WITH unaccent, swedish_stem",
    "CREATE TEXT SEARCH CONFIGURATION vaka_english (COPY = pg_catalog.english)",
    "ALTER TEXT SEARCH CONFIGURATION vaka_english ALTER MAPPING FOR hword, hword_part, word"
    " WITH unaccent, english_stem",
    "CREATE INDEX ix_report_search ON report USING gin"
    " ((to_tsvector('vaka_swedish'::regconfig, text)"
    " || to_tsvector('vaka_english'::regconfig, text)))",
)
POSTGRES_DOWNGRADE = (
    "DROP INDEX ix_report_search",
    "DROP TEXT SEARCH CONFIGURATION vaka_english",
    "DROP TEXT SEARCH CONFIGURATION vaka_swedish",
)


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    _run(SQLITE_UPGRADE if dialect == "sqlite" else POSTGRES_UPGRADE)


def downgrade():
    dialect = op.get_bind().dialect.name
    _run(SQLITE_DOWNGRADE if dialect == "sqlite" else POSTGRES_DOWNGRADE)
