"""Similar reports, found through an index of each report's most distinctive terms.

Comparing a report with a million others is too slow for a page, so each
report's `TERMS_PER_REPORT` heaviest terms (ml.similarity: bilingual concepts
and stems, TF-IDF) are stored in `report_term`, indexed by (term, report).
To find a report's neighbours:

1. candidates: for each of its (at most `QUERY_TERMS`) terms, the
   `POSTINGS_PER_TERM` newest reports that have it (an index range scan with a
   LIMIT each, in one statement);
2. each candidate scores the summed weights of the terms it shares;
3. the best `RERANK` candidates are ranked by the cosine of their stored
   vectors, and those above `MIN_SIMILARITY` are kept.

The work is bounded by terms x postings whatever the size of the table. The
price: a duplicate older than the newest `POSTINGS_PER_TERM` reports of every
term it shares is missed; for a known issue the recent reports are the ones
that matter, and rare terms (the distinctive ones) reach far back.

Reports are indexed when they are submitted (`index_reports`), again when
their text is redacted, and dropped from the index when retention removes
their text. `flask --app app similarity rebuild` indexes every report (after
migration 0010, or after the lexicon or weights changed); bulk loaders call
`index_reports` with the new ids.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import Executable, Result, delete, func, insert, select, union_all

from ml import similarity
from models import Report, ReportTerm, db, transaction
from models.base import in_write_transaction

#: Terms stored per report: its most distinctive ones (K).
TERMS_PER_REPORT = 12
#: Newest reports read per term when looking for candidates (N).
POSTINGS_PER_TERM = 200
#: Terms of the query looked up: its heaviest (a known issue's profile has many).
QUERY_TERMS = 16
#: Candidates ranked by cosine after the shared-term count.
RERANK = 40
#: Below this cosine a report is not called similar.
MIN_SIMILARITY = 0.1
#: Reports read per batch when indexing.
BATCH = 1000

#: A vector keyed by term key (ml.similarity.term_key).
KeyedVector = dict[int, float]


def text_vector(text: str, language: str | None = None) -> KeyedVector:
    """The stored form of a text: its heaviest terms, keyed."""
    vector = similarity.vectorize(text, language)
    return similarity.keyed(similarity.top_terms(vector, TERMS_PER_REPORT))


def index_reports(report_ids: Iterable[int]) -> int:
    """(Re)write the index entries of these reports; returns how many have terms.

    Joins the caller's transaction when there is one, else commits its own.
    A report without text (removed under retention) gets no entries.
    """
    ids = sorted(set(report_ids))
    if not in_write_transaction():
        with transaction():
            return index_reports(ids)
    indexed = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = db.session.execute(select(Report.id, Report.text, Report.language)
                                  .where(Report.id.in_(chunk))).all()
        db.session.execute(delete(ReportTerm).where(ReportTerm.report_id.in_(chunk)))
        entries = [{"report_id": report_id, "term_key": key, "weight": weight}
                   for report_id, text, language in rows
                   for key, weight in text_vector(text, language).items()]
        if entries:
            db.session.execute(insert(ReportTerm), entries)
        indexed += len({entry["report_id"] for entry in entries})
    return indexed


def rebuild_index(progress: Callable[[int], None] | None = None) -> int:
    """Index every report again, a batch per transaction; returns how many have terms."""
    indexed, last_id = 0, 0
    while True:
        ids = db.session.scalars(select(Report.id).where(Report.id > last_id)
                                 .order_by(Report.id).limit(BATCH)).all()
        if not ids:
            return indexed
        indexed += index_reports(ids)
        last_id = ids[-1]
        if progress is not None:
            progress(len(ids))


def count_reports() -> int:
    return db.session.scalar(select(func.count()).select_from(Report))


def unindex_removed_text() -> None:
    """Drop the entries of reports whose text was removed (joins the caller's transaction)."""
    removed = select(Report.id).where(Report.text_removed_on.is_not(None))
    db.session.execute(delete(ReportTerm).where(ReportTerm.report_id.in_(removed)),
                       execution_options={"synchronize_session": False})


def plain_rows(query: Executable) -> Result:
    """Rows of a query run on the session's connection, without the ORM's row handling,
    which costs more than the query itself for thousands of (key, weight) rows."""
    return db.session.connection().execute(query)


def stored_vectors(report_ids: Iterable[int]) -> dict[int, KeyedVector]:
    """The index entries of these reports, per report (absent: none stored)."""
    ids = list(report_ids)
    vectors: dict[int, KeyedVector] = {}
    if not ids:
        return vectors
    rows = plain_rows(select(ReportTerm.report_id, ReportTerm.term_key, ReportTerm.weight)
                      .where(ReportTerm.report_id.in_(ids)))
    for report_id, key, weight in rows:
        vectors.setdefault(report_id, {})[key] = weight
    return vectors


def report_vector(report: Report) -> KeyedVector:
    """A report's stored vector, or one worked out now if it was never indexed."""
    stored = stored_vectors([report.id]).get(report.id)
    if stored is not None or report.text_removed_on is not None:
        return stored or {}
    return text_vector(report.text, report.language)


def _candidates(vector: KeyedVector, ids: tuple[int, int] | None = None) -> Counter[int]:
    """Reports sharing the vector's heaviest terms, each scored by the weights it shares.

    `ids` (first, end) keeps to reports with first <= id < end.
    """
    vector = similarity.top_terms(vector, QUERY_TERMS)
    if not vector:
        return Counter()
    in_range = (ReportTerm.report_id.between(ids[0], ids[1] - 1),) if ids else ()
    postings = [select(ReportTerm.term_key, ReportTerm.report_id)
                .where(ReportTerm.term_key == key, *in_range)
                .order_by(ReportTerm.report_id.desc()).limit(POSTINGS_PER_TERM).subquery()
                for key in vector]
    query = union_all(*(select(posting.c.term_key, posting.c.report_id)
                        for posting in postings))
    scores: Counter[int] = Counter()
    for key, report_id in plain_rows(query):
        scores[report_id] += vector[key]
    return scores


def nearest(vector: KeyedVector, exclude: Iterable[int] = (), limit: int = 5,
            min_similarity: float = MIN_SIMILARITY,
            unattached_only: bool = False,
            ids: tuple[int, int] | None = None) -> list[tuple[int, float]]:
    """The ids of the reports most similar to `vector`, best first, with their cosine.

    `unattached_only` keeps to reports in no known issue; `ids` (first, end) to
    reports with first <= id < end. At most max(`limit`, RERANK) are ranked.
    """
    scores = _candidates(vector, ids)
    for report_id in exclude:
        scores.pop(report_id, None)
    if unattached_only and scores:
        free = set(db.session.scalars(select(Report.id).where(
            Report.id.in_(list(scores)), Report.known_issue_id.is_(None))))
        scores = Counter({rid: score for rid, score in scores.items() if rid in free})
    best = [report_id for report_id, _ in scores.most_common(max(RERANK, limit))]
    ranked = sorted(((report_id, similarity.cosine(vector, stored))
                     for report_id, stored in stored_vectors(best).items()),
                    key=lambda item: (-item[1], -item[0]))
    return [(report_id, score) for report_id, score in ranked
            if score >= min_similarity][:limit]


def load_reports(scored: Sequence[tuple[int, float]]) -> list[tuple[Report, float]]:
    """The reports of (id, score) pairs, in the same order."""
    reports = {report.id: report for report in db.session.scalars(
        select(Report).where(Report.id.in_([report_id for report_id, _ in scored])))}
    return [(reports[report_id], score) for report_id, score in scored
            if report_id in reports]


def similar_reports(report_id: int, limit: int = 5) -> list[tuple[Report, float]]:
    """The reports most like this one (cosine 0-1), best first; [] for an unknown report."""
    report = db.session.get(Report, report_id)
    if report is None:
        return []
    return load_reports(nearest(report_vector(report), exclude={report_id}, limit=limit))
