"""Sentence embeddings from a model whose weights ship inside its wheel.

WordLlama's "l2_supercat" model (256 dimensions) is a table of token vectors
average-pooled over a text: about 0.1 ms a report on one core, and nothing is
fetched at run time (the package's own files are the only ones looked at;
`disable_download` makes a missing file an error, not a download). The model
is loaded once per process, on first use. `ml/README.md` compares it with the
other packaged models that were measured.
"""

import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ml.errors import ModelError

MODEL = "wordllama l2_supercat 256"
_lock = threading.Lock()


@cache
def _model() -> Any:
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as error:
        raise ModelError(f"the embedding package is not installed: {error}") from error
    try:
        return WordLlama.load(config="l2_supercat", dim=256, disable_download=True,
                              cache_dir=Path(wordllama.__file__).parent)
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot load the embedding model {MODEL}: {error}") from error


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length embeddings, one row per text (float32); a text without tokens
    gets a row of zeros, which is similar to nothing."""
    if not texts:
        return np.zeros((0, 256), dtype=np.float32)
    with _lock:
        vectors = np.asarray(_model().embed(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
