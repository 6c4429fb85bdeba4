"""Why the classifier chose a category: the words that pushed each score up.

The words' part of each category's score is a monotone function of one linear
sum over the TF-IDF features, so the sum splits exactly into per-feature contributions
(weight x feature value). Every contribution is handed to the words of the
text it came from: a stem to the tokens it was made from, a word pair half
to each word, a character n-gram to the tokens of the white-space chunk it
stands in (by length). Summed per token, the contributions add up to the
score's linear sum less its intercept (and less what punctuation alone carried).
Weights are in calibrated log-odds: positive pushes the category up.

Filler words (the stop words of both languages, negations included) and
numbers are never shown as reasons, whatever their share: "inte", "för" or
"12" tell a reader nothing even when the model leans on them.

Beside the words, the vote of the labeled training examples nearest to the text
adds to each score's log-odds (`ml.classifier.Platt`), and the scores are
tempered by how like those examples the text is (`ml.familiarity`);
`nearest_examples` shows both: the vote per category with what it added, and
the nearest examples that may be cited (the corpus the team wrote, never
another report).

A score reads as a band (`score_band`): within the model's review margin of
its category's threshold the model is unsure, which is what `needs_review` uses.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from itertools import pairwise

import numpy as np
from stop_words import get_stop_words

from ml import embedding
from ml.classifier import CATEGORIES, REVIEW_MARGIN, Classifier
from ml.familiarity import voter_count
from ml.features import Vectorizer, char_grams
from ml.text import token_spans, word_features


@dataclass(frozen=True)
class Contribution:
    start: int
    end: int
    text: str
    weight: float


@dataclass(frozen=True)
class Neighbour:
    """A labeled training example and its similarity (cosine, -1 to 1) to a text."""

    text: str
    labels: list[str]
    similarity: float


@dataclass(frozen=True)
class Vote:
    """The nearest examples' vote on one category (0 to 1) and what it added to the
    score's log-odds, in the units of the words' weights."""

    category: str
    share: float
    weight: float


@dataclass(frozen=True)
class Nearness:
    """How familiar a text is to the model (1: as near its examples as most texts are),
    the vote of its nearest examples per category, and the citable training examples
    nearest to it, nearest first."""

    familiarity: float
    votes: list[Vote]
    voters: int
    neighbours: list[Neighbour]


def nearest_examples(classifier: Classifier, text: str, k: int = 3) -> Nearness:
    """The text's familiarity and its nearest examples' vote (as `Classifier.predict`
    measures them) and the `k` citable training examples nearest to it."""
    familiarity = classifier.familiarity
    vectors = embedding.embed([text])
    similarity, votes = familiarity.neighbourhood(vectors)
    return Nearness(
        round(float(familiarity.factor(similarity)[0]), 4),
        [Vote(c, round(float(share), 4), round(classifier.calibration[c].vote_slope * share, 4))
         for c, share in zip(CATEGORIES, votes[0].tolist(), strict=True)],
        voter_count(len(familiarity.vectors)),
        [Neighbour(familiarity.texts[i], familiarity.labels[i], round(similarity, 4))
         for i, similarity in familiarity.nearest(vectors[0], k)])


class Band(StrEnum):
    LIKELY = "likely"
    UNSURE = "unsure"
    UNLIKELY = "unlikely"


def score_band(score: float, threshold: float, margin: float = REVIEW_MARGIN) -> Band:
    """A calibrated score in words: unsure within `margin` of the category's threshold
    (the rule of `Classifier` needs_review), else likely above it and unlikely below."""
    if abs(score - threshold) < margin:
        return Band.UNSURE
    return Band.LIKELY if score >= threshold else Band.UNLIKELY


@cache
def _filler_words() -> frozenset[str]:
    return frozenset(get_stop_words("swedish")) | frozenset(get_stop_words("english"))


def is_filler(word: str) -> bool:
    """A stop word of either language, or a token without a letter (a number, a date)."""
    word = word.lower().replace("’", "'")
    return word in _filler_words() or not any(char.isalpha() for char in word)


def explain(classifier: Classifier, text: str, top: int = 6) -> dict[str, list[Contribution]]:
    """For each category, the `top` words of `text` that pushed its score up most,
    filler words and numbers left out (`is_filler`)."""
    every = token_spans(text)
    kept = [t for t, span in enumerate(every) if not is_filler(text[slice(*span)])]
    weights = token_weights(classifier, text, every)[:, kept]
    spans = [every[t] for t in kept]
    result = {}
    for i, category in enumerate(CATEGORIES):
        ranked = sorted(range(len(spans)), key=lambda t: weights[i, t], reverse=True)
        result[category] = [
            Contribution(*spans[t], text[slice(*spans[t])], round(float(weights[i, t]), 4))
            for t in ranked[:top] if weights[i, t] > 0
        ]
    return result


def token_weights(classifier: Classifier, text: str,
                  spans: list[tuple[int, int]]) -> np.ndarray:
    """A (categories x tokens) array of each token's share of each linear score."""
    vectorizer = classifier.vectorizer
    words, chars, (language,) = vectorizer.transform([text])
    slopes = np.array([[classifier.calibration[c].slope] for c in CATEGORIES])
    shares = np.zeros((len(CATEGORIES), len(spans)))
    for row, offset, owners in ((words, 0, _word_owners(vectorizer, text, language)),
                                (chars, vectorizer.n_words, _char_owners(vectorizer, text, spans))):
        for column, value in zip(row.indices, row.data, strict=True):
            contribution = classifier.coef[:, offset + column] * value
            for token, part in owners.of(column):
                shares[:, token] += contribution * part
    return shares * slopes


class _Owners:
    """Which tokens each occurrence of a feature (a column) came from, and in what shares.

    A feature's weight is split equally among its occurrences, and each
    occurrence's part among its tokens; an occurrence without tokens (an
    n-gram of punctuation alone) keeps its part.
    """

    def __init__(self) -> None:
        self.parts: dict[int, list[tuple[int, float]]] = defaultdict(list)
        self.occurrences: Counter[int] = Counter()

    def add(self, column: int | None, parts: list[tuple[int, float]]) -> None:
        if column is not None:
            self.parts[column] += parts
            self.occurrences[column] += 1

    def of(self, column: int) -> list[tuple[int, float]]:
        count = self.occurrences[column]
        return [(token, share / count) for token, share in self.parts.get(column, [])]


def _word_owners(vectorizer: Vectorizer, text: str, language: str) -> _Owners:
    owners = _Owners()
    features = [(vectorizer.word_column(feature), token)
                for feature, token in word_features(text, language)]
    for column, token in features:
        owners.add(column, [(token, 1.0)])
    for (first, a), (second, b) in pairwise(features):
        owners.add(vectorizer.pair_column(first, second), [(a, 0.5), (b, 0.5)])
    return owners


def _char_owners(vectorizer: Vectorizer, text: str, spans: list[tuple[int, int]]) -> _Owners:
    """Character n-grams of each white-space chunk, shared out to the chunk's tokens by length."""
    owners = _Owners()
    low, high = vectorizer.params["char_ngrams"]
    lower = text.lower()
    position = 0
    for chunk in lower.split():
        start = lower.index(chunk, position)
        end = position = start + len(chunk)
        inside = [(t, s[1] - s[0]) for t, s in enumerate(spans) if start <= s[0] < end]
        length = sum(size for _, size in inside)
        parts = [(t, size / length) for t, size in inside]
        for gram in char_grams(chunk, low, high):
            owners.add(vectorizer.char_column(gram), parts)
    return owners
