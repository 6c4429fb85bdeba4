"""How well the classifier works: metrics, cross-validation, held-out files, grid search.

`metrics` scores one set of predictions. `cross_validate` runs repeated
stratified K-fold cross-validation with `Classifier.train` on each training
split; `evaluate_file` scores an existing model on a labeled file. Both return a
`Report`, which `format_report` prints as plain-text tables and
`Report.to_dict` turns into JSON-ready data. `search` compares a small grid of
parameters by cross-validation.

Aggregation in `cross_validate`: each repeat predicts every example exactly once
(out of fold), so every repeat is a complete evaluation. Scalar metrics
(precision, recall, F1, PR-AUC, ECE, rates) are computed per repeat and then
averaged over the repeats; `spread` holds their standard deviation across
repeats. Reliability bins and the confusion table pool all repeats (their counts
are texts x repeats). The worst errors are taken over all repeats, one entry per
text. Each fold's model chooses its own thresholds during training, so predicted
labels are the fold model's own decisions; the thresholds shown are the mean
over folds (`settings["threshold_range"]` gives min and max).

Everything here uses only the classifier's public API (`Classifier.train`,
`Classifier.predict`, `thresholds`), so it measures the model as deployed.
"""

import itertools
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold

from ml.classifier import CATEGORIES, DEFAULT_PARAMS, Classifier, Prediction
from ml.corpus import Example
from ml.metrics import CALIBRATION_BINS, metrics
from ml.metrics import rounded as _round

#: How many of the worst errors a report lists, and how much of their text.
WORST_ERRORS = 10
TEXT_PREVIEW = 160
OTHER = "other"
#: The default grid of `search`: 3 values of C x 3 character n-gram ranges = 9 runs,
#: each a 3-fold cross-validation with seed 0, word n-grams as in DEFAULT_PARAMS.
DEFAULT_GRID: dict[str, list[Any]] = {
    "C": [2.0, 8.0, 32.0],
    "char_ngrams": [[2, 4], [2, 5], [3, 6]],
}

#: Every label set, smallest first: other, each category, pairs, all three.
LABEL_SETS: tuple[str, ...] = tuple(
    "+".join(combo) or OTHER
    for size in range(len(CATEGORIES) + 1)
    for combo in itertools.combinations(CATEGORIES, size)
)


@dataclass
class Report:
    """The result of an evaluation; see the module docstring for how it aggregates."""

    kind: str  # "cross-validation" or "held-out file"
    description: str
    examples: int
    settings: dict[str, Any]
    overall: dict[str, Any]
    by_language: dict[str, dict[str, Any]]
    confusion: dict[str, dict[str, int]]
    worst_errors: list[dict[str, Any]]
    spread: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def label_set(labels: Sequence[str]) -> str:
    """The canonical name of a label set: "safety+functionality", or "other" when empty."""
    return "+".join(c for c in CATEGORIES if c in labels) or OTHER


def truth_matrix(label_lists: Sequence[Sequence[str]]) -> np.ndarray:
    """An n x 3 matrix of 0/1, one column per category in CATEGORIES order."""
    return np.array([[int(c in labels) for c in CATEGORIES] for labels in label_lists],
                    dtype=int).reshape(len(label_lists), len(CATEGORIES))


def _mean(values: list[Any]) -> Any:
    """Average metric values of several repeats; None values are left out."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(isinstance(v, int) for v in present) and len(set(present)) == 1:
        return present[0]
    return _round(statistics.fmean(present))


def _merge_bins(tables: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Pool reliability bins of several repeats: counts add, means are count-weighted."""
    merged = []
    for bins in zip(*tables, strict=True):
        count = sum(b["count"] for b in bins)

        def weighted(key: str, bins: tuple[dict[str, Any], ...] = bins,
                     count: int = count) -> float | None:
            return _round(sum(b[key] * b["count"] for b in bins if b["count"]) / count
                          ) if count else None

        merged.append({"lo": bins[0]["lo"], "hi": bins[0]["hi"], "count": count,
                       "mean_score": weighted("mean_score"),
                       "positive_rate": weighted("positive_rate")})
    return merged


