"""Text similarity between reports, across Swedish and English.

Near-duplicate reports of one fault are often written in both languages
("labbsvaren syns inte i journalen" / "lab results not showing in the record").
A report's text becomes a bag of *terms*:

- a word this domain's small bilingual lexicon (`LEXICON`, below) knows becomes
  its *concept*, ``=print`` for "utskrift", "skrivaren", "printer" and
  "printing" alike, so the two languages meet on the concepts;
- a Swedish compound made of two known parts becomes both concepts
  ("labbsvaren" -> ``=lab`` ``=result``, "skrivarfel" -> ``=print`` ``=error``),
  since English writes the same thing as two words;
- every other word stays its Snowball stem in the text's language (words that
  are the same in both, such as drug names, meet there too); stop words,
  negations and numbers are left out.

Terms are weighted TF-IDF (sublinear term frequency, smoothed inverse document
frequency from the bundled report corpus, `corpus_idf`; a term the corpus never
uses gets the highest weight, as it is likely distinctive) and compared by
cosine similarity. Only ml.text's public functions are used.

For storage and index look-ups a term is reduced to a signed 32-bit integer
(`term_key`), which keeps the index of a million reports small; two of the few
hundred thousand possible terms sharing a key is rare and only adds a little
noise to a score.
"""

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache

from ml.text import LANGUAGES, detect_language, tokenize, word_features

#: A report's text as term -> weight, L2-normalised (or truncated from such a vector).
Vector = dict[str, float]

