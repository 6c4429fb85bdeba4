"""Vaka's text intelligence: pure Python and scikit-learn, no Flask, no database.

The public entry points are `Classifier` (train, predict, save, load),
`load_corpus` and `detect_language`.
"""

from ml.classifier import CATEGORIES, Classifier, Prediction, label_f1
from ml.corpus import Example, load_corpus
from ml.text import detect_language

__all__ = ["CATEGORIES", "Classifier", "Example", "Prediction", "detect_language", "label_f1",
           "load_corpus"]
