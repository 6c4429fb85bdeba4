"""Text preparation for Swedish and English staff reports.

Reports are short, hurried and full of clinical abbreviations, numbers and
typos. The word features therefore keep abbreviations and numbers as tokens,
stem per language with nltk's Snowball stemmers (which need no download), drop
stop words from the maintained `stop-words` lists but keep negations, and mark
the words that follow a negation so "no patient was harmed" differs from
"the patient was harmed".
"""

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from stop_words import get_stop_words

if TYPE_CHECKING:
    from nltk.stem.snowball import SnowballStemmer

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


def detect_language(text: str) -> str:
    """Return "sv" or "en", whichever the text's function words and letters favour."""
    tokens = tokenize(text)
    markers = _markers()
    sv = sum(t in markers["sv"] for t in tokens) + 2 * sum(c in "åäö" for c in text.lower())
    en = sum(t in markers["en"] for t in tokens)
    return "en" if en > sv else "sv"


@lru_cache(maxsize=200_000)
def _stem(token: str, language: str) -> str:
    """A token's stem; cached, since staff reports reuse a small vocabulary."""
    if _NUMBER.match(token):
        return "<num>"
    return _stemmer(language).stem(token)


def word_features(text: str, language: str) -> list[tuple[str, int]]:
    """Each word feature with the index of the token it comes from.

    Features are stems without stop words, "not" for a negation, and
    ``neg_<stem>`` for words in the scope of a negation, which runs for up to
    `NEGATION_SCOPE` words and ends at punctuation or at "but"/"men".
    """
    stop = _stop_words(language)
    features: list[tuple[str, int]] = []
    negated = 0
    previous_end = 0
    for index, (token, (start, end)) in enumerate(zip(tokenize(text), token_spans(text),
                                                      strict=True)):
        if token in SCOPE_ENDERS or _SCOPE_PUNCTUATION.search(text, previous_end, start):
            negated = 0
        previous_end = end
        if token in NEGATIONS:
            features.append(("not", index))
            negated = NEGATION_SCOPE
            continue
        if token in stop:
            continue
        stem = _stem(token, language)
        features.append((stem, index))
        if negated:
            features.append(("neg_" + stem, index))
            negated -= 1
    return features


def analyze(text: str, language: str | None = None) -> str:
    """The word features of a text as one space-separated string (for a whitespace tokenizer)."""
    return " ".join(f for f, _ in word_features(text, language or detect_language(text)))


def normalize(text: str) -> str:
    """Lower-cased text with white space folded, for character n-grams."""
    return " ".join(text.lower().split())
