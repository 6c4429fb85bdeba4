"""The classifier inside the app: model versions, per-process cache, (re)classifying.

Every instance serves the active model version from the database. Each app
in a process keeps the loaded model of the version it last used; a new active
version is picked up on the next classification. Apps of one process (the tests
make one per test) share the model of an artifact they have both loaded.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import Select, func, select, update

import ml
from app.services import NotFound
from app.services.audit import record
from app.services.workflow import apply_suggested_risk
from ml.corpus import corpus_files, load_corpus
from ml.errors import ModelError
from models import ModelVersion, Report, User, db, transaction

if TYPE_CHECKING:
    from ml.explain import Contribution, Nearness

log = logging.getLogger(__name__)


def _cache() -> dict[int, ml.Classifier]:
    return current_app.extensions.setdefault("vaka_classifier", {})


#: The last model loaded in this process, by the SHA-256 of its artifact: keyed on
#: the content, not the version id, which another database may give another model.
_loaded: dict[str, ml.Classifier] = {}


def _load(artifact: bytes) -> ml.Classifier:
    digest = hashlib.sha256(artifact).hexdigest()
    classifier = _loaded.get(digest)
    if classifier is None:
        classifier = ml.Classifier.from_bytes(artifact)
        _loaded.clear()
        _loaded[digest] = classifier
    return classifier


class NoActiveModel(ModelError):
    pass


def active_version() -> ModelVersion | None:
    return db.session.scalar(select(ModelVersion).where(ModelVersion.active))


def active_classifier() -> tuple[ModelVersion, ml.Classifier]:
    """The active version and its loaded model (loaded once per process and version)."""
    version = active_version()
    if version is None:
        raise NoActiveModel("no model version is active")
    cache = _cache()
    if version.id not in cache:
        classifier = _load(version.artifact)
        cache.clear()
        cache[version.id] = classifier
    return version, cache[version.id]


#: Classified when a server process starts: loading the model is not all the
#: first classification would otherwise pay for (the stemmers, for one).
WARM_UP_TEXTS = ["Skrivaren på avdelningen skriver inte ut etiketterna.",
                 "The printer on the ward does not print the labels."]


def load_active_classifier() -> ModelVersion:
    """Load the active model into this process's cache and classify `WARM_UP_TEXTS` with it.

    Raises ModelError when no version is active or it does not load.
    """
    version, classifier = active_classifier()
    classifier.predict(WARM_UP_TEXTS)
    return version


def classify_reports(report_ids: list[int]) -> int:
    """Classify those of the given reports that have no model prediction; how many were.

    Never raises for a model problem: the reports stay saved and unclassified,
    for `flask ml reclassify` to pick up later.
    """
    if not report_ids:
        return 0
    try:
        version, classifier = active_classifier()
    except ModelError as error:
        log.warning("reports left unclassified: %s", error)
        return 0
    reports = db.session.scalars(select(Report).where(Report.id.in_(report_ids))).all()
    try:
        predictions = classifier.predict([r.text for r in reports])
    except Exception:  # a broken model must not lose or block reports
        log.exception("classification failed; reports left unclassified")
        return 0
    with transaction():
        # A second run for the same report (a job delivered twice) adds no second labels.
        still_unclassified = set(db.session.scalars(
            select(Report.id).where(Report.id.in_(report_ids), Report.model_version_id.is_(None))
            .with_for_update()))
        for report, prediction in zip(reports, predictions, strict=True):
            if report.id not in still_unclassified:
                continue
            report.apply_prediction(version.id, prediction.scores, prediction.labels,
                                    prediction.needs_review)
            apply_suggested_risk(report)
    return len(still_unclassified)


def _unclassified() -> Select:
    return select(Report.id).where(Report.unclassified())


def count_unclassified() -> int:
    """How many reports with text have no model prediction."""
    return db.session.scalar(select(func.count()).select_from(_unclassified().subquery()))


def reclassify_missing(batch_size: int = 500) -> int:
    """Classify every report that has no model prediction yet."""
    done = 0
    last_id = 0
    while True:
        ids = db.session.scalars(_unclassified().where(Report.id > last_id)
                                 .order_by(Report.id).limit(batch_size)).all()
        if not ids:
            return done
        classified = classify_reports(list(ids))
        if not classified:
            return done
        done += classified
        last_id = ids[-1]


#: Every this-many-th human-labeled report (by id) is held back to compare models on.
HOLD_BACK_EVERY = 5
#: Fewer held-back reports than this cannot tell two models apart.
MIN_HELD_BACK = 10


@dataclass(frozen=True)
class TrainingData:
    texts: list[str]
    labels: list[list[str]]
    corpus_size: int
    human_labeled: int
    #: Human-labeled reports kept out of training, to compare candidate and active model.
    held_back: list[Report]


def training_data() -> TrainingData:
    """The corpus (TRAINING_CORPUS_DIR, by default the bundled one) plus the
    human-labeled reports that are not held back.

    Reports whose text the retention rule removed have nothing left to learn from.
    """
    directory = current_app.config["TRAINING_CORPUS_DIR"]
    corpus = load_corpus(corpus_files(Path(directory)) if directory else None)
    reviewed = db.session.scalars(select(Report).where(Report.labels_reviewed,
                                                       Report.text_removed_on.is_(None))
                                  .order_by(Report.id)).all()
    used = [r for r in reviewed if r.id % HOLD_BACK_EVERY]
    return TrainingData(
        texts=[e.text for e in corpus] + [r.text for r in used],
        labels=[e.labels for e in corpus] + [r.categories for r in used],
        corpus_size=len(corpus), human_labeled=len(used),
        held_back=[r for r in reviewed if not r.id % HOLD_BACK_EVERY],
    )


@dataclass(frozen=True)
class TrainingOutcome:
    version: ModelVersion
    activated: bool
    #: Why the candidate was or was not activated.
    reason: str


def train_candidate(force: bool = False) -> TrainingOutcome:
    """Train on corpus plus human labels; activate the result only if it is not worse.

    The candidate and the active model are compared by macro-F1 on the same
    held-back human-labeled reports. With too few of those there is nothing
    to compare on, and the candidate is activated.
    """
    data = training_data()
    candidate = ml.Classifier.train(data.texts, data.labels, citable=data.corpus_size)
    summary = {**candidate.training_summary, "corpus": data.corpus_size,
               "human_labeled": data.human_labeled, "held_back": len(data.held_back)}
    comparison = _compare(candidate, data.held_back)
    if force:
        activate, reason = True, "forced"
    elif comparison is None:
        activate, reason = True, (f"activated: fewer than {MIN_HELD_BACK} held-back "
                                  "human labels to compare on")
    else:
        activate = comparison["candidate"] >= comparison["active"]
        reason = (f"{'activated' if activate else 'kept the active model'}: macro-F1 on "
                  f"{len(data.held_back)} held-back reports {comparison['candidate']:.3f} "
                  f"(candidate) vs {comparison['active']:.3f} (active)")
    metrics = {**candidate.metrics, "held_back_comparison": comparison}
    version = store_version(candidate, summary, metrics, activate=activate)
    return TrainingOutcome(version=version, activated=activate, reason=reason)


def _compare(candidate: ml.Classifier, held_back: list[Report]) -> dict[str, float] | None:
    active = active_version()
    if active is None or len(held_back) < MIN_HELD_BACK:
        return None
    _, current = active_classifier()
    texts, truth = [r.text for r in held_back], [r.categories for r in held_back]
    return {name: ml.label_f1(truth, [p.labels for p in model.predict(texts)])
            for name, model in (("candidate", candidate), ("active", current))}


def store_version(classifier: ml.Classifier, summary: dict | None = None,
                  metrics: dict | None = None, activate: bool = True) -> ModelVersion:
    """Save a trained model as a new version, by default the active one."""
    version = ModelVersion(
        algorithm=classifier.algorithm, params=classifier.params,
        training_summary=summary or classifier.training_summary,
        metrics=metrics or classifier.metrics, artifact=classifier.to_bytes(), active=False,
    )
    with transaction():
        db.session.add(version)
    if activate:
        activate_version(version.id)
    return version


def all_versions() -> list[ModelVersion]:
    return list(db.session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())))


def activate_version(version_id: int, actor: User | None = None) -> ModelVersion:
    """Make a stored version the active one (also to roll back); `actor` None is the system."""
    with transaction():
        version = db.session.get(ModelVersion, version_id)
        if version is None:
            raise NotFound(f"no model version {version_id}")
        previous = db.session.scalar(select(ModelVersion.id).where(ModelVersion.active))
        db.session.execute(update(ModelVersion).where(ModelVersion.active)
                           .values(active=False))
        version.active = True
        record("model.activate", actor, "model_version", version_id, previous=previous)
    return version


@dataclass(frozen=True)
class Segment:
    """A piece of a report's text; `category` is set when it pushed that category up."""

    text: str
    category: str | None = None


