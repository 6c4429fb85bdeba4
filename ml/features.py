"""TF-IDF features of reports, with the per-token work done once per distinct chunk.

A text's features are word features (stems with negation marks, see
`ml.text.word_features`, and optionally pairs of neighbouring ones) and
character n-grams of each white-space chunk padded with a space (as
scikit-learn's ``char_wb`` analyzer makes them). Everything but negation
scopes and word pairs follows from a text's white-space chunks alone, so an
`Encoder` works each distinct chunk out once (language markers, n-gram
columns, word items in either language) and keeps it in a dict: a text is
then one dict look-up per chunk and a few list operations.

Weighting: within each block (words, characters) a text's vector is
``x_j = n_j * idf_j / sqrt(sum_k n_k * idf_k ** 2)``, with n_j the count of
term j and the smooth IDF of scikit-learn, ``ln((1 + texts) / (1 + df)) + 1``.
The norm is the L2 norm of the square-root TF times IDF. Unlike sublinear TF
with an L2 norm, both the linear score's numerator and the squared norm are
sums over a text's term occurrences, hence over its chunks: a `Scorer` keeps
each chunk's sums (per category, and the squared norm) and scores a batch with
one sparse product, while `Vectorizer.transform` gives the same vectors
explicitly, for explanations and training.

Training counts every term of the training texts once (`count`), with an
open vocabulary; each cross-validation fold then takes its vocabulary and IDF
from its own training rows (`Counted.space`), which is what fitting a
vectorizer per fold would give, without reading the texts again. A fitted
`Vectorizer` holds plain strings and arrays only, so a model artifact needs no
class of its own to load.
"""

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, pairwise, repeat
from operator import itemgetter
from typing import Any

import numpy as np
import scipy.sparse as sp

from ml.text import (
    LANGUAGES,
    NEGATION,
    SCOPE_END,
    chunk_words,
    language_score,
    negation_scopes,
)

#: Terms must occur in this many training texts to become features.
WORD_MIN_DF, CHAR_MIN_DF = 1, 2
#: A long-lived process forgets its chunk cache when it grows past this many chunks.
CACHE_LIMIT = 300_000
# An encoded chunk: (id, language score, char ids, then per language: its word items
# as (kind, word id, negated word id), its plain word ids (as outside any negation's
# scope), and whether it holds a negation).
_ID, _SCORE, _CHARS = itemgetter(0), itemgetter(1), itemgetter(2)
_PER_LANGUAGE = {"sv": (itemgetter(3), itemgetter(4), itemgetter(5)),
                 "en": (itemgetter(6), itemgetter(7), itemgetter(8))}


def char_grams(chunk: str, low: int, high: int) -> list[str]:
    """The character n-grams of one chunk, padded with a space at each end (as ``char_wb``)."""
    padded = f" {chunk} "
    size = len(padded)
    if size > high:
        return [padded[i:i + n] for n in range(low, high + 1) for i in range(size - n + 1)]
    grams = []
    for n in range(low, high + 1):
        if n >= size:
            grams.append(padded)  # a short chunk counts once, whole
            break
        grams += [padded[i:i + n] for i in range(size - n + 1)]
    return grams


def with_pairs(params: dict[str, Any]) -> bool:
    """Whether `params` ask for word pairs besides single words."""
    low, high = params["word_ngrams"]
    if (low, high) not in ((1, 1), (1, 2)):
        raise ValueError("word_ngrams must be [1, 1] or [1, 2]")
    return high == 2


@dataclass
class Encoded:
    """Term ids of some texts, flat, with the start of each text's ids (and one past the end)."""

    words: list[int]
    word_rows: list[int]
    pairs: list[int]
    pair_rows: list[int]
    #: The ids of each text's chunks (see `Encoder.char_counts`).
    chunks: list[int]
    chunk_rows: list[int]
    languages: list[str]


@dataclass
class Scanned:
    """What `Scorer` needs of some texts: their chunk ids, and the word ids that are not a
    chunk's plain words (negated words, pairs), flat with row starts as in `Encoded`."""

    chunks: list[int]
    chunk_rows: list[int]
    extra: list[int]
    extra_rows: list[int]
    languages: list[str]


