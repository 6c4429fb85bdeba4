"""Why the classifier chose a category: the words that pushed each score up.

Each category's score is a monotone function of one linear sum over the
TF-IDF features, so the sum splits exactly into per-feature contributions
(weight x feature value). Every contribution is handed to the words of the
text it came from: a stem to the tokens it was made from, a word pair half
to each word, a character n-gram to the tokens of the white-space chunk it
stands in (by length). Summed per token, the contributions add up to the
score's linear sum less its intercept (and less what punctuation alone carried).
Weights are in calibrated log-odds: positive pushes the category up.
"""

from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ml.classifier import CATEGORIES, Classifier
from ml.text import detect_language, normalize, token_spans, word_features


@dataclass(frozen=True)
class Contribution:
    start: int
    end: int
    text: str
    weight: float


def explain(classifier: Classifier, text: str, top: int = 6) -> dict[str, list[Contribution]]:
    """For each category, the `top` words of `text` that pushed its score up most."""
    spans = token_spans(text)
    weights = token_weights(classifier, text, spans)
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
    features = classifier.pipeline.named_steps["features"]
    model = classifier.pipeline.named_steps["model"]
    coef = np.vstack([estimator.coef_.ravel() for estimator in model.estimators_])
    slopes = np.array([[classifier.calibration[c].slope] for c in CATEGORIES])
    words, chars = features.named_transformers_["words"], features.named_transformers_["chars"]
    word_owners = _word_owners(text, detect_language(text))
    char_owners = _CharOwners(text, spans)
    shares = np.zeros((len(CATEGORIES), len(spans)))
    offset = 0
    for vectorizer, document, owners in ((words, " ".join(word_owners.sequence), word_owners),
                                         (chars, normalize(text), char_owners)):
        row = vectorizer.transform([document]).tocoo()
        names = vectorizer.get_feature_names_out()
        for column, value in zip(row.col, row.data, strict=True):
            contribution = coef[:, offset + column] * value
            for token, part in owners.of(names[column]):
                shares[:, token] += contribution * part
        offset += len(names)
    return shares * slopes


class _Owners:
    """Which tokens a feature came from, and what share of it each gets."""

    def __init__(self) -> None:
        self.parts: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.sequence: list[str] = []

    def add(self, feature: str, token: int, share: float) -> None:
        self.parts[feature].append((token, share))

    def of(self, feature: str) -> list[tuple[int, float]]:
        parts = self.parts.get(feature, [])
        total = sum(share for _, share in parts)
        return [(token, share / total) for token, share in parts] if total else []


def _word_owners(text: str, language: str) -> _Owners:
    owners = _Owners()
    features = word_features(text, language)
    owners.sequence = [feature for feature, _ in features]
    for feature, token in features:
        owners.add(feature, token, 1.0)
    for (first, a), (second, b) in pairwise(features):
        owners.add(f"{first} {second}", a, 0.5)
        owners.add(f"{first} {second}", b, 0.5)
    return owners


class _CharOwners:
    """Character n-grams (of padded white-space chunks) shared out to the chunks' tokens."""

    def __init__(self, text: str, spans: list[tuple[int, int]]) -> None:
        self.chunks: list[tuple[str, list[tuple[int, float]]]] = []
        position = 0
        for chunk in text.lower().split():
            start = text.lower().index(chunk, position)
            end = position = start + len(chunk)
            inside = [(t, s[1] - s[0]) for t, s in enumerate(spans) if start <= s[0] < end]
            length = sum(size for _, size in inside)
            self.chunks.append((f" {chunk} ", [(t, size / length) for t, size in inside]))

    def of(self, gram: str) -> list[tuple[int, float]]:
        hits = [(padded.count(gram), tokens) for padded, tokens in self.chunks if gram in padded]
        total = sum(count for count, _ in hits)
        return [(token, count * share / total) for count, tokens in hits
                for token, share in tokens]
