"""Knowing when it does not know: a report unlike every corpus example is tempered
toward the thresholds and needs review; the report page shows the corpus examples
nearest to it, never another report."""

import numpy as np
import pytest

import ml
from ml.classifier import REVIEW_MARGIN, Classifier
from ml.embedding import embed
from ml.errors import ModelError
from ml.explain import nearest_examples
from ml.familiarity import FLOOR, VOTE_SHARPNESS, VOTERS, Familiarity, neighbourhood

#: From issue 13: scored training 0.73, 0.96 and 1.00 before familiarity and the voices
#: of the corpus that say such things.
PRAISE_FROM_THE_ISSUE = ["Nothing at all.", "Could not have done better.",
                         "There is not a thing you need to do better."]
#: Nothing in the corpus is about physics, taxes or poetry.
UNLIKE_THE_CORPUS = [
    "Quantum chromodynamics describes colour charge carried by quarks and gluons.",
    "Tax returns for freelancers must list every invoice issued in the fiscal year.",
    "The sonnet's volta turns on the ninth line, recasting the octave's grief."]
LIKE_THE_CORPUS = "Journalsystemet kraschar varje gång jag ska signera en ordination."


@pytest.mark.parametrize("text", PRAISE_FROM_THE_ISSUE)
def test_praise_gets_no_confident_category(classifier, text):
    prediction = classifier.predict_one(text)
    assert prediction.labels == [] or (prediction.needs_review
                                       and max(prediction.scores.values()) < 0.75)


@pytest.mark.parametrize("text", UNLIKE_THE_CORPUS)
def test_a_text_unlike_the_corpus_is_unsure_and_needs_review(classifier, text):
    prediction = classifier.predict_one(text)
    assert prediction.familiarity < 0.5
    assert prediction.needs_review
    assert max(prediction.scores.values()) < 0.75
    for category in prediction.labels:
        assert prediction.scores[category] - classifier.thresholds[category] < REVIEW_MARGIN


def test_a_text_like_the_corpus_keeps_its_confident_score(classifier):
    prediction = classifier.predict_one(LIKE_THE_CORPUS)
    assert prediction.familiarity == 1.0
    assert prediction.labels == ["functionality"]
    assert prediction.scores["functionality"] > 0.9
    assert not prediction.needs_review


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_text_is_wholly_unfamiliar_and_gets_no_category(classifier, text):
    prediction = classifier.predict_one(text)
    assert prediction.familiarity == 0.0
    assert prediction.labels == []


def test_punctuation_alone_gets_no_category(classifier):
    """The corpus's empty answers ("-", "–") make it familiar; either way, no category."""
    assert classifier.predict_one("!!! ???").labels == []


def test_tempering_never_moves_a_score_across_its_threshold():
    rng = np.random.default_rng(0)
    scores, factor = rng.random((500, 3)), rng.random(500)
    thresholds = np.array([0.4, 0.6, 0.5])
    tempered = Familiarity.temper(scores, factor, thresholds)
    assert ((tempered >= thresholds) == (scores >= thresholds)).all()
    assert (np.abs(tempered - thresholds) <= np.abs(scores - thresholds) + 1e-12).all()
    below = scores <= thresholds
    assert (tempered[below] == scores[below]).all()  # no category is made more likely
    wholly_unfamiliar = Familiarity.temper(scores, np.zeros(500), thresholds)
    assert np.allclose((wholly_unfamiliar - thresholds)[~below],
                       (FLOOR * (scores - thresholds))[~below])


def test_the_factor_runs_from_the_low_anchor_to_the_high_one():
    familiarity = Familiarity(vectors=np.zeros((0, 2)), label_rows=np.zeros((0, 3)), texts=[],
                              labels=[], low=0.2, high=0.6)
    assert familiarity.factor(np.array([0.0, 0.2, 0.4, 0.6, 0.9])).tolist() == pytest.approx(
        [0.0, 0.0, 0.25, 1.0, 1.0])


def test_the_anchors_come_from_held_out_similarities(classifier):
    """Most training texts are familiar: the high anchor is the 25th percentile."""
    examples = ml.load_corpus()
    similarity, _ = classifier.familiarity.neighbourhood(embed([e.text for e in examples[::10]]))
    factor = classifier.familiarity.factor(similarity)
    assert (factor == 1.0).mean() > 0.9  # they are in the model's own examples
    assert classifier.familiarity.low < classifier.familiarity.high


def test_the_nearest_examples_are_labeled_corpus_texts_nearest_first(classifier):
    corpus = {e.text: e.labels for e in ml.load_corpus()}
    nearness = nearest_examples(classifier, LIKE_THE_CORPUS, k=3)
    assert len(nearness.neighbours) == 3
    for neighbour in nearness.neighbours:
        assert corpus[neighbour.text] == neighbour.labels
    similarities = [n.similarity for n in nearness.neighbours]
    assert similarities == sorted(similarities, reverse=True)
    assert nearness.familiarity == classifier.predict_one(LIKE_THE_CORPUS).familiarity


def test_familiarity_survives_the_artifact(classifier, classifier_artifact):
    loaded = Classifier.from_bytes(classifier_artifact)
    assert loaded.predict(UNLIKE_THE_CORPUS) == classifier.predict(UNLIKE_THE_CORPUS)
    assert loaded.familiarity.texts == classifier.familiarity.texts


def test_an_artifact_whose_examples_do_not_match_its_vectors_is_refused(classifier):
    import skops.io as sio

    state = sio.loads(classifier.to_bytes())
    state["familiarity"]["vectors"] = state["familiarity"]["vectors"][:-1]
    with pytest.raises(ModelError, match="incomplete"):
        Classifier.from_bytes(sio.dumps(state))