class Encoder:
    """Turns texts into term ids, one dict look-up per white-space chunk.

    A fixed vocabulary maps unknown words to `unknown` and unknown n-grams to
    `unknown_char`, columns that never carry weight; an open one (`grow=True`)
    numbers new terms as they come.
    """

    def __init__(self, words: dict[str, int], chars: dict[str, int],
                 pairs: dict[tuple[int, int], int] | None, char_ngrams: Sequence[int],
                 grow: bool = False) -> None:
        self.words, self.chars, self.pairs = words, chars, pairs
        self.low, self.high = char_ngrams
        self.grow = grow
        #: The column of unknown words (none while the vocabulary grows).
        self.unknown = -3 if grow else len(words) + len(pairs or ())
        self.unknown_char = -3 if grow else len(chars)
        self._cache: dict[str, tuple[Any, ...]] = {}
        #: The cached chunks by id; `generation` counts how often the cache was emptied.
        self.chunks: list[tuple[Any, ...]] = []
        self.generation = 0
        #: Held while texts are encoded, so that threads sharing a model agree on chunk ids.
        self.lock = threading.RLock()

    def word_id(self, term: str) -> int:
        if self.grow:
            return self.words.setdefault(term, len(self.words))
        return self.words.get(term, self.unknown)

    def _chunk(self, chunk: str) -> tuple[Any, ...]:
        """Everything about one chunk that does not depend on the rest of the text."""
        grams = char_grams(chunk, self.low, self.high)
        if self.grow:
            chars = tuple([self.chars.setdefault(gram, len(self.chars)) for gram in grams])
        else:
            get, unknown = self.chars.get, self.unknown_char
            chars = tuple([get(gram, unknown) for gram in grams])
        encoded: list[Any] = [len(self.chunks), language_score(chunk), chars]
        for language in LANGUAGES:
            coded, plain = [], []
            for kind, stem, _token in chunk_words(chunk, language)[0]:
                if kind == SCOPE_END:
                    coded.append((kind, -1, -1))
                    continue
                word = self.word_id(stem)
                coded.append((kind, word, self.word_id("neg_" + stem)))
                plain.append(word)
            encoded += [tuple(coded), tuple(plain), any(item[0] == NEGATION for item in coded)]
        result = self._cache[chunk] = tuple(encoded)
        self.chunks.append(result)
        return result

    def _look_up(self, text: str) -> tuple[list[tuple[Any, ...]], str]:
        get = self._cache.get
        chunks = [get(c) or self._chunk(c) for c in text.lower().split()]
        return chunks, "en" if sum(map(_SCORE, chunks)) > 0 else "sv"

    def _start(self) -> None:
        """Empty the cache if it has grown too large (only between batches: ids stay valid)."""
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
            self.chunks.clear()
            self.generation += 1

    def _word_ids(self, chunks: list[tuple[Any, ...]],
                  language: str) -> tuple[list[int], list[int]]:
        """The text's word ids, and those that negation scopes added."""
        items, plain, negates = _PER_LANGUAGE[language]
        if any(map(negates, chunks)):
            return negation_scopes(chain.from_iterable(map(items, chunks)))
        return list(chain.from_iterable(map(plain, chunks))), []

    def _pair_ids(self, ids: list[int]) -> Iterable[int]:
        if self.grow:
            return [self.pairs.setdefault(pair, len(self.pairs)) for pair in pairwise(ids)]
        return map(self.pairs.get, pairwise(ids), repeat(self.unknown))

    def encode(self, texts: Iterable[str]) -> Encoded:
        """Every term id of each text: words, pairs and character n-grams (hold `lock`)."""
        self._start()
        result = Encoded([], [0], [], [0], [], [0], [])
        for text in texts:
            chunks, language = self._look_up(text)
            ids, _ = self._word_ids(chunks, language)
            result.words += ids
            if self.pairs is not None:
                result.pairs.extend(self._pair_ids(ids))
            result.chunks.extend(map(_ID, chunks))
            for flat, rows in ((result.words, result.word_rows), (result.pairs, result.pair_rows),
                               (result.chunks, result.chunk_rows)):
                rows.append(len(flat))
            result.languages.append(language)
        return result

    def char_counts(self, encoded: Encoded) -> sp.csr_matrix:
        """Each text's n-gram counts: the sum of its chunks' (one sparse product)."""
        used = np.unique(np.asarray(encoded.chunks, dtype=np.int64))
        grams = [_CHARS(self.chunks[i]) for i in used.tolist()]
        width = len(self.chars) if self.grow else self.unknown_char + 1
        per_chunk = _counts(list(chain.from_iterable(grams)),
                            np.concatenate([[0], np.cumsum([len(g) for g in grams])]), width)
        texts = _counts(np.searchsorted(used, encoded.chunks), encoded.chunk_rows, len(used))
        return sp.csr_matrix(texts @ per_chunk)

    def scan(self, texts: Iterable[str]) -> Scanned:
        """Each text's chunk ids and the ids of its words that are not plain chunk words
        (hold `lock`)."""
        self._start()
        chunk_ids: list[int] = []
        extra: list[int] = []
        chunk_rows, extra_rows, languages = [0], [0], []
        with_pairs = self.pairs is not None
        for text in texts:
            chunks, language = self._look_up(text)
            chunk_ids.extend(map(_ID, chunks))
            chunk_rows.append(len(chunk_ids))
            if with_pairs or any(map(_PER_LANGUAGE[language][2], chunks)):
                ids, added = self._word_ids(chunks, language)
                extra += added
                if with_pairs:
                    extra.extend(self._pair_ids(ids))
            extra_rows.append(len(extra))
            languages.append(language)
        return Scanned(chunk_ids, chunk_rows, extra, extra_rows, languages)


