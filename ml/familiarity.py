"""How like the training examples a text is, scores tempered by it, and their vote.

A linear model scores every text, also one unlike anything it learned from:
"There is not a thing you need to do better." shares "not", "need" and
"better" with reports about missing training and so scored training 1.00. A
calibrated score only holds for texts like the ones it was calibrated on, so
each text's familiarity is measured as its cosine similarity to its nearest
training example in a sentence-embedding space (`ml.embedding`), which knows
words and phrasings the corpus never used.

Two anchors come from cross-validation during training: the similarity of
held-out training texts to their nearest example in the other folds, at a low
percentile (below it a text is as far from the examples as hardly any real
training text) and a higher one (from it on a text is as close as most). The
familiarity factor is 0 at the low anchor and 1 from the high one on, the
square of the way between (so it falls off fast below the high anchor). A
score above its category's decision threshold is pulled toward the threshold
by it: ``threshold + (score - threshold) * (FLOOR + (1 - FLOOR) * factor)``, so
a category given to a text unlike anything learned lands in the unsure band
beside the threshold instead of at 0.99, which is what marks a prediction for
review (`Classifier`). The pull never crosses the threshold: the labels stay
the model's, only the confidence goes. Scores below a threshold are left as
they are: pulling them up too would put real praise (truth: no category) at
0.5 and worsen the calibration on real text (ECE 0.04/0.22/0.06 to
0.30/0.48/0.46 measured on the two real sets), for no change of label.

The same nearest examples also vote: per category, the similarity-weighted share
of the `VOTERS` nearest that have it, which the calibration (`ml.classifier.Platt`)
adds to the words' linear score. Where the words' linear model cannot tell two kinds of text
apart (a staff app outside the clinic that crashes is *other*, the record app
that crashes is functionality), the nearest examples often can.

Why not pull unfamiliar texts below the thresholds (no category)? Measured on
real text (ml/README.md): real app reviews about bugs are as far from the
corpus as real praise is, so that rule cut praise given a category from 20% to
10% but functionality recall on the app reviews from 0.71 to 0.47. Nearness to
the corpus tells that the model does not know, not what the right label is.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The share of its distance from the threshold that a wholly unfamiliar score keeps
#: (above 0, so the score stays on its side of the threshold).
FLOOR = 0.1
#: The nearest examples that vote on a text's categories, and the power of their
#: similarity that weighs each vote (the nearest count most).
VOTERS = 10
VOTE_SHARPNESS = 4
#: Queries per block of the similarity matrix (bounds its memory).
_BLOCK = 512


def voter_count(examples: int) -> int:
    """How many examples vote on a text when there are `examples` to choose from."""
    return min(VOTERS, examples)


def neighbourhood(queries: np.ndarray, vectors: np.ndarray,
                  label_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each query row's cosine similarity to its nearest row of `vectors` (unit rows), and
    the vote of its `VOTERS` nearest rows: per category (a column of `label_rows`, 0 or 1
    per row), the share of them that have it, weighted by similarity ** `VOTE_SHARPNESS`."""
    nearest = np.zeros(len(queries), dtype=np.float32)
    votes = np.zeros((len(queries), label_rows.shape[1]))
    if len(vectors) == 0:
        return nearest, votes
    voters = voter_count(len(vectors))
    for start in range(0, len(queries), _BLOCK):
        similarities = queries[start:start + _BLOCK] @ vectors.T
        chosen = np.argpartition(-similarities, voters - 1, axis=1)[:, :voters]
        near = np.take_along_axis(similarities, chosen, axis=1)
        weights = np.maximum(near, 1e-6) ** VOTE_SHARPNESS
        rows = slice(start, start + len(similarities))
        nearest[rows] = near.max(axis=1)
        votes[rows] = np.einsum("qv,qvc->qc", weights, label_rows[chosen]) / weights.sum(
            axis=1, keepdims=True)
    return nearest, votes


@dataclass
class Familiarity:
    #: The training examples' unit embeddings (examples x dimensions), their labels (0 or 1
    #: per category), and the texts and labels of the first of them that may be shown (the
    #: corpus, never a report).
    vectors: np.ndarray
    label_rows: np.ndarray
    texts: list[str]
    labels: list[list[str]]
    #: Similarities at which the factor is 0 and 1.
    low: float
    high: float

    @classmethod
    def fit(cls, vectors: np.ndarray, label_rows: np.ndarray, held_out: np.ndarray,
            texts: list[str], labels: list[list[str]],
            percentiles: Sequence[float]) -> "Familiarity":
        """Anchors from `held_out` (each training text's similarity to the other folds);
        `texts` and `labels` are those of the first vectors, which may be shown."""
        low, high = (float(v) for v in np.percentile(held_out, list(percentiles)))
        # Rounded as the artifact stores them, so a loaded model scores as the trained one.
        return cls(vectors=vectors.astype(np.float16).astype(np.float32),
                   label_rows=np.asarray(label_rows, dtype=np.uint8), texts=list(texts),
                   labels=[list(row) for row in labels], low=low, high=max(high, low + 1e-6))

    def factor(self, similarity: np.ndarray) -> np.ndarray:
        """0 for texts as far as the low anchor or farther, 1 from the high anchor on."""
        return np.clip((similarity - self.low) / (self.high - self.low), 0.0, 1.0) ** 2

    def neighbourhood(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each query's similarity to its nearest example and its nearest examples' vote."""
        return neighbourhood(queries, self.vectors, self.label_rows)

    @staticmethod
    def temper(scores: np.ndarray, factor: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
        """Scores (texts x categories) above their thresholds pulled toward them as far
        as each text is unfamiliar (`factor` below 1), never across them."""
        kept = FLOOR + (1.0 - FLOOR) * factor[:, None]
        return np.where(scores > thresholds, thresholds + (scores - thresholds) * kept, scores)

    def nearest(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The `k` showable examples most similar to one query vector: (index, similarity)."""
        similarities = self.vectors[:len(self.texts)] @ query
        order = np.argsort(-similarities, kind="stable")[:k]
        return [(int(i), float(similarities[i])) for i in order]

    def state(self) -> dict[str, Any]:
        """Plain data for a model artifact (vectors as float16, half the size)."""
        return {"vectors": self.vectors.astype(np.float16), "label_rows": self.label_rows,
                "examples": json.dumps({"texts": self.texts, "labels": self.labels},
                                       ensure_ascii=False),
                "low": self.low, "high": self.high}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "Familiarity":
        examples = json.loads(state["examples"])
        vectors = np.asarray(state["vectors"], dtype=np.float32)
        label_rows = np.asarray(state["label_rows"], dtype=np.uint8)
        if not len(examples["texts"]) == len(examples["labels"]) <= len(vectors):
            raise ValueError("more familiarity examples than vectors, or texts than labels")
        if len(label_rows) != len(vectors):
            raise ValueError("the examples' labels and vectors differ in number")
        return cls(vectors=vectors, label_rows=label_rows, texts=examples["texts"],
                   labels=examples["labels"],
                   low=float(state["low"]), high=float(state["high"]))
