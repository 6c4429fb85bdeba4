"""The bundled, hand-written corpus of labeled reports and JSON-lines reading."""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ml.categories import CATEGORIES

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "corpus"


class CorpusError(ValueError):
    """A labeled file has a line that is not a valid example."""


@dataclass(frozen=True)
class Example:
    text: str
    labels: list[str]
    lang: str | None = None


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def load_corpus(paths: Iterable[Path] | None = None) -> list[Example]:
    """Every example in the given JSON-lines files (default: the bundled corpus)."""
    examples: list[Example] = []
    for path in paths if paths is not None else corpus_files():
        with open(path, encoding="utf-8") as handle:
            examples.extend(read_examples(handle, source=str(path)))
    return examples


def read_examples(lines: TextIO, source: str = "<input>") -> Iterator[Example]:
    """Parse ``{"text": ..., "labels": [...]}`` lines, naming the line of any error."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text, labels = item["text"], item["labels"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise CorpusError(f"{source}:{number}: not a labeled example ({error})") from error
        if not isinstance(text, str) or not text.strip():
            raise CorpusError(f"{source}:{number}: text must be a non-empty string")
        if not isinstance(labels, list) or not set(labels) <= set(CATEGORIES):
            raise CorpusError(f"{source}:{number}: labels must be a list of {CATEGORIES}")
        yield Example(text=text, labels=[c for c in CATEGORIES if c in labels],
                      lang=item.get("lang"))


def corpus_fingerprint(paths: Iterable[Path] | None = None) -> str:
    """A short hash of the corpus files, to know when a cached model is stale."""
    digest = hashlib.sha256()
    for path in paths if paths is not None else corpus_files():
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
