"""Full-text search over report text, in the database's own engine.

SQLite: an FTS5 table indexing `report.text` (external content, kept in step
by triggers), with diacritics folded so "lakemedel" finds "läkemedel".
PostgreSQL: a GIN index over the text stemmed as Swedish and as English, so
a search in either language finds inflected forms ("utskrifter", "printers");
the two text search configurations fold diacritics first (the unaccent
extension, shipped with PostgreSQL's contrib modules).

The objects are created with the `report` table (also by `db.create_all()`)
and ignored by migration autogenerate (`is_search_object`); migration 0009
creates them in existing databases.
"""

from sqlalchemy import DDL, ColumnElement, event, literal_column, select, text
from sqlalchemy.sql.functions import func

from models.report import Report

FTS_TABLE = "report_search"
PG_INDEX = "ix_report_search"

# Plain literals, no string building: the statements hold no input.
_SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS report_search USING fts5("
    "text, content='report', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS report_search_insert AFTER INSERT ON report BEGIN "
    "INSERT INTO report_search(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS report_search_delete AFTER DELETE ON report BEGIN "
    "INSERT INTO report_search(report_search, rowid, text) VALUES ('delete', old.id, old.text);"
    " END",
    "CREATE TRIGGER IF NOT EXISTS report_search_update AFTER UPDATE OF text ON report BEGIN "
    "INSERT INTO report_search(report_search, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO report_search(rowid, text) VALUES (new.id, new.text); END",
)
_SQLITE_DROP = ("DROP TABLE IF EXISTS report_search",)


def _stemmed(column: ColumnElement, config: str) -> ColumnElement:
    # The configuration must be a literal, as in the index, for the planner to use it.
    return func.to_tsvector(literal_column(f"'{config}'::regconfig"), column)


def _pg_document() -> ColumnElement:
    return _stemmed(Report.text, "vaka_swedish").op("||")(_stemmed(Report.text, "vaka_english"))


_PG_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_ts_config WHERE cfgname = 'vaka_swedish') THEN "
    "CREATE TEXT SEARCH CONFIGURATION vaka_swedish (COPY = pg_catalog.swedish); "
    "ALTER TEXT SEARCH CONFIGURATION vaka_swedish ALTER MAPPING FOR hword, hword_part, word "
    "WITH unaccent, swedish_stem; END IF; END $$",
    "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_ts_config WHERE cfgname = 'vaka_english') THEN "
    "CREATE TEXT SEARCH CONFIGURATION vaka_english (COPY = pg_catalog.english); "
    "ALTER TEXT SEARCH CONFIGURATION vaka_english ALTER MAPPING FOR hword, hword_part, word "
    "WITH unaccent, english_stem; END IF; END $$",
    "CREATE INDEX IF NOT EXISTS ix_report_search ON report USING gin "
    "((to_tsvector('vaka_swedish'::regconfig, text)"
    " || to_tsvector('vaka_english'::regconfig, text)))",
)

# The configurations outlive the table otherwise (the index that needs them goes with it).
_PG_DROP = ("DROP TEXT SEARCH CONFIGURATION IF EXISTS vaka_swedish",
            "DROP TEXT SEARCH CONFIGURATION IF EXISTS vaka_english")

for _statement in _SQLITE_CREATE:
    event.listen(Report.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in _SQLITE_DROP:
    event.listen(Report.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in _PG_CREATE:
    event.listen(Report.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="postgresql"))
for _statement in _PG_DROP:
    event.listen(Report.__table__, "after_drop", DDL(_statement).execute_if(dialect="postgresql"))


def is_search_object(name: str | None, type_: str, _parent: dict) -> bool:
    """False for the search objects, which autogenerate cannot describe (`include_name`)."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ == "index":
        return name != PG_INDEX
    return True


def _sqlite_terms(words: list[str]) -> str:
    # Each word quoted (so no word is read as an operator) and matched as a prefix.
    return " ".join('"{}"*'.format(word.replace('"', '""')) for word in words)


def search_condition(words: list[str], dialect: str) -> ColumnElement[bool]:
    """A condition on `Report` that holds when its text has every word (as a prefix).

    `words` must be plain letters and digits (no operators or punctuation): the
    caller splits the user's input (app.services.triage.search_words).
    """
    if dialect == "postgresql":
        # Each word's stem as a prefix, as SQLite matches: "kalium" finds "kaliumvärdet".
        query = " & ".join(f"{word}:*" for word in words)
        tsquery = func.to_tsquery(literal_column("'vaka_swedish'::regconfig"), query).op(
            "||")(func.to_tsquery(literal_column("'vaka_english'::regconfig"), query))
        return _pg_document().op("@@")(tsquery)
    matches = select(literal_column("rowid")).select_from(text(FTS_TABLE)).where(
        literal_column(FTS_TABLE).op("MATCH")(_sqlite_terms(words)))
    return Report.id.in_(matches)
