"""Grouping reports about one thing: a report's grouping vector, the join decision, a title.

A report's *grouping vector* has two blocks:

- word terms, exactly those of `ml.similarity.terms` (bilingual concepts such as
  ``=lab``, Snowball stems), TF-IDF weighted with the corpus's weights; a word the
  lexicon knows only with its å/ä/ö ("lakemedel") still gets its concept, and a
  Swedish stop word typed without them ("nagra", "fran") stays a stop word;
- character n-grams (``#`` then the gram) of the text's content words with their
  diacritics folded, IDF weighted from the bundled corpus, so "rörposten" meets
  "rorposten" and "porvtagits" meets "provtagits".

Each block is L2-normalised and scaled by the square root of its share
(`WORD_SHARE`), so that a plain cosine of two vectors (as the similarity index
would take it) is the share-weighted sum of the blocks' cosines; only each
block's heaviest features are kept (`WORD_FEATURES`, `CHAR_FEATURES`), which
keeps storage and look-ups cheap. A group's *profile* is the sum of its members'
vectors, kept to its heaviest features too (`truncated`).

`choose` decides where a report goes: the group whose profile is most like it
(`score`: the better of the two blocks' cosines), if that reaches the threshold
(`JOIN`, or `JOIN_KNOWN` for a known issue's profile) and beats its score with
the group's `excluded` profile (the reports coordinators moved out); otherwise
the report starts a new group.

Measured with bench/grouping_features.py: 6 faults x 12 reports, written in
Swedish and English and varied (half of the copies without å/ä/ö, half with a
typo), and 60 generic go-live reports about slowness, logins and training,
grouped one by one in a shuffled order (5 orders). "fault" is the mean share of
a fault's reports in its largest group, "purity" that group's share of the
fault's reports, "noise" the share of generic reports in a fault's group:

=========================  =====  =====  ======  =====
features, score            join   fault  purity  noise
=========================  =====  =====  ======  =====
words only                 0.20   0.88   0.94    0.01
words only                 0.30   0.77   0.99    0.00
characters only            0.15   0.48   1.00    0.00
summed 0.5/0.5 (cosine)    0.15   0.87   0.97    0.00
summed 0.5/0.5 (cosine)    0.25   0.66   1.00    0.00
summed 0.7/0.3 (cosine)    0.20   0.84   0.97    0.00
better block (`score`)     0.20   0.93   0.94    0.01
better block (`score`)     0.22   0.92   0.95    0.01
better block (`score`)     0.25   0.86   0.95    0.00
better block, 12+60 feat.  0.22   0.92   0.95    0.01
better block, 8+28 feat.   0.22   0.92   0.95    0.01
=========================  =====  =====  ======  =====

Characters alone cannot bridge Swedish and English paraphrases, words alone miss
the typos and the missing å/ä/ö that the lexicon does not know; summing the
cosines halves a paraphrase's score, so the better of the two wins. More
character features buy little. Defaults: the better block, 12 + 28 features,
join at 0.22. Giving a word one slip from a lexicon word its concept (`SLIP_MIN`),
measured in one run before and after: fault 0.92 -> 0.94, purity 0.95 -> 0.93, noise
0.01 both (join 0.22); on bench/golive.py, with "lm" and "chart" added to the lexicon,
seed 2's wristband fault came into one group (0.89 to 1.00 of its reports).

A known issue's profile has many members behind it and spreads its weight: of a
fault's later reports against a profile of its first half, 0.89 reach 0.20 (0.78
reach 0.25) and no generic report does (0.03 reach 0.15), so `JOIN_KNOWN` is 0.20.
"""

import math
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from nltk.metrics.distance import edit_distance
from stop_words import get_stop_words

from ml import similarity
from ml.text import LANGUAGES, detect_language, tokenize

#: A grouping vector or a profile: term -> weight (character n-grams start with "#").
Vector = dict[str, float]