#: Concepts of this domain (an electronic health record going live) with the words
#: for them in Swedish and English, inflected forms included where the stemmer does
#: not join them. Written by hand; extend it when a fault's reports fail to meet.
LEXICON: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # concept: (Swedish words, English words)
    "print": (("utskrift", "utskriften", "utskrifter", "skrivare", "skrivaren", "skrivarna",
               "skrivar", "printer", "printern", "printa", "printar"),
              ("print", "printer", "printers", "printing", "printed", "printout")),
    "label": (("etikett", "etiketter", "etiketten"), ("label", "labels", "sticker")),
    "lab": (("labb", "labbet", "laboratorium", "lab", "prov", "proverna", "provet",
             "provtagning", "analys"),
            ("lab", "labs", "laboratory", "test", "tests", "sample", "samples", "specimen")),
    "result": (("svar", "svaren", "svaret", "resultat", "resultaten"),
               ("result", "results")),
    "medication": (("läkemedel", "läkemedlet", "läkemedlen", "lm", "medicin", "mediciner",
                    "medicinen", "läkemedels"),
                   ("medication", "medications", "medicine", "medicines", "drug", "drugs",
                    "meds")),
    "list": (("lista", "listan", "listor"), ("list", "lists")),
    "dose": (("dos", "dosen", "doser", "dosering"), ("dose", "doses", "dosage")),
    "order": (("ordination", "ordinationen", "ordinationer", "ordinera", "ordinerade",
               "beställning", "beställa", "beställde"),
              ("order", "orders", "ordered", "ordering", "prescription", "prescribe",
               "prescribed")),
    "login": (("inloggning", "inloggningen", "logga", "loggar", "inlogg", "login",
               "utloggad", "utloggning"),
              ("login", "log", "logging", "logon", "logged", "signin")),
    "password": (("lösenord", "lösenordet"), ("password", "passwords")),
    "card": (("kort", "kortet", "korten", "siths", "kortläsare"),
             ("card", "cards", "smartcard", "smart", "reader")),
    "certificate": (("certifikat", "certifikatet"), ("certificate", "certificates")),
    "record": (("journal", "journalen", "journaler", "journalsystem", "patientjournal"),
               ("record", "records", "ehr", "emr", "journal", "chart", "charts")),
    "note": (("anteckning", "anteckningen", "anteckningar", "dokumentation",
              "dokumentera"),
             ("note", "notes", "documentation", "document", "documenting")),
    "referral": (("remiss", "remissen", "remisser", "remisserna"),
                 ("referral", "referrals", "refer")),
    "allergy": (("allergi", "allergin", "allergier", "överkänslighet"),
                ("allergy", "allergies", "allergic")),
    "error": (("fel", "felet", "felmeddelande", "felmeddelandet", "felaktig", "felaktigt"),
              ("error", "errors", "fault", "wrong", "incorrect", "bug")),
    "freeze": (("hänger", "hängde", "hängt", "fryser", "frös", "krasch", "kraschar",
                "kraschade", "låser", "låste"),
               ("freeze", "freezes", "froze", "frozen", "hang", "hangs", "hung", "crash",
                "crashes", "crashed")),
    "slow": (("långsam", "långsamt", "seg", "segt", "trög", "trögt", "laddar"),
             ("slow", "slowly", "sluggish", "loading", "lag")),
    "missing": (("saknas", "saknades", "försvann", "försvinner", "försvinna", "försvunnit",
                 "försvunnen", "försvunna", "borta", "tomt"),
                ("missing", "lost", "disappear", "disappears", "disappeared", "vanish",
                 "vanishes", "vanished", "gone", "empty", "blank")),
    "show": (("syns", "synas", "visas", "visades", "visa", "syntes", "synlig"),
             ("show", "shows", "showing", "shown", "visible", "display", "displayed",
              "appear", "appears")),
    "screen": (("skärm", "skärmen", "bildskärm"), ("screen", "monitor")),
    "computer": (("dator", "datorn", "datorer"), ("computer", "pc", "workstation")),
    # English "transfer" is a patient's as well as data's, so the Swedish words of both are here.
    "transfer": (("överföring", "överförs", "överfördes", "integration", "integrationen",
                  "överflyttning", "överflyttad", "överflyttade", "flytt", "flyttad",
                  "flyttade", "flyttas"),
                 ("transfer", "transferred", "interface", "integration", "moved")),
    "discharge": (("utskrivning", "utskrivningen", "utskriven"),
                  ("discharge", "discharged")),
    "admission": (("inskrivning", "inskrivningen", "inskriven"),
                  ("admission", "admitted", "admit")),
    "nurse": (("sjuksköterska", "sjuksköterskan", "ssk", "usk", "undersköterska"),
              ("nurse", "nurses", "rn")),
    "doctor": (("läkare", "läkaren", "doktor", "doktorn"), ("doctor", "physician", "dr")),
    "pharmacy": (("apotek", "apoteket", "farmaceut"), ("pharmacy", "pharmacist")),
    "training": (("utbildning", "utbildningen", "kurs", "kursen", "introduktion"),
                 ("training", "course", "education", "taught", "teach")),
    "blood": (("blod", "blodprov", "blodet"), ("blood",)),
    "tube": (("rörpost", "rörposten", "rörpostsystemet", "rörpostsystem", "rörpostprover"),
             ("tube", "pneumatic", "chute")),
    # A radiology referral ("röntgenremiss") is both: the compound rule gives the two.
    "radiology": (("röntgen", "ct", "dt", "mr"), ("x-ray", "xray", "radiology", "ct", "mri")),
    "booking": (("bokning", "bokningen", "boka", "bokade", "tidbok"),
                ("booking", "book", "booked", "appointment", "appointments")),
    "delay": (("försenad", "försenade", "försening", "fördröjning", "väntade"),
              ("delay", "delayed", "late", "waited")),
    "patient": (("patient", "patienten", "patienter", "pat", "pt"),
                ("patient", "patients", "pt", "pts")),
    "ward": (("avdelning", "avdelningen", "avd"), ("ward", "wards")),
    "night": (("natt", "natten", "nattskift", "nattpersonal"), ("night", "nights", "overnight")),
    "scanner": (("skanner", "skannern", "streckkod", "streckkoden", "scanner"),
                ("scanner", "scanning", "barcode", "scan")),
    "wristband": (("id-band", "armband", "patientband"), ("wristband", "armband")),
    "sign": (("signera", "signerade", "signering", "signeringen"),
             ("sign", "signing", "signed", "signature", "cosign")),
    "update": (("uppdatering", "uppdateringen", "uppdaterades", "uppdateras"),
               ("update", "updated", "updates", "upgrade")),
    "duplicate": (("dubbel", "dubbla", "dubbelt", "dubblett", "dubblerad", "dubblerade",
                   "dubbleras", "dubblerat", "fördubblad", "fördubblade", "fördubblat"),
                  ("duplicate", "duplicated", "duplicates", "double", "doubled", "twice")),
    "message": (("meddelande", "meddelandet", "meddelanden"), ("message", "messages")),
    "phone": (("telefon", "telefonen", "mobil", "ringa", "ringde", "ringer"),
              ("phone", "phoned", "telephone", "mobile", "call", "called", "calling")),
    "morning": (("morse", "morgon", "morgonen", "förmiddag"), ("morning", "mornings")),
    "insulin": (("insulin", "insulinet"), ("insulin",)),
    "vitals": (("vitalparametrar", "puls", "blodtryck"), ("vitals", "pulse", "pressure")),
}

