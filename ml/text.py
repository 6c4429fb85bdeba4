"""Text preparation for Swedish and English staff reports.

Reports are short, hurried and full of clinical abbreviations, numbers and
typos. The word features therefore keep abbreviations and numbers as tokens,
stem per language with nltk's Snowball stemmers (which need no download), drop
stop words from the maintained `stop-words` lists but keep negations, and mark
the words that follow a negation so "no patient was harmed" differs from
"the patient was harmed".
"""

import re
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import TYPE_CHECKING, TypeVar

from stop_words import get_stop_words

if TYPE_CHECKING:
    from nltk.stem.snowball import SnowballStemmer

T = TypeVar("T")

LANGUAGES = ("sv", "en")
_STEMMER_NAMES = {"sv": "swedish", "en": "english"}

#: Negations are stop words in the lists but carry meaning here.
NEGATIONS = frozenset(
    {"inte", "ej", "ingen", "inget", "inga", "aldrig", "utan", "icke",
     "not", "no", "never", "without", "nor", "none", "nothing", "nobody",
     "didn't", "don't", "doesn't", "wasn't", "weren't", "isn't", "won't", "can't",
     "cannot", "couldn't", "hasn't", "haven't", "hadn't"}
)
#: How many words after a negation are marked as negated, at most.
NEGATION_SCOPE = 3
#: A negation's scope also ends at punctuation or at a word that turns the sentence.
SCOPE_ENDERS = frozenset({"but", "however", "although", "though", "men", "dock", "fast"})
_SCOPE_PUNCTUATION = re.compile(r"[,.;:!?()]")

# Letters and digits, joined by . - / ' inside a token ("i.v.", "covid-19", "2.5", "didn't").
_TOKEN = re.compile(r"[^\W_]+(?:['’.\-/][^\W_]+)*")
_NUMBER = re.compile(r"^\d+(?:[.,/:\-]\d+)*$")


@cache
def _stop_words(language: str) -> frozenset[str]:
    words = get_stop_words(_STEMMER_NAMES[language])
    return frozenset(w for w in words if w not in NEGATIONS)


@cache
def _stemmer(language: str) -> "SnowballStemmer":
    # nltk imports scikit-learn when it loads: only pay for it when stemming.
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer(_STEMMER_NAMES[language])


# Words that tell the languages apart: the stop words of one that are not the other's.
@cache
def _markers() -> dict[str, frozenset[str]]:
    sv, en = _stop_words("sv"), _stop_words("en")
    return {"sv": sv - en, "en": en - sv}


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; abbreviations, doses and numbers stay whole."""
    return [t.replace("’", "'") for t in _TOKEN.findall(text.lower())]


def token_spans(text: str) -> list[tuple[int, int]]:
    """Where each token of `tokenize` stands in the original text."""
    return [match.span() for match in _TOKEN.finditer(text.lower())]


def language_score(text: str) -> int:
    """English marker words less Swedish ones and twice the letters å, ä and ö.

    Above 0 means English. The score of a text is the sum of its white-space
    chunks' scores, so it can be worked out per chunk (see `ml.features`).
    """
    tokens = tokenize(text)
    markers = _markers()
    lower = text.lower()
    return (sum(map(markers["en"].__contains__, tokens))
            - sum(map(markers["sv"].__contains__, tokens))
            - 2 * (lower.count("å") + lower.count("ä") + lower.count("ö")))


def detect_language(text: str) -> str:
    """Return "sv" or "en", whichever the text's function words and letters favour."""
    return "en" if language_score(text) > 0 else "sv"


@lru_cache(maxsize=200_000)
def _stem(token: str, language: str) -> str:
    """A token's stem; cached, since staff reports reuse a small vocabulary."""
    if _NUMBER.match(token):
        return "<num>"
    return _stemmer(language).stem(token)


#: Kinds of the items `chunk_words` yields.
WORD, NEGATION, SCOPE_END = range(3)
#: The word feature a negation gives.
NEGATION_FEATURE = "not"
# A token, or a punctuation mark (second group) that ends a negation's scope.
_PIECE = re.compile(rf"({_TOKEN.pattern})|({_SCOPE_PUNCTUATION.pattern})")


def chunk_words(chunk: str, language: str) -> tuple[list[tuple[int, str, int]], int]:
    """The word items of one white-space chunk of lower-cased text, and its token count.

    Items are ``(kind, stem, token)`` in order: `WORD` for a content word,
    `NEGATION` for a negation, `SCOPE_END` (empty stem, token -1) where a
    negation's scope ends: at punctuation or at a word that turns the sentence.
    `token` numbers the chunk's tokens (stop words included) from 0. Features
    never span white space, so a text's word features follow from its chunks
    alone, and a caller may cache them per chunk (see `ml.features`).
    """
    stop = _stop_words(language)
    items: list[tuple[int, str, int]] = []
    index = 0
    for token, punctuation in _PIECE.findall(chunk):
        if punctuation:
            items.append((SCOPE_END, "", -1))
            continue
        token = token.replace("’", "'")
        if token in SCOPE_ENDERS:
            items.append((SCOPE_END, "", -1))
        if token in NEGATIONS:
            items.append((NEGATION, NEGATION_FEATURE, index))
        elif token not in stop:
            items.append((WORD, _stem(token, language), index))
        index += 1
    return items, index


def negation_scopes(items: Iterable[tuple[int, T, T]]) -> tuple[list[T], list[T]]:
    """Word features in order, with negation scopes applied, and those the scopes added.

    `items` are ``(kind, feature, negated feature)`` as `chunk_words` orders
    them (a negation's feature stands for the negation itself). A negation
    marks up to `NEGATION_SCOPE` following words with their negated feature;
    a `SCOPE_END` ends the scope. Works on any kind of feature: strings here,
    column numbers in `ml.features`.
    """
    features: list[T] = []
    added: list[T] = []
    negated = 0
    for kind, feature, negated_feature in items:
        if kind == WORD:
            features.append(feature)
            if negated:
                features.append(negated_feature)
                added.append(negated_feature)
                negated -= 1
        elif kind == NEGATION:
            features.append(feature)
            negated = NEGATION_SCOPE
        else:
            negated = 0
    return features, added


def word_features(text: str, language: str) -> list[tuple[str, int]]:
    """Each word feature with the index of the token it comes from.

    Features are stems without stop words, "not" for a negation, and
    ``neg_<stem>`` for words in the scope of a negation, which runs for up to
    `NEGATION_SCOPE` words and ends at punctuation or at "but"/"men".
    """
    items = []
    offset = 0
    for chunk in text.lower().split():
        words, count = chunk_words(chunk, language)
        items += [(kind, (stem, offset + token), ("neg_" + stem, offset + token))
                  for kind, stem, token in words]
        offset += count
    return negation_scopes(items)[0]


def analyze(text: str, language: str | None = None) -> str:
    """The word features of a text as one space-separated string (for a whitespace tokenizer)."""
    return " ".join(f for f, _ in word_features(text, language or detect_language(text)))


def normalize(text: str) -> str:
    """Lower-cased text with white space folded, for character n-grams."""
    return " ".join(text.lower().split())