#: What a character n-gram feature starts with (never a word term).
CHAR = "#"
#: The lengths of the character n-grams.
NGRAMS = (3, 4, 5)
#: Words shorter than this give no character n-grams (they are in the word block).
MIN_GRAM_WORD = 4
#: The words' share of the cosine; the characters have the rest.
WORD_SHARE = 0.5
#: Features kept per report vector, per block.
WORD_FEATURES = 12
CHAR_FEATURES = 28
#: Features kept per group profile, per block.
PROFILE_WORDS = 30
PROFILE_CHARS = 70
#: Join an emerging group from this cosine on; a known issue's profile from JOIN_KNOWN.
JOIN = 0.22
JOIN_KNOWN = 0.20
#: Groups merge when their profiles are this alike (`bridged`).
MERGE = 0.30
#: Word terms a title is made of, at most.
TITLE_TERMS = 4
#: Between a title's words.
TITLE_SEPARATOR = " · "


#: Concepts of when, not of what: "i morse" / "this morning", "i natt" / "overnight" are
#: in a large share of all reports, and on a go-live replay (bench/golive.py --small)
#: "morning" alone joined a jammed printer to a frozen lab list, a group the tube fault
#: then fell into. They give no grouping feature (the similarity index keeps them). Other
#: words of time ("idag", "today") stay: dropping them too split the go-live flood into
#: more small groups that alerted on their own (6 open at once instead of 5, seed 1).
TIME_CONCEPTS = frozenset({"=morning", "=night"})
#: Words this long or longer that the lexicon does not know get the concept of the one
#: lexicon word they are one slip from (a letter dropped or added, or two swapped; never
#: the first letter): "överflytnting", "ovrflyttning" -> ``=transfer``. A changed letter
#: is not a slip here: in the bundled corpus it made more real words into others than it
#: mended ("läsaren" is not "läkaren", "säkrades" not "saknades"). Shorter words, and the
#: corpus's own (in `SLIP_WORD_REPORTS` of its reports or more), are too often another
#: word one letter away.
SLIP_MIN = 7
SLIP_WORD_REPORTS = 3


