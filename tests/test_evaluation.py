"""Evaluation tooling: metrics, cross-validation, reports, grid search, corpus check, CLI."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ml
from ml import corpus_check, evaluation
from ml import metrics as scoring
from ml.__main__ import main
from ml.corpus import Example

ROOT = Path(__file__).resolve().parent.parent
NO_THRESHOLDS = dict.fromkeys(ml.CATEGORIES, 0.5)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ml", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)


def write_jsonl(path: Path, examples: list[Example]) -> Path:
    path.write_text("".join(json.dumps({"text": e.text, "labels": e.labels, "lang": e.lang},
                                       ensure_ascii=False) + "\n" for e in examples),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    return ml.load_corpus()


@pytest.fixture(scope="module")
def small_model(corpus) -> ml.Classifier:
    """Trained on 300 texts (every fifth); `held_out` never overlaps them."""
    train = corpus[::5][:300]
    return ml.Classifier.train([e.text for e in train], [e.labels for e in train])


@pytest.fixture(scope="module")
def held_out(corpus) -> list[Example]:
    return corpus[2::35]


@pytest.fixture(scope="module")
def cv_report(corpus) -> evaluation.Report:
    return evaluation.cross_validate(corpus[::7][:200], folds=3, repeats=1, seed=0)


# --- metrics on hand-made arrays ---------------------------------------------------------

def test_precision_recall_f1_and_other_rate_have_known_values():
    y = np.array([[1, 0, 0], [1, 0, 0], [0, 0, 0], [0, 0, 0]])
    scores = np.array([[0.9, 0.0, 0.0], [0.4, 0.0, 0.0], [0.6, 0.0, 0.0], [0.1, 0.0, 0.0]])
    result = scoring.metrics(y, scores, NO_THRESHOLDS)
    safety = result["categories"]["safety"]
    assert (safety["precision"], safety["recall"], safety["f1"]) == (0.5, 0.5, 0.5)
    assert safety["support"] == 2
    assert safety["pr_auc"] == pytest.approx(0.8333, abs=1e-4)  # ranks: hit, miss, hit
    assert result["categories"]["training"]["pr_auc"] is None  # no positives: undefined
    assert result["micro_f1"] == 0.5
    assert result["macro_f1"] == pytest.approx(0.5 / 3, abs=1e-4)
    # Two texts are "other"; one of them (score 0.6) was given safety.
    assert result["other"] == {"count": 2, "false_category_rate": 0.5}
    assert result["exact_match"] == 0.5


def test_perfectly_calibrated_bins_have_zero_ece():
    truth = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    scores = np.array([0.25] * 4 + [0.75] * 4)
    y = np.column_stack([truth, truth, truth])
    result = scoring.metrics(y, np.column_stack([scores] * 3), NO_THRESHOLDS)
    for category in ml.CATEGORIES:
        m = result["categories"][category]
        assert m["ece"] == 0
        filled = [b for b in m["reliability"] if b["count"]]
        assert [(b["lo"], b["count"], b["mean_score"], b["positive_rate"]) for b in filled] == [
            (0.2, 4, 0.25, 0.25), (0.7, 4, 0.75, 0.75)]
        assert len(m["reliability"]) == 10


def test_ece_weights_bins_by_count():
    # 2 texts at 0.9 that are all negative (gap 0.9), 2 at 0.1 that are all negative (gap 0.1).
    ece, bins = scoring.reliability(np.array([0, 0, 0, 0]), np.array([0.9, 0.9, 0.1, 0.1]))
    assert ece == pytest.approx(0.5)
    assert bins[9]["count"] == 2 and bins[1]["count"] == 2
    # Bin edges: 0.3 starts the fourth bin, 1.0 belongs to the last.
    _, bins = scoring.reliability(np.array([1, 1]), np.array([0.3, 1.0]))
    assert bins[3]["count"] == 1 and bins[9]["count"] == 1


def test_given_decisions_override_thresholds():
    y = np.array([[1, 1, 0], [0, 0, 1]])
    scores = np.array([[0.1, 0.1, 0.1], [0.1, 0.1, 0.1]])
    result = scoring.metrics(y, scores, NO_THRESHOLDS, predicted=y)
    assert result["macro_f1"] == 1.0 and result["exact_match"] == 1.0


def test_metrics_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="n x 3"):
        scoring.metrics(np.zeros((2, 3)), np.zeros((3, 3)), NO_THRESHOLDS)


def test_rare_label_sets_are_merged_for_stratification():
    examples = ([Example("a", ["safety"])] * 6 + [Example("b", [])] * 6
                + [Example("c", ["training"])] * 2 + [Example("d", ["safety", "training"])] * 2)
    keys = evaluation.stratification_keys(examples, folds=3)
    assert keys.count("rare") == 4 and set(keys) == {"safety", "other", "rare"}
    # A rare pool still too small joins the most common set.
    keys = evaluation.stratification_keys(examples[:13], folds=3)
    assert set(keys) == {"safety", "other"}


# --- cross-validation, held-out evaluation, report, search -------------------------------

def test_cross_validation_returns_every_section(cv_report):
    report = cv_report
    assert report.examples == 200 and report.kind == "cross-validation"
    assert set(report.overall["categories"]) == set(ml.CATEGORIES)
    for category in ml.CATEGORIES:
        m = report.overall["categories"][category]
        assert {"precision", "recall", "f1", "pr_auc", "ece", "reliability"} <= set(m)
        assert sum(b["count"] for b in m["reliability"]) == 200
    assert 0.5 < report.overall["macro_f1"] <= 1
    assert report.overall["micro_f1"] is not None
    assert report.overall["other"]["count"] > 0
    assert set(report.by_language) == {"sv", "en", "mixed"}
    assert sum(m["n"] for m in report.by_language.values()) == 200
    assert sum(sum(row.values()) for row in report.confusion.values()) == 200
    assert 0 < len(report.worst_errors) <= 10
    errors = [e["error"] for e in report.worst_errors]
    assert errors == sorted(errors, reverse=True)
    for error in report.worst_errors:
        assert len(error["text"]) <= 160 and error["true"] != error["predicted"]
    json.dumps(report.to_dict())  # JSON-ready: no NaN, no numpy types


def test_format_report_names_categories_and_sections(cv_report):
    text = evaluation.format_report(cv_report)
    for word in (*ml.CATEGORIES, "macro-F1", "micro-F1", "By language", "Reliability",
                 "Confusion", "Worst errors", "mixed"):
        assert word in text


def test_evaluate_file_scores_an_existing_model(small_model, held_out):
    report = evaluation.evaluate_file(small_model, held_out)
    assert report.kind == "held-out file" and report.examples == len(held_out)
    assert report.settings["thresholds"] == {c: small_model.thresholds[c] for c in ml.CATEGORIES}
    assert report.overall["macro_f1"] > 0.5
    assert sum(sum(row.values()) for row in report.confusion.values()) == len(held_out)
    with pytest.raises(ValueError, match="no labeled examples"):
        evaluation.evaluate_file(small_model, [])


def test_search_is_repeatable_and_sorted(corpus):
    sample = corpus[1::13][:110]
    out = io.StringIO()
    grid = {"C": [1.0, 4.0]}
    results = evaluation.search(sample, grid, folds=2, out=out)
    assert sorted(r[0]["C"] for r in results) == [1.0, 4.0]
    assert [r[1] for r in results] == sorted((r[1] for r in results), reverse=True)
    assert all(r[0]["char_ngrams"] == ml.classifier.DEFAULT_PARAMS["char_ngrams"]
               for r in results)
    assert "best:" in out.getvalue()
    assert evaluation.search(sample, grid, folds=2, out=io.StringIO()) == results
    with pytest.raises(ValueError, match="grid keys"):
        evaluation.search(sample, {"gamma": [1]})


# --- corpus check -------------------------------------------------------------------------

DISTINCT = [
    "The screen froze at handover and we lost twenty minutes of notes.",
    "Patienten fick dubbel dos insulin eftersom ordinationen låg två gånger.",
    "Nobody showed us how to print wristbands in the new system.",
    "Parkeringen vid hus 4 är full redan kvart i sju.",
    "The canteen has stopped serving vegetarian food at weekends.",
]


def test_near_duplicates_are_found_and_distinct_texts_pass():
    assert corpus_check.near_duplicates(DISTINCT) == []
    planted = [*DISTINCT, "the SCREEN froze at handover, and we lost twenty minutes of notes!"]
    pairs = corpus_check.near_duplicates(planted)
    assert [(p.first, p.second) for p in pairs] == [(0, 5)]
    assert pairs[0].similarity == pytest.approx(1.0)
    # Chunking the similarity products does not change the answer.
    assert corpus_check.near_duplicates(planted, chunk=2) == pairs


def test_summary_counts_languages_labels_and_other():
    examples = [Example("a b", ["safety"], "sv"), Example("c d", [], "en"),
                Example("e f", ["safety", "training"], "sv"), Example("g h", [], "mixed")]
    summary = corpus_check.summarize(examples)
    assert summary["languages"]["sv"] == {"count": 2, "percent": 50.0}
    assert summary["labels"]["safety"]["count"] == 2
    assert summary["label_sets"]["safety+training"]["count"] == 1
    assert summary["other"] == {"count": 2, "percent": 50.0}


def test_bundled_corpus_has_no_near_duplicates():
    located, result = corpus_check.check_files()
    assert len(located) == len(ml.load_corpus())
    assert result.ok, corpus_check.format_check(located, result)


# --- command line -------------------------------------------------------------------------

def test_cli_evaluates_a_model_on_a_file(tmp_path, small_model, held_out):
    model = tmp_path / "model.skops"
    model.write_bytes(small_model.to_bytes())
    data = write_jsonl(tmp_path / "held-out.jsonl", held_out)
    result = run_cli("evaluate", "--data", str(data), "--model", str(model))
    assert result.returncode == 0, result.stderr
    for word in (*ml.CATEGORIES, "macro-F1", "held-out file"):
        assert word in result.stdout
    result = run_cli("evaluate", "--data", str(data), "--model", str(model), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["examples"] == len(held_out)
    assert set(report["overall"]["categories"]) == set(ml.CATEGORIES)


@pytest.mark.parametrize("args", [
    ["evaluate", "--model", "model.skops"],             # a model needs a file to score
    ["evaluate", "--data", "missing.jsonl"],
    ["evaluate", "--folds", "1"],
    ["corpus-check", "--data", "missing.jsonl"],
])
def test_cli_bad_input_exits_2(args, capsys):
    assert main(args) == 2
    assert "error:" in capsys.readouterr().err


def test_cli_refuses_a_broken_data_file_and_model(tmp_path, capsys, held_out):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "ok", "labels": ["safety"]}\nnot json\n', encoding="utf-8")
    assert main(["evaluate", "--data", str(broken)]) == 2
    assert "broken.jsonl:2" in capsys.readouterr().err
    data = write_jsonl(tmp_path / "data.jsonl", held_out[:5])
    model = tmp_path / "model.skops"
    model.write_bytes(b"not a model")
    assert main(["evaluate", "--data", str(data), "--model", str(model)]) == 2
    assert "model" in capsys.readouterr().err


def test_cli_corpus_check_exit_codes(tmp_path):
    distinct = write_jsonl(tmp_path / "distinct.jsonl",
                           [Example(t, [], "en") for t in DISTINCT])
    result = run_cli("corpus-check", "--data", str(distinct))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No near-duplicate pairs" in result.stdout and "By language" in result.stdout
    duplicate = write_jsonl(tmp_path / "duplicate.jsonl",
                            [Example(DISTINCT[0].upper(), ["functionality"], "en")])
    result = run_cli("corpus-check", "--data", str(distinct), str(duplicate))
    assert result.returncode == 1
    assert "1 near-duplicate pair" in result.stdout
    assert "distinct.jsonl:1" in result.stdout and "duplicate.jsonl:1" in result.stdout
    assert "(labels differ)" in result.stdout
