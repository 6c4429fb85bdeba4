"""The classifier inside the app: model versions, per-process cache, (re)classifying.

Every instance serves the active model version from the database. Each app
in a process keeps the loaded model of the version it last used; a new active
version is picked up on the next classification.
"""

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

import ml
from ml.classifier import ModelError
from ml.corpus import load_corpus
from models import ModelVersion, Report, db, transaction

log = logging.getLogger(__name__)



def _cache() -> dict[int, ml.Classifier]:
    return current_app.extensions.setdefault("vaka_classifier", {})


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
        classifier = ml.Classifier.from_bytes(version.artifact)
        cache.clear()
        cache[version.id] = classifier
    return version, cache[version.id]


def classify_reports(report_ids: list[int]) -> int:
    """Classify the given reports with the active model; return how many were classified.

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
        for report, prediction in zip(reports, predictions, strict=True):
            report.apply_prediction(version.id, prediction.scores, prediction.labels)
    return len(reports)


def reclassify_missing(batch_size: int = 500) -> int:
    """Classify every report that has no model prediction yet."""
    done = 0
    last_id = 0
    while True:
        ids = db.session.scalars(
            select(Report.id).where(Report.model_version_id.is_(None), Report.id > last_id)
            .order_by(Report.id).limit(batch_size)).all()
        if not ids:
            return done
        classified = classify_reports(list(ids))
        if not classified:
            return done
        done += classified
        last_id = ids[-1]


@dataclass(frozen=True)
class TrainingData:
    texts: list[str]
    labels: list[list[str]]
    corpus_size: int
    human_labeled: int


def training_data() -> TrainingData:
    """The bundled corpus plus every report whose categories a person decided."""
    corpus = load_corpus()
    reviewed = db.session.scalars(select(Report).where(Report.labels_reviewed)).all()
    return TrainingData(
        texts=[e.text for e in corpus] + [r.text for r in reviewed],
        labels=[e.labels for e in corpus] + [r.categories for r in reviewed],
        corpus_size=len(corpus), human_labeled=len(reviewed),
    )


def train_and_activate() -> ModelVersion:
    """Train on corpus plus human labels and make the result the active version."""
    data = training_data()
    classifier = ml.Classifier.train(data.texts, data.labels)
    summary = {**classifier.training_summary, "corpus": data.corpus_size,
               "human_labeled": data.human_labeled}
    return store_version(classifier, summary)


def store_version(classifier: ml.Classifier, summary: dict | None = None) -> ModelVersion:
    """Save a trained model as a new version and activate it."""
    version = ModelVersion(
        algorithm=classifier.algorithm, params=classifier.params,
        training_summary=summary or classifier.training_summary,
        metrics=classifier.metrics, artifact=classifier.to_bytes(), active=True,
    )
    with transaction():
        db.session.execute(update(ModelVersion).where(ModelVersion.active)
                           .values(active=False))
        db.session.add(version)
    return version