def fold(text: str) -> str:
    """The text without diacritics ("rörposten" -> "rorposten")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _folded_lexicon() -> dict[str, str]:
    """Every lexicon word with its diacritics folded -> its concept term."""
    lookup: dict[str, str] = {}
    for concept, words_per_language in similarity.LEXICON.items():
        for words in words_per_language:
            for word in words:
                lookup.setdefault(fold(word), "=" + concept)
    return lookup


@cache
def _folded_stop_words() -> frozenset[str]:
    """Swedish stop words as typed without their å/ä/ö ("nagra", "nar", "fran")."""
    words = {fold(word) for word in get_stop_words("swedish")} - set(get_stop_words("swedish"))
    return frozenset(words)


@lru_cache(maxsize=200_000)
def _token_terms(token: str, language: str) -> tuple[str, ...]:
    """`ml.similarity.token_terms`, or the concept of the token with its diacritics folded
    or of the lexicon word it is one slip from (`SLIP_MIN`); nothing for a stop word typed
    without its diacritics ("nagra") or a concept of time."""
    found = similarity.token_terms(token, language)
    if any(term.startswith("=") for term in found):
        return tuple(term for term in found if term not in TIME_CONCEPTS)
    folded = fold(token)
    concept = _folded_lexicon().get(folded)
    if concept is None:
        if token in _folded_stop_words():
            return ()
        concept = _slipped_concept(folded)
    if concept:
        return () if concept in TIME_CONCEPTS else (concept,)
    return found


def _shorter_by_one(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


@cache
def _slip_index() -> dict[str, frozenset[str]]:
    """The folded lexicon words of `SLIP_MIN` letters or more, under themselves and under
    each of their forms one letter shorter: a word one slip from one of them shares a key
    with it (SymSpell's deletions)."""
    index: dict[str, set[str]] = {}
    for word in _folded_lexicon():
        if len(word) >= SLIP_MIN:
            for key in {word} | _shorter_by_one(word):
                index.setdefault(key, set()).add(word)
    return {key: frozenset(words) for key, words in index.items()}


@cache
def _corpus_words() -> Counter[str]:
    """In how many of the bundled corpus's reports each folded word occurs."""
    from ml.corpus import load_corpus

    return Counter(word for example in load_corpus()
                   for word in {fold(token) for token in tokenize(example.text)})


def _slipped_concept(folded: str) -> str | None:
    """The concept of the lexicon word a folded token is one slip from, if only one
    concept's words are."""
    if len(folded) < SLIP_MIN - 1 or _corpus_words()[folded] >= SLIP_WORD_REPORTS:
        return None
    index, lexicon = _slip_index(), _folded_lexicon()
    near = {word for key in {folded} | _shorter_by_one(folded) for word in index.get(key, ())}
    concepts = {lexicon[word] for word in near if _one_slip(folded, word)}
    return concepts.pop() if len(concepts) == 1 else None


def _one_slip(typed: str, word: str) -> bool:
    """Whether `typed` is `word` with a letter dropped or added, or two swapped, after
    its first letter (a changed letter alters the letters and keeps the length)."""
    return (typed[0] == word[0] and edit_distance(typed, word, transpositions=True) == 1
            and (len(typed) != len(word) or sorted(typed) == sorted(word)))


def word_terms(text: str, language: str) -> list[str]:
    """The word terms of a text, in order (repeated terms repeat)."""
    return [term for token in tokenize(text) for term in _token_terms(token, language)]


@lru_cache(maxsize=200_000)
def _grams(token: str) -> tuple[str, ...]:
    """A content word's character n-grams, folded, with its edges marked."""
    word = f"<{fold(token)}>"
    return tuple(CHAR + word[i:i + n] for n in NGRAMS for i in range(len(word) - n + 1))


def char_grams(text: str, language: str) -> list[str]:
    """The character n-grams of a text's content words (no stop words, no numbers)."""
    return [gram for token in tokenize(text)
            if len(token) >= MIN_GRAM_WORD and _token_terms(token, language)
            for gram in _grams(token)]


@cache
def char_idf() -> similarity.Weights:
    """Inverse document frequencies of character n-grams in the bundled corpus."""
    from ml.corpus import load_corpus

    counts: Counter[str] = Counter()
    texts = [example.text for example in load_corpus()]
    for text in texts:
        counts.update(set(char_grams(text, detect_language(text))))
    return similarity.Weights(counts, len(texts))


def _tf_idf(features: Iterable[str], weights: similarity.Weights) -> Vector:
    counts = Counter(features)
    return similarity.normalized(
        {feature: (1 + math.log(count)) * weights(feature) for feature, count in counts.items()})


def blocks(vector: Mapping[str, float]) -> tuple[Vector, Vector]:
    """A vector's word terms and its character n-grams, apart."""
    words = {t: w for t, w in vector.items() if not t.startswith(CHAR)}
    chars = {t: w for t, w in vector.items() if t.startswith(CHAR)}
    return words, chars


def truncated(vector: Mapping[str, float], words: int = PROFILE_WORDS,
              chars: int = PROFILE_CHARS) -> Vector:
    """The heaviest `words` word terms and `chars` character n-grams of a vector."""
    word_block, char_block = blocks(vector)
    return {**similarity.top_terms(word_block, words), **similarity.top_terms(char_block, chars)}


def vectorize(text: str, language: str | None = None, word_share: float = WORD_SHARE,
              word_features: int = WORD_FEATURES, char_features: int = CHAR_FEATURES) -> Vector:
    """A text's grouping vector, its heaviest features only; empty for a text without words."""
    language = language if language in LANGUAGES else detect_language(text)
    words = similarity.top_terms(
        _tf_idf(word_terms(text, language), similarity.corpus_idf()), word_features)
    chars = similarity.top_terms(_tf_idf(char_grams(text, language), char_idf()), char_features)
    words, chars = similarity.normalized(words), similarity.normalized(chars)
    word_scale, char_scale = math.sqrt(word_share), math.sqrt(1 - word_share)
    return {**{t: w * word_scale for t, w in words.items()},
            **{t: w * char_scale for t, w in chars.items()}}


def added(profile: Mapping[str, float], vector: Mapping[str, float],
          sign: float = 1.0) -> Vector:
    """`profile` plus (or, with sign -1, minus) `vector`, its heaviest features kept.

    A feature whose weight falls to zero or below leaves the profile.
    """
    total = dict(profile)
    for term, weight in vector.items():
        total[term] = total.get(term, 0.0) + sign * weight
    return truncated({t: w for t, w in total.items() if w > 1e-9})


def summed(vectors: Iterable[Mapping[str, float]]) -> Vector:
    """The profile of a group with these members' vectors."""
    total: Counter[str] = Counter()
    for vector in vectors:
        total.update(vector)
    return truncated(total)


def score(vector: Mapping[str, float], profile: Mapping[str, float]) -> float:
    """How alike a report and a profile are: the better of their words' and their
    characters' cosines (a typo or a missing å only lowers the words', a
    paraphrase only the characters')."""
    words, chars = blocks(vector)
    profile_words, profile_chars = blocks(profile)
    return max(similarity.cosine(words, profile_words), similarity.cosine(chars, profile_chars))


@dataclass(frozen=True)
class Candidate:
    """A group a report may join: its profile, the profile of the reports moved out."""

    key: int
    profile: Mapping[str, float]
    excluded: Mapping[str, float]
    members: int
    is_known_issue: bool = False


def choose(vector: Mapping[str, float], candidates: Sequence[Candidate],
           join: float = JOIN, join_known: float = JOIN_KNOWN,
           similar: Callable[[Mapping, Mapping], float] = score) -> Candidate | None:
    """The group this report joins (the most similar that accepts it), or None for a new one.

    A group accepts a report whose cosine with its profile reaches the
    threshold and is higher than its cosine with the group's excluded
    reports; among equals the larger, then the older (lower key) group wins.
    """
    best, best_score = None, 0.0
    for candidate in sorted(candidates, key=lambda c: (-c.members, c.key)):
        alike = similar(vector, candidate.profile)
        if alike < (join_known if candidate.is_known_issue else join):
            continue
        if candidate.excluded and similar(vector, candidate.excluded) >= alike:
            continue
        if alike > best_score:
            best, best_score = candidate, alike
    return best


def bridged(joined: Mapping[str, float], others: Sequence[Candidate],
            merge: float = MERGE) -> list[Candidate]:
    """The groups that the group a report just joined should absorb: those whose profiles
    are now as alike as `merge`.

    The first reports of one fault often start groups of their own (two short
    reports worded differently share little); once one of the groups has a few
    members its profile shows the others to be the same thing. A known issue's
    profile is never absorbed.
    """
    return [other for other in others
            if not other.is_known_issue and score(joined, other.profile) >= merge]


def title(profile: Mapping[str, float], texts: Iterable[str],
          terms: int = TITLE_TERMS) -> str:
    """A group's title: its heaviest word terms as the words its members used most.

    "provsvar · rörposten · journalen": for each of the profile's heaviest word
    terms, the original word that most often gave it in `texts` (which must be
    de-identified); a term no text gives is left out, as is a word already used
    (with or without its diacritics).
    """
    words, _ = blocks(profile)
    wanted = list(similarity.top_terms(words, 3 * terms))
    surfaces: dict[str, Counter[str]] = {term: Counter() for term in wanted}
    for text in texts:
        language = detect_language(text)
        for token in tokenize(text):
            for term in _token_terms(token, language):
                if term in surfaces:
                    surfaces[term][token] += 1
    chosen: list[str] = []
    for term in wanted:
        if surfaces[term]:
            word = max(surfaces[term].items(), key=lambda item: (item[1], item[0]))[0]
            if fold(word) not in {fold(other) for other in chosen}:
                chosen.append(word)
        if len(chosen) == terms:
            break
    return TITLE_SEPARATOR.join(chosen)


def majority_language(texts: Iterable[str]) -> str | None:
    """The language most of the texts are in (None for no texts)."""
    counts = Counter(detect_language(text) for text in texts)
    return counts.most_common(1)[0][0] if counts else None