def test_the_report_page_shows_the_nearest_corpus_examples_not_other_reports(
        client, coordinator, make_report, active_model, classifier):
    make_report("Min egen rapport: skrivaren på avdelningen är trasig igen.")
    report = make_report(UNLIKE_THE_CORPUS[2])
    page = client.get(f"/triage/reports/{report}").get_data(as_text=True)
    assert 'id="nearness"' in page
    nearness = nearest_examples(classifier, UNLIKE_THE_CORPUS[2])
    shown = [n for n in nearness.neighbours if n.text[:40].replace("'", "&#39;") in page]
    assert len(shown) == len(nearness.neighbours) == 3
    assert "Min egen rapport" not in page
    assert str(round(nearness.familiarity * 100)) + " %" in page


def test_only_the_citable_texts_are_kept_and_shown():
    """Reports a model learns from (after the corpus) count for familiarity, but their
    text is neither kept in the model nor shown as an example."""
    corpus = ml.load_corpus()[:300]
    reports = ["Rapport från avd 7: skrivaren skriver ut fel etiketter på proverna.",
               "Rapport från avd 9: skrivaren skriver ut fel etiketter på rören."]
    model = Classifier.train([e.text for e in corpus] + reports,
                             [e.labels for e in corpus] + [["functionality"]] * 2,
                             citable=len(corpus))
    assert model.familiarity.texts == [e.text for e in corpus]
    assert len(model.familiarity.vectors) == len(corpus) + 2
    loaded = Classifier.from_bytes(model.to_bytes())
    assert not any("avd 7" in text or "avd 9" in text for text in loaded.familiarity.texts)
    nearness = nearest_examples(loaded, reports[0])
    assert nearness.familiarity == 1.0  # its own vector is among the training vectors
    assert {n.text for n in nearness.neighbours} <= {e.text for e in corpus}


def test_the_nearest_examples_vote_by_similarity():
    """The vote per category is the share of the nearest examples that have it, each
    weighted by its similarity to the power VOTE_SHARPNESS; farther ones do not vote."""
    angles = np.radians([0.0, 30.0, 60.0] + [179.0] * VOTERS)
    vectors = np.column_stack([np.cos(angles), np.sin(angles)])
    label_rows = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0]] + [[0, 0, 1]] * VOTERS)
    nearest, votes = neighbourhood(np.array([[1.0, 0.0]]), vectors, label_rows)
    assert nearest[0] == pytest.approx(1.0)
    assert votes[0, 2] == pytest.approx(0.0, abs=1e-6)  # the far ones weigh next to nothing
    weights = np.cos(np.radians([0.0, 30.0, 60.0])) ** VOTE_SHARPNESS
    assert votes[0, 0] == pytest.approx(weights[:2].sum() / weights.sum(), rel=1e-4)
    assert votes[0, 1] == pytest.approx(weights[1:].sum() / weights.sum(), rel=1e-4)
    few_nearest, few = neighbourhood(np.array([[0.0, 1.0]]), vectors[:2], label_rows[:2])
    # Fewer examples than voters: both vote, and the one at 90 degrees weighs nothing.
    assert few[0].tolist() == pytest.approx([1.0, 1.0, 0.0], abs=1e-6)
    assert few_nearest[0] == pytest.approx(0.5)
    empty_nearest, empty = neighbourhood(np.ones((2, 2)), np.zeros((0, 2)), np.zeros((0, 3)))
    assert empty_nearest.tolist() == [0.0, 0.0] and empty.tolist() == [[0.0] * 3] * 2


def test_a_score_is_its_words_its_vote_and_its_intercepts(classifier):
    """The explanation is exact: for a familiar text (nothing tempered) each score's
    log-odds are the words' weights, plus what the vote added, plus the intercepts."""
    from ml.explain import token_weights
    from ml.text import token_spans

    scores, _ = classifier.scores([LIKE_THE_CORPUS])
    words = token_weights(classifier, LIKE_THE_CORPUS, token_spans(LIKE_THE_CORPUS)).sum(axis=1)
    nearness = nearest_examples(classifier, LIKE_THE_CORPUS)
    assert nearness.familiarity == 1.0
    for i, vote in enumerate(nearness.votes):
        platt = classifier.calibration[vote.category]
        log_odds = np.log(scores[0, i] / (1 - scores[0, i]))
        assert log_odds == pytest.approx(words[i] + vote.weight + platt.slope
                                         * classifier.intercept[i] + platt.intercept, abs=1e-3)
    assert max(vote.weight for vote in nearness.votes) > 0.5  # the vote does move it


def test_the_report_page_shows_the_vote(client, coordinator, make_report, active_model,
                                         classifier):
    report = make_report(LIKE_THE_CORPUS)
    page = client.get(f"/triage/reports/{report}").get_data(as_text=True)
    nearness = nearest_examples(classifier, LIKE_THE_CORPUS)
    assert f"The {nearness.voters} examples most like this report vote" in page
    names = {"safety": "Patient safety", "training": "Training",
             "functionality": "Functionality"}
    shown = ", ".join(f"{names[vote.category]} {round(vote.share * 100)} % ({vote.weight:+.1f})"
                      for vote in nearness.votes)
    assert shown + "." in page, page[page.find('id="vote"'):][:500]


def test_an_artifact_whose_labels_do_not_match_its_vectors_is_refused(classifier):
    import skops.io as sio

    state = sio.loads(classifier.to_bytes())
    state["familiarity"]["label_rows"] = state["familiarity"]["label_rows"][:-1]
    with pytest.raises(ModelError, match="incomplete"):
        Classifier.from_bytes(sio.dumps(state))
