"""The classifier: training, save/load, behaviour in both languages, and the CLI."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ml
from ml.classifier import ModelError
from ml.corpus import CorpusError, load_corpus, read_examples
from ml.text import analyze, detect_language, tokenize

ROOT = Path(__file__).resolve().parent.parent


def test_corpus_is_large_varied_and_bilingual():
    examples = load_corpus()
    assert len(examples) >= 300
    languages = {e.lang for e in examples}
    assert {"sv", "en"} <= languages
    assert sum(not e.labels for e in examples) >= 0.1 * len(examples)
    assert sum(len(e.labels) >= 2 for e in examples) >= 0.2 * len(examples)
    assert len({e.text for e in examples}) == len(examples)


def test_tokens_keep_abbreviations_doses_and_numbers():
    assert tokenize("Pat fick 2.5 mg i.v. kl 08:30, covid-19") == [
        "pat", "fick", "2.5", "mg", "i.v", "kl", "08", "30", "covid-19"]


def test_negation_marks_the_following_words():
    assert "neg_harm" in analyze("No patient was harmed", "en").split()
    assert "neg_harm" not in analyze("The patient was harmed", "en").split()


@pytest.mark.parametrize(("text", "language"), [
    ("Patienten fick fel dos eftersom provsvaret inte syntes", "sv"),
    ("systemet hanger sig hela tiden och vi kan inte logga in", "sv"),
    ("The patient was given the wrong dose because the result was missing", "en"),
    ("nobody showed us how to print labels", "en"),
])
def test_language_detection(text, language):
    assert detect_language(text) == language


def test_save_and_load_round_trip(classifier):
    texts = ["Fel patient fick läkemedlet", "The screen froze", "Parkeringen är full"]
    loaded = ml.Classifier.from_bytes(classifier.to_bytes())
    assert loaded.predict(texts) == classifier.predict(texts)
    assert loaded.thresholds == classifier.thresholds


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_broken_artifact_is_refused(data):
    with pytest.raises(ModelError):
        ml.Classifier.from_bytes(data)


def test_training_refuses_too_little_data():
    with pytest.raises(ValueError, match="at least"):
        ml.Classifier.train(["a"] * 3, [["safety"]] * 3)
    with pytest.raises(ValueError, match="unknown categories"):
        ml.Classifier.train(["a"] * 20, [["parking"]] * 20)


def test_cross_validated_metrics_are_recorded(classifier):
    metrics = classifier.metrics
    assert set(metrics["categories"]) == set(ml.CATEGORIES)
    assert metrics["macro_f1"] >= 0.8
    assert metrics["categories"]["safety"]["recall"] >= 0.9


# Behavioural cases: clear reports in both languages, and edits that must not flip them.
CLEAR_CASES = [
    ("Patienten fick dubbel dos insulin eftersom ordinationen låg två gånger.", "safety"),
    ("The lab result for potassium never reached the record and treatment was delayed.",
     "safety"),
    ("Vi har inte fått någon utbildning i det nya journalsystemet, ingen superanvändare finns.",
     "training"),
    ("Nobody showed us how to use the new ordering screens, the e-learning was far too short.",
     "training"),
    ("Systemet kraschar varje gång jag försöker öppna journalen, väldigt långsamt.",
     "functionality"),
    ("The system freezes and logs me out every ten minutes, error message every time.",
     "functionality"),
]


@pytest.mark.parametrize(("text", "category"), CLEAR_CASES)
def test_clear_cases_get_their_category(classifier, text, category):
    assert category in classifier.predict_one(text).labels


@pytest.mark.parametrize("text", ["Parkeringen vid sjukhuset är alltid full på morgonen.",
                                  "Thanks to the canteen staff for the lovely cake on Friday."])
def test_other_gets_no_category(classifier, text):
    assert classifier.predict_one(text).labels == []


@pytest.mark.parametrize(("original", "variant"), [
    ("Patienten fick fel dos morfin på avdelning 12.", "Patienten fick fel dos morfin på avd 34."),
    ("Patienten fick fel dos morfin.", "Patienten fick fel dso morfin."),
    ("Patienten fick fel dos morfin.", "The patient was given the wrong dose of morphine."),
])
def test_safety_survives_ward_changes_typos_and_translation(classifier, original, variant):
    assert "safety" in classifier.predict_one(original).labels
    assert "safety" in classifier.predict_one(variant).labels


def run_ml(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ml", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env=env, timeout=300)


def test_cli_train_and_classify(tmp_path):
    data = tmp_path / "small.jsonl"
    examples = load_corpus()[:200]
    data.write_text("\n".join(json.dumps({"text": e.text, "labels": e.labels})
                              for e in examples), encoding="utf-8")
    model = tmp_path / "model.skops"
    trained = run_ml("train", "--data", str(data), "--out", str(model))
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["examples"] == 200
    lines = [{"text": "Systemet kraschade"}, {"text": "Fel dos till fel patient"}]
    result = run_ml("classify", "--model", str(model),
                    stdin="\n".join(json.dumps(line) for line in lines) + "\n")
    assert result.returncode == 0, result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(outputs) == 2
    for output in outputs:
        assert set(output) == {"labels", "scores"}
        assert set(output["scores"]) == set(ml.CATEGORIES)
        assert set(output["labels"]) <= set(ml.CATEGORIES)


def test_cli_classify_reports_a_bad_line(tmp_path, classifier):
    model = tmp_path / "model.skops"
    model.write_bytes(classifier.to_bytes())
    result = run_ml("classify", "--model", str(model), stdin='{"text": "ok text"}\n{"txt": 1}\n')
    assert result.returncode == 2
    assert "line 2" in result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_cli_classify_without_model_trains_and_caches_the_default(tmp_path):
    import os

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    result = run_ml("classify", stdin='{"text": "Systemet hänger sig"}\n', env=env)
    assert result.returncode == 0, result.stderr
    assert "functionality" in json.loads(result.stdout)["labels"]
    assert list((tmp_path / "vaka").glob("default-model-*.skops"))


def test_cli_reports_missing_files(tmp_path):
    result = run_ml("classify", "--model", str(tmp_path / "missing.skops"))
    assert result.returncode == 2 and "error" in result.stderr


def test_bad_corpus_line_is_named():
    with pytest.raises(CorpusError, match=":2:"):
        list(read_examples(iter(['{"text": "ok", "labels": []}\n', '{"text": 1}\n'])))


@pytest.mark.parametrize(("negated", "stated"), [
    ("Systemet var långsamt hela förmiddagen men ingen patient kom till skada.",
     "En patient kom till skada."),
    ("No patient was harmed, the screen was just slow all morning.",
     "A patient was harmed, the screen was slow all morning."),
])
def test_a_negated_risk_does_not_become_safety(classifier, negated, stated):
    assert "safety" not in classifier.predict_one(negated).labels
    assert "safety" in classifier.predict_one(stated).labels


def test_scores_near_a_threshold_need_review(classifier):
    import numpy as np

    at = [classifier.thresholds[c] for c in ml.CATEGORIES]
    assert classifier.decide(np.array(at), "sv").needs_review
    far = [0.0 if t > 0.5 else 1.0 for t in at]
    assert not classifier.decide(np.array(far), "sv").needs_review


def test_calibration_maps_decisions_monotonically(classifier):
    import numpy as np

    for platt in classifier.calibration.values():
        probabilities = platt(np.linspace(-5, 5, 11), np.zeros(11))
        assert platt.slope > 0
        assert platt.vote_slope > 0  # the nearest examples having a category raises it
        assert np.all(np.diff(probabilities) > 0) and 0 < probabilities[0] < probabilities[-1] < 1


def test_explanation_adds_up_to_the_linear_score(classifier):
    import numpy as np

    from ml.explain import token_weights
    from ml.text import token_spans

    text = "Ingen har visat oss hur man ordinerar, patienten fick fel dos och systemet hängde sig."
    slopes = np.array([classifier.calibration[c].slope for c in ml.CATEGORIES])
    linear = classifier.decision([text])[0][0]
    total = token_weights(classifier, text, token_spans(text)).sum(axis=1)
    np.testing.assert_allclose(total, (linear - classifier.intercept) * slopes,
                               rtol=1e-6, atol=1e-6)


def test_explanation_names_words_of_the_text(classifier):
    from ml.explain import explain

    text = "Patienten fick fel dos insulin eftersom ordinationen inte syntes."
    words = explain(classifier, text)
    assert set(words) == set(ml.CATEGORIES)
    safety = words["safety"]
    assert safety and all(text[w.start:w.end] == w.text and w.weight > 0 for w in safety)
    assert {"dos", "insulin", "ordinationen", "Patienten"} & {w.text for w in safety}
    assert [w.weight for w in safety] == sorted((w.weight for w in safety), reverse=True)


def test_models_and_ml_agree_on_the_categories():
    import models

    assert models.CATEGORIES == ml.CATEGORIES


def test_training_stores_calibration_figures(classifier):
    safety = classifier.metrics["categories"]["safety"]
    assert 0 <= safety["ece"] < 0.08
    assert sum(b["count"] for b in safety["reliability"]) == classifier.metrics["n"]


def test_cli_classify_explain(tmp_path, classifier):
    model = tmp_path / "model.skops"
    model.write_bytes(classifier.to_bytes())
    text = "Patienten fick fel dos insulin."
    plain = run_ml("classify", "--model", str(model), stdin=json.dumps({"text": text}) + "\n")
    assert set(json.loads(plain.stdout)) == {"labels", "scores"}
    result = run_ml("classify", "--model", str(model), "--explain",
                    stdin=json.dumps({"text": text}) + "\n")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert set(output["explanation"]) == set(ml.CATEGORIES)
    word, start, end, weight = output["explanation"]["safety"][0]
    assert text[start:end] == word and weight > 0


def test_negation_scope_ends_at_punctuation_and_but():
    features = analyze("No patient was harmed, the screen froze", "en").split()
    assert "neg_harm" in features and "neg_screen" not in features
    features = analyze("Ingen patient skadades men systemet hängde sig", "sv").split()
    assert "neg_patient" in features and not any(f.startswith("neg_system") for f in features)


# The fast scorer and the explicit vectors (ml.features) must agree exactly.
AWKWARD_TEXTS = [
    "", "   ", "!!!", "No.", "inte", "fast", "xyzzy plörk qwerty",
    "No patient was harmed, but the screen froze (again) and we couldn’t log in.",
    "Ingen patient kom till skada men systemet hängde sig; ingen visste varför.",
    "Pat fick 2.5 mg i.v. kl 08:30 på avd 12 - fel dos!! Läk informerad.",
    "Never trained, never shown, never told: the pump, the pump, the pump.",
]


def test_fast_scores_equal_the_explicit_vectors(classifier):
    import numpy as np

    texts = AWKWARD_TEXTS + [e.text for e in load_corpus()[:40]]
    fast, languages = classifier.decision(texts)
    words, chars, explicit_languages = classifier.vectorizer.transform(texts)
    n = classifier.vectorizer.n_words
    explicit = (words @ classifier.coef[:, :n].T + chars @ classifier.coef[:, n:].T
                + classifier.intercept)
    np.testing.assert_allclose(fast, explicit, rtol=1e-9, atol=1e-9)
    assert languages == explicit_languages == [detect_language(t) for t in texts]


def test_scores_do_not_depend_on_what_was_classified_before(classifier, monkeypatch):
    from ml import features

    texts = AWKWARD_TEXTS + [e.text for e in load_corpus()[:30]]
    fresh = ml.Classifier.from_bytes(classifier.to_bytes())
    expected = fresh.predict(texts)
    assert fresh.predict(list(reversed(texts))) == list(reversed(expected))
    # A cache that is emptied between batches gives the same answers.
    monkeypatch.setattr(features, "CACHE_LIMIT", 5)
    assert [fresh.predict_one(t) for t in texts] == expected
    assert fresh.vectorizer.encoder.generation > 0


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("No patient was harmed, the screen froze.", "en",
     [("not", 0), ("patient", 1), ("neg_patient", 1), ("harm", 3), ("neg_harm", 3),
      ("screen", 5), ("froze", 6)]),
    # Scopes end at brackets and at "fast" inside a chunk ("patient—fast").
    ("Inget fel (inte alls) men ingen patient—fast ej skadad", "sv",
     [("not", 0), ("fel", 1), ("neg_fel", 1), ("not", 2), ("all", 3), ("neg_all", 3),
      ("not", 5), ("patient", 6), ("neg_patient", 6), ("fast", 7), ("not", 8), ("skad", 9),
      ("neg_skad", 9)]),
])
def test_word_features_name_their_tokens(text, language, expected):
    from ml.text import word_features

    assert word_features(text, language) == expected
    assert analyze(text, language).split() == [feature for feature, _ in expected]


def test_artifact_holds_plain_data_only(classifier):
    import skops.io as sio

    assert sio.get_untrusted_types(data=classifier.to_bytes()) == []


class _Intruder:
    def __init__(self) -> None:
        self.payload = "anything"


@pytest.mark.parametrize("state", [
    {"format": 3, "vectorizer": _Intruder()},  # a type skops does not trust
    {"format": 2, "pipeline": None},            # an artifact of an older version
    {"format": 3, "coef": [1.0]},               # this version's, but incomplete
    ["not", "a", "dict"],
])
def test_foreign_or_old_artifacts_are_refused(state):
    import skops.io as sio

    with pytest.raises(ModelError):
        ml.Classifier.from_bytes(sio.dumps(state))


def test_threads_sharing_a_model_get_the_same_answers(classifier):
    from concurrent.futures import ThreadPoolExecutor

    texts = [e.text for e in load_corpus()[:120]] + AWKWARD_TEXTS
    expected = ml.Classifier.from_bytes(classifier.to_bytes()).predict(texts)
    shared = ml.Classifier.from_bytes(classifier.to_bytes())  # nothing cached yet
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(shared.predict_one, texts))
    assert answers == expected


def test_thresholds_keep_each_language_under_the_other_rate_ceiling():
    import numpy as np

    from ml.classifier import OTHER_RATE_CEILING, choose_thresholds

    # 50 clear texts per category, 100 Swedish "other" texts scored low, and 10 English
    # ones of which 9 look like training (score 0.5, as do the training texts).
    rows, truth, languages = [], [], []
    for i in range(3):
        for _ in range(50):
            rows.append([0.95 if j == i else 0.05 for j in range(3)])
            truth.append([int(j == i) for j in range(3)])
            languages.append("sv")
    rows[50:100] = [[0.05, 0.5, 0.05]] * 50
    rows += [[0.05, 0.05, 0.05]] * 101 + [[0.05, 0.5, 0.05]] * 9
    truth += [[0, 0, 0]] * 110
    languages += ["sv"] * 100 + ["en"] * 10
    y, scores = np.array(truth), np.array(rows)
    pooled = choose_thresholds(y, scores)
    assert pooled["training"] <= 0.5  # 9 of 110 other texts: under the ceiling together
    assert 9 / 110 <= OTHER_RATE_CEILING < 9 / 10
    per_language = choose_thresholds(y, scores, languages)
    assert per_language["training"] > 0.5  # 9 of 10 English other texts would get a category
    assert per_language["safety"] <= 0.95 and per_language["functionality"] <= 0.95
