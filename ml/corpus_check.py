"""Balance and near-duplicate check of labeled JSON-lines files (default: the bundled corpus).

Near-duplicates are pairs of texts whose cosine similarity exceeds a threshold
(default 0.8) on TF-IDF vectors of word 1- and 2-grams of the lower-cased text
(sklearn's default word tokenizer; IDF fitted on all checked texts together, so
pairs across files are found too). Similarities are computed as sparse matrix
products in row chunks, so memory stays small for a few thousand texts.
"""

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from ml.classifier import CATEGORIES
from ml.corpus import Example, corpus_files, read_examples

NEAR_DUPLICATE_SIMILARITY = 0.8
_CHUNK = 512
_LANGUAGE_ORDER = ("sv", "en", "mixed")


@dataclass(frozen=True)
class Located:
    """An example and where it is: file and line number."""

    example: Example
    source: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass(frozen=True)
class NearDuplicate:
    first: int
    second: int
    similarity: float


@dataclass
class CheckResult:
    summary: dict[str, Any]
    duplicates: list[NearDuplicate] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.duplicates


def read_located(paths: Iterable[Path]) -> list[Located]:
    """Every example of the files, with its file and line (errors name the line)."""
    located: list[Located] = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()  # universal newlines, as `load_corpus` reads
        numbers = [n for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
        examples = list(read_examples(io.StringIO(text, newline="\n"), source=str(path)))
        located.extend(Located(e, str(path), n) for e, n in zip(examples, numbers, strict=True))
    return located


def label_set(labels: Sequence[str]) -> str:
    return "+".join(c for c in CATEGORIES if c in labels) or "other"


def summarize(examples: Sequence[Example]) -> dict[str, Any]:
    """Counts by language, per label and per label combination, and the share of other."""
    total = len(examples)

    def share(count: int) -> float:
        return round(100 * count / total, 1) if total else 0.0

    languages = Counter(e.lang or "unknown" for e in examples)
    order = [lang for lang in _LANGUAGE_ORDER if lang in languages]
    order += sorted(set(languages) - set(order))
    combos = Counter(label_set(e.labels) for e in examples)
    other = combos.get("other", 0)
    words = sorted(len(e.text.split()) for e in examples)
    return {
        "examples": total,
        "languages": {lang: {"count": languages[lang], "percent": share(languages[lang])}
                      for lang in order},
        "labels": {c: {"count": n, "percent": share(n)}
                   for c in CATEGORIES for n in [sum(c in e.labels for e in examples)]},
        "label_sets": {key: {"count": n, "percent": share(n)}
                       for key, n in sorted(combos.items(), key=lambda kv: (-kv[1], kv[0]))},
        "other": {"count": other, "percent": share(other)},
        "multi_label": {"count": (multi := sum(len(e.labels) >= 2 for e in examples)),
                        "percent": share(multi)},
        "words": {"min": words[0], "median": words[len(words) // 2], "max": words[-1]}
        if words else {},
    }


def near_duplicates(texts: Sequence[str], threshold: float = NEAR_DUPLICATE_SIMILARITY,
                    chunk: int = _CHUNK) -> list[NearDuplicate]:
    """Pairs (i < j) with cosine similarity above `threshold`, most similar first."""
    if len(texts) < 2:
        return []
    vectorizer = TfidfVectorizer(lowercase=True, ngram_range=(1, 2))
    try:
        matrix = vectorizer.fit_transform(texts)  # rows are L2-normalised
    except ValueError:  # no words at all in any text
        return []
    transposed = matrix.T.tocsc()
    pairs: list[NearDuplicate] = []
    for start in range(0, len(texts), chunk):
        block = (matrix[start:start + chunk] @ transposed).tocoo()
        rows = block.row + start
        keep = (block.data > threshold) & (block.col > rows)
        for i, j, similarity in zip(rows[keep], block.col[keep], block.data[keep], strict=True):
            pairs.append(NearDuplicate(int(i), int(j), round(float(np.clip(similarity, 0, 1)), 4)))
    pairs.sort(key=lambda p: (-p.similarity, p.first, p.second))
    return pairs


def check(examples: Sequence[Example],
          threshold: float = NEAR_DUPLICATE_SIMILARITY) -> CheckResult:
    return CheckResult(summary=summarize(examples),
                       duplicates=near_duplicates([e.text for e in examples], threshold))


def check_files(paths: Iterable[Path] | None = None,
                threshold: float = NEAR_DUPLICATE_SIMILARITY) -> tuple[list[Located], CheckResult]:
    located = read_located(list(paths) if paths is not None else corpus_files())
    return located, check([item.example for item in located], threshold)


def format_check(located: Sequence[Located], result: CheckResult,
                 threshold: float = NEAR_DUPLICATE_SIMILARITY) -> str:
    summary = result.summary
    sources = sorted({item.source for item in located})
    lines = [f"{summary['examples']} examples in {len(sources)} file(s)"]
    for source in sources:
        lines.append(f"  {source}: {sum(item.source == source for item in located)}")

    def section(title: str, counts: dict[str, dict[str, Any]]) -> None:
        lines.append("")
        lines.append(title)
        width = max(len(key) for key in counts) if counts else 0
        for key, value in counts.items():
            lines.append(f"  {key:<{width}}  {value['count']:>5}  {value['percent']:>5.1f}%")

    section("By language", summary["languages"])
    section("Per label (a text can have several)", summary["labels"])
    section("Per label combination", summary["label_sets"])
    lines.append("")
    lines.append(f"other (no category): {summary['other']['count']} "
                 f"({summary['other']['percent']:.1f}%); two or more labels: "
                 f"{summary['multi_label']['count']} ({summary['multi_label']['percent']:.1f}%)")
    if summary["words"]:
        words = summary["words"]
        lines.append(f"words per text: min {words['min']}, median {words['median']}, "
                     f"max {words['max']}")
    lines.append("")
    if result.ok:
        lines.append(f"No near-duplicate pairs (cosine similarity > {threshold} "
                     "on word 1-2-gram TF-IDF).")
    else:
        lines.append(f"{len(result.duplicates)} near-duplicate pair(s) "
                     f"(cosine similarity > {threshold} on word 1-2-gram TF-IDF):")
        for pair in result.duplicates:
            first, second = located[pair.first], located[pair.second]
            same = first.example.labels == second.example.labels
            lines.append(f"  {pair.similarity:.3f}  {first.where}  {second.where}"
                         + ("" if same else "  (labels differ)"))
            for item in (first, second):
                lines.append(f"      [{label_set(item.example.labels)}] {item.example.text[:120]}")
    return "\n".join(lines) + "\n"
