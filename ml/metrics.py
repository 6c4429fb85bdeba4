"""Scoring a set of multi-label predictions: per-category and overall figures.

Used when a model is trained (its cross-validated figures are stored with the
model version) and by `ml.evaluation` for full evaluations.
"""

from collections import Counter
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from ml.categories import CATEGORIES

#: Equal-width probability bins for the expected calibration error.
CALIBRATION_BINS = 10
_DIGITS = 4


def rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), _DIGITS)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def reliability(truth: np.ndarray, scores: np.ndarray,
                bins: int = CALIBRATION_BINS) -> tuple[float, list[dict[str, Any]]]:
    """Expected calibration error and the reliability bins of one category.

    The bins split [0, 1] into `bins` equal-width intervals (the last one closed);
    the ECE is the mean over bins of |mean score - positive rate|, weighted by the
    share of texts in each bin. Empty bins have None for mean score and rate.
    """
    edges = np.arange(1, bins) / bins
    index = np.digitize(np.clip(scores, 0.0, 1.0), edges)
    table, ece = [], 0.0
    for b in range(bins):
        member = index == b
        count = int(member.sum())
        mean_score = float(scores[member].mean()) if count else None
        positive_rate = float(truth[member].mean()) if count else None
        if count:
            ece += count / len(scores) * abs(mean_score - positive_rate)
        table.append({"lo": b / bins, "hi": (b + 1) / bins, "count": count,
                      "mean_score": rounded(mean_score), "positive_rate": rounded(positive_rate)})
    return ece, table


def metrics(y_true: np.ndarray, scores: np.ndarray, thresholds: dict[str, float],
            predicted: np.ndarray | None = None) -> dict[str, Any]:
    """Per-category and overall metrics for n texts.

    `y_true` is n x 3 of 0/1 and `scores` n x 3 probabilities, columns in
    CATEGORIES order. A category is predicted when its score reaches its
    threshold, unless `predicted` (n x 3 of 0/1) gives the decisions directly,
    as when each fold's model used its own thresholds.

    Returns per category: support, threshold, precision, recall, F1, PR-AUC
    (average precision; None without positives), ECE and reliability bins; and
    macro-F1 (mean of the three F1), micro-F1 (from pooled counts), exact-match
    accuracy of the whole label set, and for texts whose true set is empty
    ("other") the share that were given any category (None if there are none).
    """
    y_true = np.asarray(y_true, dtype=int)
    scores = np.asarray(scores, dtype=float)
    shape = (len(y_true), len(CATEGORIES))
    if y_true.ndim != 2 or y_true.shape != shape or scores.shape != shape:
        raise ValueError(f"y_true and scores must both be n x {len(CATEGORIES)}")
    if not len(y_true):
        raise ValueError("no texts to evaluate")
    if predicted is None:
        predicted = np.column_stack([scores[:, i] >= thresholds[c]
                                     for i, c in enumerate(CATEGORIES)])
    predicted = np.asarray(predicted, dtype=int)
    if predicted.shape != shape:
        raise ValueError(f"predicted must be n x {len(CATEGORIES)}")

    per_category, pooled = {}, Counter()
    for i, category in enumerate(CATEGORIES):
        truth, decided = y_true[:, i], predicted[:, i]
        tp = int(((truth == 1) & (decided == 1)).sum())
        fp = int(((truth == 0) & (decided == 1)).sum())
        fn = int(((truth == 1) & (decided == 0)).sum())
        pooled.update(tp=tp, fp=fp, fn=fn)
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        support = int(truth.sum())
        ece, bins = reliability(truth, scores[:, i])
        per_category[category] = {
            "support": support,
            "threshold": rounded(thresholds.get(category)),
            "precision": rounded(precision),
            "recall": rounded(recall),
            "f1": rounded(_ratio(2 * tp, 2 * tp + fp + fn)),
            # average_precision_score warns and means nothing without positives.
            "pr_auc": rounded(average_precision_score(truth, scores[:, i])) if support else None,
            "ece": rounded(ece),
            "reliability": bins,
        }
    other = y_true.sum(axis=1) == 0
    return {
        "n": len(y_true),
        "categories": per_category,
        "macro_f1": rounded(np.mean([m["f1"] for m in per_category.values()])),
        "micro_f1": rounded(_ratio(2 * pooled["tp"],
                                  2 * pooled["tp"] + pooled["fp"] + pooled["fn"])),
        "exact_match": rounded(float((predicted == y_true).all(axis=1).mean())),
        "other": {
            "count": int(other.sum()),
            "false_category_rate": (rounded(float(predicted[other].any(axis=1).mean()))
                                    if other.any() else None),
        },
    }
