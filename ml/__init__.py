"""Vaka's text intelligence: pure Python and scikit-learn, no Flask, no database.

The public entry points are `Classifier` (train, predict, save, load),
`load_corpus` and `detect_language`.

They are imported on first use (PEP 562): a process that only scrubs text or
exports reports never loads scikit-learn, which costs over 100 MB of memory.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ml.categories import CATEGORIES

if TYPE_CHECKING:
    from ml.classifier import Classifier, Prediction, label_f1
    from ml.corpus import Example, load_corpus
    from ml.text import detect_language

_LAZY = {"Classifier": "ml.classifier", "Prediction": "ml.classifier", "label_f1": "ml.classifier",
         "Example": "ml.corpus", "load_corpus": "ml.corpus", "detect_language": "ml.text"}

__all__ = ["CATEGORIES", "Classifier", "Example", "Prediction", "detect_language", "label_f1",
           "load_corpus"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ml' has no attribute {name!r}")