def _counts(ids: Sequence[int], rows: Sequence[int] | np.ndarray, width: int) -> sp.csr_matrix:
    """A count matrix from flat ids (duplicates summed)."""
    matrix = sp.csr_matrix((np.ones(len(ids), dtype=np.float32), np.asarray(ids, dtype=np.int32),
                            np.asarray(rows, dtype=np.int64)), shape=(len(rows) - 1, width))
    matrix.sum_duplicates()
    return matrix


def weigh(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Counts times IDF, each row divided by the root of its sum of count x IDF squared."""
    squares = counts @ (idf * idf)
    scale = np.divide(1.0, np.sqrt(squares), out=np.zeros_like(squares), where=squares > 0)
    weighted = sp.csr_matrix(counts, dtype=float, copy=True)
    weighted.data *= idf[weighted.indices] * np.repeat(scale, np.diff(weighted.indptr))
    weighted.eliminate_zeros()
    return weighted


@dataclass
class Counted:
    """The raw term counts of training texts over every term they hold, and the terms."""

    #: Counts of words (single, then pairs) and of character n-grams, one row per text.
    words: sp.csr_matrix
    chars: sp.csr_matrix
    languages: list[str]
    word_terms: list[str]
    #: Each word pair as the ids of its two words.
    pair_terms: list[tuple[int, int]]
    char_terms: list[str]
    params: dict[str, Any]

    def space(self, rows: np.ndarray | None = None) -> "Space":
        """The vocabulary and IDF that the given training rows (default all) yield."""
        words, chars = (self.words, self.chars) if rows is None else (self.words[rows],
                                                                      self.chars[rows])
        return Space(*_kept_idf(words, WORD_MIN_DF), *_kept_idf(chars, CHAR_MIN_DF))

    def transform(self, space: "Space", rows: np.ndarray | None = None) -> sp.csr_matrix:
        """Weighted rows over a space's columns: words block, then characters block."""
        words, chars = (self.words, self.chars) if rows is None else (self.words[rows],
                                                                      self.chars[rows])
        return sp.hstack([weigh(words[:, space.words], space.word_idf),
                          weigh(chars[:, space.chars], space.char_idf)], format="csr")

    def vectorizer(self, space: "Space") -> "Vectorizer":
        """The fitted vectorizer of a space: its terms in column order, and their IDF."""
        n_words = len(self.word_terms)
        singles = space.words[space.words < n_words].tolist()
        column = {old: new for new, old in enumerate(singles)}
        pairs = [self.pair_terms[old - n_words]
                 for old in space.words[space.words >= n_words].tolist()]
        return Vectorizer(
            words=[self.word_terms[i] for i in singles],
            pairs=np.array([[column[a], column[b]] for a, b in pairs],
                           dtype=np.int32).reshape(len(pairs), 2),
            chars=[self.char_terms[i] for i in space.chars.tolist()],
            word_idf=space.word_idf, char_idf=space.char_idf, params=self.params)


def _kept_idf(counts: sp.csr_matrix, min_df: int) -> tuple[np.ndarray, np.ndarray]:
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    kept = np.flatnonzero(df >= min_df)
    return kept, np.log((1 + counts.shape[0]) / (1 + df[kept])) + 1.0


@dataclass
class Space:
    """Kept term columns of a `Counted` and their IDF: one fold's fitted vocabulary."""

    words: np.ndarray
    word_idf: np.ndarray
    chars: np.ndarray
    char_idf: np.ndarray


def count(texts: Sequence[str], params: dict[str, Any]) -> Counted:
    """Count every term of `texts` (open vocabulary)."""
    words: dict[str, int] = {}
    chars: dict[str, int] = {}
    pairs: dict[tuple[int, int], int] | None = {} if with_pairs(params) else None
    encoder = Encoder(words, chars, pairs, params["char_ngrams"], grow=True)
    encoded = encoder.encode(texts)
    word_counts = _counts(encoded.words, encoded.word_rows, len(words))
    if pairs is not None:
        word_counts = sp.hstack([word_counts,
                                 _counts(encoded.pairs, encoded.pair_rows, len(pairs))],
                                format="csr")
    return Counted(words=word_counts, chars=encoder.char_counts(encoded),
                   languages=encoded.languages, word_terms=list(words),
                   pair_terms=list(pairs or ()), char_terms=list(chars), params=params)


class Vectorizer:
    """A fitted vocabulary: words (stems and negated stems), word pairs, character n-grams.

    Columns: the words, then the pairs, then one column for unknown words,
    then the character n-grams, then one column for unknown n-grams. The
    unknown columns never carry weight: their IDF is 0.
    """

    def __init__(self, words: list[str], pairs: np.ndarray, chars: list[str],
                 word_idf: np.ndarray, char_idf: np.ndarray, params: dict[str, Any]) -> None:
        self.terms, self.pair_array, self.char_terms = words, pairs, chars
        self.params = params
        self.word_idf = np.append(word_idf, 0.0)  # the unknown column
        self.char_idf = np.append(char_idf, 0.0)
        pair_columns = ({(int(a), int(b)): len(words) + i for i, (a, b) in enumerate(pairs)}
                        if with_pairs(params) else None)
        self.encoder = Encoder({w: i for i, w in enumerate(words)},
                               {g: i for i, g in enumerate(chars)}, pair_columns,
                               params["char_ngrams"])

    @property
    def n_words(self) -> int:
        """Word columns, the unknown words' column included."""
        return len(self.word_idf)

    def transform(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix, list[str]]:
        """The weighted rows of words and of characters, and each text's language."""
        with self.encoder.lock:
            encoded = self.encoder.encode(texts)
            char_counts = self.encoder.char_counts(encoded)
        words = encoded.words
        rows = np.asarray(encoded.word_rows)
        if self.encoder.pairs is not None:  # each text's pairs after its words
            by_text = [encoded.words[a:b] + encoded.pairs[c:d] for a, b, c, d in zip(
                encoded.word_rows, encoded.word_rows[1:], encoded.pair_rows,
                encoded.pair_rows[1:], strict=False)]
            words = list(chain.from_iterable(by_text))
            rows = np.concatenate([[0], np.cumsum([len(ids) for ids in by_text])])
        return (weigh(_counts(words, rows, self.n_words), self.word_idf),
                weigh(char_counts, self.char_idf),
                encoded.languages)

    def word_column(self, feature: str) -> int | None:
        return self.encoder.words.get(feature)

    def pair_column(self, first: int | None, second: int | None) -> int | None:
        pairs = self.encoder.pairs
        return None if pairs is None or first is None or second is None \
            else pairs.get((first, second))

    def char_column(self, gram: str) -> int | None:
        return self.encoder.chars.get(gram)

    def state(self) -> dict[str, Any]:
        """Plain strings and arrays, for a model artifact."""
        return {"words": "\n".join(self.terms), "pairs": self.pair_array,
                "chars": "\n".join(self.char_terms), "word_idf": self.word_idf[:-1],
                "char_idf": self.char_idf[:-1], "params": self.params}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "Vectorizer":
        def lines(text: str) -> list[str]:
            return text.split("\n") if text else []

        return cls(words=lines(state["words"]), pairs=state["pairs"],
                   chars=lines(state["chars"]), word_idf=state["word_idf"],
                   char_idf=state["char_idf"], params=state["params"])


class Scorer:
    """Linear scores of texts without building their vectors.

    For each cached chunk it keeps, per block, the chunk's share of the
    numerator (weight x IDF summed over its terms, one per category) and of
    the squared norm (IDF squared summed): its words' shares in either
    language, and its n-grams'. A text's scores are then sums over its chunks
    plus the words a negation or a pair adds, divided by the roots of the
    summed squares.
    """

    def __init__(self, vectorizer: Vectorizer, coef: np.ndarray) -> None:
        self.vectorizer = vectorizer
        n = vectorizer.n_words
        # Per column: weight x IDF for each category, then IDF squared.
        self.word_values = np.column_stack([(coef[:, :n] * vectorizer.word_idf).T,
                                            vectorizer.word_idf ** 2])
        self.char_values = np.column_stack([(coef[:, n:] * vectorizer.char_idf).T,
                                            vectorizer.char_idf ** 2])
        # One row per cached chunk: its Swedish word sums, English word sums and n-gram
        # sums, each three numerators and a squared norm.
        self._table = np.zeros((0, 12))
        self._rows = 0
        self._generation = -1

    def decision(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """Linear scores (texts x categories, without intercept) and each text's language."""
        encoder = self.vectorizer.encoder
        with encoder.lock:
            scanned = encoder.scan(texts)
            self._update(encoder)
            table = self._table[:self._rows]
        n_texts = len(scanned.languages)
        chunks = _counts(scanned.chunks, scanned.chunk_rows, len(table)) @ table
        extra = _counts(scanned.extra, scanned.extra_rows, len(self.word_values)) \
            @ self.word_values
        english = np.array([language == "en" for language in scanned.languages],
                           dtype=bool).reshape(n_texts, 1)
        words = np.where(english, chunks[:, 4:8], chunks[:, 0:4]) + extra
        return _ratio(words) + _ratio(chunks[:, 8:12]), scanned.languages

    def _update(self, encoder: Encoder) -> None:
        """Add the sums of the chunks cached since the last call."""
        if encoder.generation != self._generation:
            self._generation, self._rows = encoder.generation, 0
        new = encoder.chunks[self._rows:]
        if not new:
            return
        sv, en = _PER_LANGUAGE["sv"][1], _PER_LANGUAGE["en"][1]
        block = np.hstack([_sums([sv(c) for c in new], self.word_values),
                           _sums([en(c) for c in new], self.word_values),
                           _sums([_CHARS(c) for c in new], self.char_values)])
        needed = self._rows + len(new)
        if needed > len(self._table):
            grown = np.zeros((max(needed, 2 * len(self._table)), 12))
            grown[:self._rows] = self._table[:self._rows]
            self._table = grown
        self._table[self._rows:needed] = block
        self._rows = needed


def _sums(ids: list[tuple[int, ...]], values: np.ndarray) -> np.ndarray:
    """Per entry of `ids`, the sum of the rows of `values` its ids name."""
    rows = np.concatenate([[0], np.cumsum([len(i) for i in ids])])
    return _counts(list(chain.from_iterable(ids)), rows, len(values)) @ values


def _ratio(sums: np.ndarray) -> np.ndarray:
    """Numerators (first three columns) over the root of the squared norm (last column)."""
    norm = np.sqrt(sums[:, 3:4])
    return np.divide(sums[:, :3], norm, out=np.zeros_like(sums[:, :3]), where=norm > 0)
