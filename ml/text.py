"""Text preparation for Swedish and English staff reports.

Reports are short, hurried and full of clinical abbreviations, numbers and
typos. The word features therefore keep abbreviations and numbers as tokens,
stem per language with nltk's Snowball stemmers (which need no download), drop
stop words from the maintained `stop-words` lists but keep negations, and mark
the words that follow a negation so "no patient was harmed" differs from
"the patient was harmed".
"""

import re
from functools import cache

from nltk.stem.snowball import SnowballStemmer
from stop_words import get_stop_words

LANGUAGES = ("sv", "en")
_STEMMER_NAMES = {"sv": "swedish", "en": "english"}

#: Negations are stop words in the lists but carry meaning here.
NEGATIONS = frozenset(
    {"inte", "ej", "ingen", "inget", "inga", "aldrig", "utan", "icke",
     "not", "no", "never", "without", "nor", "none", "nothing", "nobody",
     "didn't", "don't", "doesn't", "wasn't", "weren't", "isn't", "won't", "can't",
     "cannot", "couldn't", "hasn't", "haven't", "hadn't"}
)
#: How many words after a negation are marked as negated.
NEGATION_SCOPE = 3

# Letters and digits, joined by . - / ' inside a token ("i.v.", "covid-19", "2.5", "didn't").
_TOKEN = re.compile(r"[^\W_]+(?:['’.\-/][^\W_]+)*")
_NUMBER = re.compile(r"^\d+(?:[.,/:\-]\d+)*$")


@cache
def _stop_words(language: str) -> frozenset[str]:
    words = get_stop_words(_STEMMER_NAMES[language])
    return frozenset(w for w in words if w not in NEGATIONS)


@cache
def _stemmer(language: str) -> SnowballStemmer:
    return SnowballStemmer(_STEMMER_NAMES[language])


# Words that tell the languages apart: the stop words of one that are not the other's.
@cache
def _markers() -> dict[str, frozenset[str]]:
    sv, en = _stop_words("sv"), _stop_words("en")
    return {"sv": sv - en, "en": en - sv}


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; abbreviations, doses and numbers stay whole."""
    return [t.replace("’", "'") for t in _TOKEN.findall(text.lower())]


def detect_language(text: str) -> str:
    """Return "sv" or "en", whichever the text's function words and letters favour."""
    tokens = tokenize(text)
    markers = _markers()
    sv = sum(t in markers["sv"] for t in tokens) + 2 * sum(c in "åäö" for c in text.lower())
    en = sum(t in markers["en"] for t in tokens)
    return "en" if en > sv else "sv"


def _stem(token: str, language: str) -> str:
    if _NUMBER.match(token):
        return "<num>"
    return _stemmer(language).stem(token)


def analyze(text: str, language: str | None = None) -> str:
    """The word features of a text as one space-separated string.

    Returns stems without stop words, plus ``neg_<stem>`` for words in the
    scope of a negation. The result feeds a plain whitespace tokenizer.
    """
    language = language or detect_language(text)
    stop = _stop_words(language)
    features: list[str] = []
    negated = 0
    for token in tokenize(text):
        if token in NEGATIONS:
            features.append("not")
            negated = NEGATION_SCOPE
            continue
        if token in stop:
            continue
        stem = _stem(token, language)
        features.append(stem)
        if negated:
            features.append("neg_" + stem)
            negated -= 1
    return " ".join(features)


def normalize(text: str) -> str:
    """Lower-cased text with white space folded, for character n-grams."""
    return " ".join(text.lower().split())