#: Shortest compound part looked up in the lexicon ("dos" in "dosändring").
_PART_MIN = 3
#: What a concept term starts with, so it never equals a stem.
_CONCEPT = "="


@cache
def _lexicon() -> dict[str, dict[str, str]]:
    """Per language: every lexicon word and its stem -> its concept term.

    The words themselves are kept too, as some are stop words in the lists
    (English "results", "show").
    """
    lookup: dict[str, dict[str, str]] = {language: {} for language in LANGUAGES}
    for concept, words_per_language in LEXICON.items():
        for language, words in zip(LANGUAGES, words_per_language, strict=True):
            for word in words:
                lookup[language].setdefault(word, _CONCEPT + concept)
                stem = _stem(word, language)
                if stem:
                    lookup[language].setdefault(stem, _CONCEPT + concept)
    return lookup


@lru_cache(maxsize=200_000)
def _stem(token: str, language: str) -> str | None:
    """The token's stem, or None for a stop word, a negation or a number."""
    features = word_features(token, language)
    if len(features) != 1:
        return None
    stem = features[0][0]
    if stem == "not" or stem == "<num>" or stem.startswith("neg_"):
        return None
    return stem


def _concept(token: str, language: str, mixed: bool = True) -> str | None:
    """The lexicon's concept for a word, if it has one.

    With `mixed`, a content word the text's language does not know is tried
    in the other language too ("printern", "login" in a Swedish text); a stop
    word never is (Swedish "med" is not English "meds").
    """
    lexicon = _lexicon()
    if token in lexicon[language]:
        return lexicon[language][token]
    stem = _stem(token, language)
    if stem is None:
        return None
    if stem in lexicon[language]:
        return lexicon[language][stem]
    if mixed:
        for other in LANGUAGES:
            if other == language:
                continue
            other_stem = _stem(token, other)
            for form in (token, other_stem):
                if form is not None and form in lexicon[other]:
                    return lexicon[other][form]
    return None


def _compound(token: str) -> tuple[str, ...]:
    """The concepts of a Swedish compound whose two parts the lexicon knows, else ()."""
    for cut in range(len(token) - _PART_MIN, _PART_MIN - 1, -1):
        head, tail = token[:cut], token[cut:]
        tail_concept = _concept(tail, "sv", mixed=False)
        if tail_concept is None:
            continue
        head_concept = _concept(head, "sv", mixed=False)
        if head_concept is None and head.endswith("s") and len(head) > _PART_MIN:
            head_concept = _concept(head[:-1], "sv", mixed=False)  # "utskrifts|kö"
        if head_concept is not None:
            return (head_concept, tail_concept)
    return ()