@dataclass(frozen=True)
class ScoreBand:
    """One category's score and its band in words (likely, unsure, unlikely)."""

    category: str
    score: float
    band: str


@dataclass(frozen=True)
class ReportExplanation:
    version_id: int
    #: The report's text in pieces, the words that drove its categories marked.
    segments: list[Segment]
    #: Per category, the words that pushed its score up most, strongest first; none for a
    #: category the model scores as unlikely (nothing there supports it).
    words: dict[str, list[Contribution]]
    #: The report's scores as bands, in the categories' order.
    bands: list[ScoreBand]
    #: How familiar the report is to the model and its nearest training examples.
    nearness: Nearness

    @property
    def unsure(self) -> bool:
        return any(band.band == "unsure" for band in self.bands)


def _bands(report: Report, thresholds: dict[str, float]) -> list[ScoreBand]:
    from ml.explain import score_band

    if not report.is_classified:
        return []
    return [ScoreBand(c, report.score(c), score_band(report.score(c), thresholds[c]))
            for c in ml.CATEGORIES]


def report_bands(reports: list[Report]) -> dict[int, list[ScoreBand]]:
    """Each classified report's bands under the active model's thresholds (none without one)."""
    try:
        _, classifier = active_classifier()
    except ModelError:
        return {}
    return {report.id: _bands(report, classifier.thresholds) for report in reports}


def explain_report(report: Report) -> ReportExplanation | None:
    """Why the active model scores the report as it does; None when no model can tell."""
    try:
        version, classifier = active_classifier()
    except ModelError:
        return None
    # These import scikit-learn and the embeddings: only where a model is used.
    from ml.explain import explain, nearest_examples

    bands = _bands(report, classifier.thresholds)
    unlikely = {band.category for band in bands if band.band == "unlikely"}
    words = {category: [] if category in unlikely else found
             for category, found in explain(classifier, report.text).items()}
    # Each marked word goes to the category it pushed most.
    marked: dict[int, tuple[Contribution, str]] = {}
    for category in report.categories:
        for word in words[category]:
            if word.start not in marked or word.weight > marked[word.start][0].weight:
                marked[word.start] = (word, category)
    return ReportExplanation(version.id, _segments(report.text, marked), words, bands,
                             nearest_examples(classifier, report.text))


def _segments(text: str, marked: dict[int, tuple[Contribution, str]]) -> list[Segment]:
    segments, position = [], 0
    for start in sorted(marked):
        word, category = marked[start]
        segments += [Segment(text[position:start]), Segment(word.text, category)]
        position = word.end
    return [*segments, Segment(text[position:])]