def average_metrics(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean of several `metrics` results of the same shape (reliability bins pooled)."""
    first = runs[0]
    averaged: dict[str, Any] = {}
    for key, value in first.items():
        values = [run[key] for run in runs]
        if key == "reliability":
            averaged[key] = _merge_bins(values)
        elif isinstance(value, dict):
            averaged[key] = average_metrics(values)
        else:
            averaged[key] = _mean(values)
    return averaged


def _spread(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Standard deviation across repeats of the headline figures (0 with one repeat)."""

    def std(values: list[float]) -> float:
        return _round(statistics.pstdev(values)) if len(values) > 1 else 0.0

    spread = {key: std([run[key] for run in runs]) for key in ("macro_f1", "micro_f1")}
    for category in CATEGORIES:
        for key in ("f1", "recall"):
            spread[f"{category}_{key}"] = std([run["categories"][category][key] for run in runs])
    return spread


def _languages(examples: Sequence[Example], predictions: Sequence[Prediction]) -> list[str]:
    return [e.lang or p.language for e, p in zip(examples, predictions, strict=True)]


def _language_order(languages: set[str]) -> list[str]:
    known = [lang for lang in ("sv", "en", "mixed") if lang in languages]
    return known + sorted(languages - set(known))


def _score_matrix(predictions: Sequence[Prediction]) -> np.ndarray:
    return np.array([[p.scores[c] for c in CATEGORIES] for p in predictions],
                    dtype=float).reshape(len(predictions), len(CATEGORIES))


def _evaluate_pass(examples: Sequence[Example], predictions: Sequence[Prediction],
                   thresholds: dict[str, float]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Overall and per-language metrics of one complete pass, in example order."""
    y_true = truth_matrix([e.labels for e in examples])
    scores = _score_matrix(predictions)
    decided = truth_matrix([p.labels for p in predictions])
    overall = metrics(y_true, scores, thresholds, predicted=decided)
    languages = np.array(_languages(examples, predictions))
    by_language = {
        lang: metrics(y_true[languages == lang], scores[languages == lang], thresholds,
                      predicted=decided[languages == lang])
        for lang in _language_order(set(languages))
    }
    return overall, by_language


def _confusion(examples: Sequence[Example],
               passes: Sequence[Sequence[Prediction]]) -> dict[str, dict[str, int]]:
    table = {true: dict.fromkeys(LABEL_SETS, 0) for true in LABEL_SETS}
    for predictions in passes:
        for example, prediction in zip(examples, predictions, strict=True):
            table[label_set(example.labels)][label_set(prediction.labels)] += 1
    return table


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_PREVIEW else text[:TEXT_PREVIEW - 1] + "…"


def _worst_errors(examples: Sequence[Example], passes: Sequence[Sequence[Prediction]],
                  limit: int = WORST_ERRORS) -> list[dict[str, Any]]:
    """Wrong label sets with the largest total |score - truth|, one entry per text."""
    worst: dict[int, dict[str, Any]] = {}
    for predictions in passes:
        for index, (example, prediction) in enumerate(zip(examples, predictions, strict=True)):
            if label_set(example.labels) == label_set(prediction.labels):
                continue
            error = sum(abs(prediction.scores[c] - (c in example.labels)) for c in CATEGORIES)
            if index in worst and worst[index]["error"] >= error:
                continue
            worst[index] = {
                "index": index, "error": _round(error), "text": _preview(example.text),
                "lang": example.lang or prediction.language,
                "true": list(example.labels), "predicted": list(prediction.labels),
                "scores": {c: _round(prediction.scores[c]) for c in CATEGORIES},
            }
    return sorted(worst.values(), key=lambda e: (-e["error"], e["index"]))[:limit]


def stratification_keys(examples: Sequence[Example], folds: int) -> list[str]:
    """Label-set names for stratified folds; sets with fewer than `folds` texts are merged.

    Rare sets are pooled as "rare"; if that pool is itself smaller than `folds`
    it joins the most common set, so every stratum can be split `folds` ways.
    """
    keys = [label_set(e.labels) for e in examples]
    counts = Counter(keys)
    rare = {key for key, count in counts.items() if count < folds}
    if not rare:
        return keys
    keys = ["rare" if key in rare else key for key in keys]
    pooled = sum(counts[key] for key in rare)
    if pooled < folds:
        common = [key for key, _ in counts.most_common() if key not in rare]
        if common:
            keys = [common[0] if key == "rare" else key for key in keys]
    return keys


def cross_validate(examples: Sequence[Example], params: dict[str, Any] | None = None,
                   folds: int = 5, repeats: int = 2, seed: int = 0,
                   progress: Callable[[str], None] | None = None) -> Report:
    """Repeated stratified K-fold cross-validation of `Classifier.train` on `examples`.

    Folds are stratified on the label set (see `stratification_keys`) and drawn
    by sklearn's RepeatedStratifiedKFold with `seed`, so a run is repeatable.
    `progress`, if given, is called with a short message before each fold.
    """
    examples = list(examples)
    if folds < 2 or repeats < 1:
        raise ValueError("need at least 2 folds and 1 repeat")
    if len(examples) < 2 * folds:
        raise ValueError(f"need at least {2 * folds} examples for {folds}-fold cross-validation")
    params = {**DEFAULT_PARAMS, **(params or {})}
    keys = stratification_keys(examples, folds)
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    # passes[repeat][i]: the out-of-fold prediction for example i in that repeat.
    passes: list[list[Any]] = [[None] * len(examples) for _ in range(repeats)]
    thresholds: dict[str, list[float]] = {c: [] for c in CATEGORIES}
    for number, (train, test) in enumerate(splitter.split(np.zeros(len(keys)), keys)):
        repeat, fold = divmod(number, folds)
        if progress:
            progress(f"repeat {repeat + 1}/{repeats}, fold {fold + 1}/{folds}")
        try:
            model = Classifier.train([examples[i].text for i in train],
                                     [examples[i].labels for i in train], params=params)
        except ValueError as error:
            raise ValueError(f"repeat {repeat + 1}, fold {fold + 1}: {error}") from error
        for c in CATEGORIES:
            thresholds[c].append(float(model.thresholds[c]))
        predictions = model.predict([examples[i].text for i in test])
        for i, prediction in zip(test, predictions, strict=True):
            passes[repeat][i] = prediction

    mean_thresholds = {c: statistics.fmean(thresholds[c]) for c in CATEGORIES}
    runs = [_evaluate_pass(examples, predictions, mean_thresholds) for predictions in passes]
    overall_runs = [overall for overall, _ in runs]
    languages = _language_order({lang for _, by_lang in runs for lang in by_lang})
    by_language = {lang: average_metrics([by_lang[lang] for _, by_lang in runs])
                   for lang in languages}
    return Report(
        kind="cross-validation",
        description=(f"repeated stratified {folds}-fold cross-validation, {repeats} repeat(s), "
                     f"seed {seed}"),
        examples=len(examples),
        settings={
            "folds": folds, "repeats": repeats, "seed": seed, "params": params,
            "stratified_on": "label set (sets with fewer texts than folds merged)",
            "aggregation": ("scalar metrics per repeat, then mean over repeats; reliability "
                            "bins and confusion pooled over repeats"),
            "threshold_range": {c: [_round(min(v)), _round(max(v))]
                                for c, v in thresholds.items()},
        },
        overall=average_metrics(overall_runs),
        by_language=by_language,
        confusion=_confusion(examples, passes),
        worst_errors=_worst_errors(examples, passes),
        spread=_spread(overall_runs),
    )


def evaluate_file(classifier: Classifier, examples: Sequence[Example],
                  description: str = "labeled file") -> Report:
    """Score an existing model on labeled examples (no training)."""
    examples = list(examples)
    if not examples:
        raise ValueError("no labeled examples to evaluate")
    predictions = classifier.predict([e.text for e in examples])
    thresholds = {c: float(classifier.thresholds[c]) for c in CATEGORIES}
    overall, by_language = _evaluate_pass(examples, predictions, thresholds)
    return Report(
        kind="held-out file",
        description=description,
        examples=len(examples),
        settings={"params": dict(getattr(classifier, "params", {}) or {}),
                  "thresholds": thresholds},
        overall=overall,
        by_language=by_language,
        confusion=_confusion(examples, [predictions]),
        worst_errors=_worst_errors(examples, [predictions]),
    )


def search(examples: Sequence[Example], grid: dict[str, list[Any]] | None = None,
           folds: int = 3, repeats: int = 1, seed: int = 0,
           out: TextIO | None = None) -> list[tuple[dict[str, Any], float, float]]:
    """Cross-validate every combination of `grid` (default DEFAULT_GRID).

    `grid` maps parameter names of DEFAULT_PARAMS to lists of values; parameters
    it leaves out keep their defaults. Each combination gets the same folds
    (same `seed`), so runs are repeatable and comparable. Prints one line per
    combination to `out` (default stdout) and a summary; returns
    ``(params, macro_f1, safety_recall)`` best macro-F1 first (ties in grid order).
    """
    grid = DEFAULT_GRID if grid is None else grid
    unknown = set(grid) - set(DEFAULT_PARAMS)
    if unknown or not grid:
        raise ValueError(f"grid keys must be among {sorted(DEFAULT_PARAMS)}")
    out = sys.stdout if out is None else out
    names = list(grid)
    combos = [dict(zip(names, values, strict=True))
              for values in itertools.product(*(grid[n] for n in names))]
    print(f"grid search: {len(combos)} combinations, {folds}-fold x {repeats} repeat(s), "
          f"seed {seed}", file=out)
    results = []
    for number, combo in enumerate(combos, start=1):
        params = {**DEFAULT_PARAMS, **combo}
        report = cross_validate(examples, params, folds=folds, repeats=repeats, seed=seed)
        macro = report.overall["macro_f1"]
        safety = report.overall["categories"]["safety"]["recall"]
        results.append((params, macro, safety))
        print(f"  {number:>2}/{len(combos)} {_params_text(combo):<40} "
              f"macro-F1 {macro:.4f}  safety recall {safety:.4f}", file=out, flush=True)
    results.sort(key=lambda r: -r[1])
    best = results[0]
    print(f"best: {_params_text({n: best[0][n] for n in names})} "
          f"(macro-F1 {best[1]:.4f}, safety recall {best[2]:.4f})", file=out)
    return results


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in params.items())


# --- plain-text report -------------------------------------------------------------------

_SHORT = {c: c[0].upper() for c in CATEGORIES}


def _short_set(name: str) -> str:
    return name if name == OTHER else "+".join(_SHORT[c] for c in name.split("+"))


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(header, widths, strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w)
                               for i, (v, w) in enumerate(zip(row, widths, strict=True))))
    return lines


def format_report(report: Report) -> str:
    """The report as plain-text tables."""
    overall, spread = report.overall, report.spread
    lines = [f"Evaluation ({report.kind}): {report.description}",
             f"{report.examples} examples"]
    params = report.settings.get("params")
    if params:
        lines.append("params: " + _params_text(params))
    if report.settings.get("aggregation"):
        lines.append("aggregation: " + report.settings["aggregation"])
    lines += [f"note: {note}" for note in report.notes]

    def pm(key: str) -> str:
        return f" ± {spread[key]:.3f}" if spread and report.settings.get("repeats", 1) > 1 else ""

    lines += ["", "Per category"]
    rows = []
    for c in CATEGORIES:
        m = overall["categories"][c]
        rows.append([c, str(m["support"]), _num(m["threshold"], 2), _num(m["precision"]),
                     _num(m["recall"]) + pm(f"{c}_recall"), _num(m["f1"]) + pm(f"{c}_f1"),
                     _num(m["pr_auc"]), _num(m["ece"])])
    lines += _table(["category", "support", "thresh", "precision", "recall", "F1", "PR-AUC",
                     "ECE"], rows)
    other = overall["other"]
    lines += [
        "",
        f"macro-F1 {_num(overall['macro_f1'])}{pm('macro_f1')}   "
        f"micro-F1 {_num(overall['micro_f1'])}{pm('micro_f1')}   "
        f"exact label set {_pct(overall['exact_match'])}",
        f"other (no category): {other['count']} texts, "
        f"{_pct(other['false_category_rate'])} given a category",
    ]

    lines += ["", "By language"]
    rows = []
    for lang, m in report.by_language.items():
        rows.append([lang, str(m["n"]), *(_num(m["categories"][c]["f1"]) for c in CATEGORIES),
                     _num(m["categories"]["safety"]["recall"]), _num(m["macro_f1"]),
                     _num(m["micro_f1"]), _pct(m["other"]["false_category_rate"])])
    lines += _table(["lang", "n", *(f"{c} F1" for c in CATEGORIES), "safety recall",
                     "macro-F1", "micro-F1", "other->cat"], rows)

    lines += ["", "Reliability: texts / mean score / positive rate per score bin"]
    rows = []
    for b in range(CALIBRATION_BINS):
        row = []
        for c in CATEGORIES:
            cell = overall["categories"][c]["reliability"][b]
            row.append(f"{cell['count']} / {_num(cell['mean_score'], 2)} / "
                       f"{_num(cell['positive_rate'], 2)}")
        first = overall["categories"][CATEGORIES[0]]["reliability"][b]
        rows.append([f"{first['lo']:.1f}-{first['hi']:.1f}", *row])
    lines += _table(["bin", *CATEGORIES], rows)

    pooled = " (pooled over repeats)" if report.settings.get("repeats", 1) > 1 else ""
    lines += ["", f"Confusion of label sets{pooled}: rows true, columns predicted"]
    rows = [[_short_set(true), *(str(report.confusion[true][p]) for p in LABEL_SETS)]
            for true in LABEL_SETS]
    lines += _table(["true \\ predicted", *(_short_set(p) for p in LABEL_SETS)], rows)
    lines.append("  " + ", ".join(f"{s} = {c}" for c, s in _SHORT.items()))

    lines += ["", f"Worst errors (largest total |score - truth|, {len(report.worst_errors)})"]
    for rank, error in enumerate(report.worst_errors, start=1):
        scores = " ".join(f"{_SHORT[c]} {error['scores'][c]:.2f}" for c in CATEGORIES)
        lines.append(f"{rank:>2}. [{error['lang']}] true {label_set(error['true'])}, "
                     f"predicted {label_set(error['predicted'])}, error {error['error']:.2f} "
                     f"({scores}) #{error['index']}")
        lines.append(f"    {error['text']}")
    return "\n".join(lines) + "\n"