@lru_cache(maxsize=200_000)
def token_terms(token: str, language: str) -> tuple[str, ...]:
    """The terms one lower-cased token gives in a text of `language`."""
    concept = _concept(token, language)
    if concept is not None:
        return (concept,)
    if language == "sv" and len(token) >= 2 * _PART_MIN:
        parts = _compound(token)
        if parts:
            return parts
    stem = _stem(token, language)
    terms = (stem,) if stem is not None and len(stem) > 1 else ()
    for piece in token.replace("/", "-").split("-") if "-" in token or "/" in token else ():
        if piece != token and len(piece) > 1:
            terms += token_terms(piece, language)
    return terms


def terms(text: str, language: str | None = None) -> list[str]:
    """Every term of a text, in order (repeated terms repeat)."""
    language = language if language in LANGUAGES else detect_language(text)
    return [term for token in tokenize(text) for term in token_terms(token, language)]


def document_frequencies(texts: Iterable[str]) -> tuple[Counter[str], int]:
    """In how many of `texts` each term occurs, and how many texts there were."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        counts.update(set(terms(text)))
        total += 1
    return counts, total


def idf_from(frequencies: Mapping[str, int], documents: int) -> dict[str, float]:
    """Smoothed inverse document frequencies, as scikit-learn's TfidfVectorizer has them."""
    return {term: math.log((1 + documents) / (1 + count)) + 1
            for term, count in frequencies.items()}


class Weights:
    """Inverse document frequencies, with the highest one for a term never seen."""

    def __init__(self, frequencies: Mapping[str, int], documents: int) -> None:
        self.idf = idf_from(frequencies, documents)
        self.unseen = math.log(1 + documents) + 1

    def __call__(self, term: str) -> float:
        return self.idf.get(term, self.unseen)


@cache
def corpus_idf() -> Weights:
    """The weights learnt from the bundled corpus of reports (about 0.5 s, once)."""
    from ml.corpus import load_corpus

    return Weights(*document_frequencies(example.text for example in load_corpus()))


def vectorize(text: str, language: str | None = None, weights: Weights | None = None) -> Vector:
    """The text's TF-IDF vector, L2-normalised; empty for a text without terms."""
    weights = weights or corpus_idf()
    counts = Counter(terms(text, language))
    vector = {term: (1 + math.log(count)) * weights(term) for term, count in counts.items()}
    return normalized(vector)


def normalized(vector: Mapping[str, float]) -> Vector:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {term: w / norm for term, w in vector.items()} if norm else {}


def top_terms(vector: Mapping[str, float], k: int) -> Vector:
    """The `k` heaviest terms of a vector (its most distinctive), as they are."""
    return dict(sorted(vector.items(), key=lambda item: (-item[1], item[0]))[:k])


def centroid(vectors: Iterable[Mapping[str, float]]) -> Vector:
    """The normalised sum of vectors: the term profile of a group of reports."""
    total: Counter[str] = Counter()
    for vector in vectors:
        total.update(normalized(vector))
    return normalized(total)


def cosine(a: Mapping, b: Mapping) -> float:
    """Cosine similarity of two sparse vectors (any hashable keys), 0 when either is empty."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b[t] for t, w in a.items() if t in b)
    if not dot:
        return 0.0
    norm = math.sqrt(sum(w * w for w in a.values()) * sum(w * w for w in b.values()))
    return dot / norm


@lru_cache(maxsize=200_000)
def term_key(term: str) -> int:
    """A stable signed 32-bit integer for a term (BLAKE2b), for compact storage."""
    digest = hashlib.blake2b(term.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def keyed(vector: Mapping[str, float]) -> dict[int, float]:
    """A vector with its terms replaced by their keys (summing the rare collisions)."""
    result: dict[int, float] = {}
    for term, weight in vector.items():
        key = term_key(term)
        result[key] = result.get(key, 0.0) + weight
    return result
