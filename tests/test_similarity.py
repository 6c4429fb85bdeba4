"""ml.similarity: near-duplicate reports score high within and across Swedish and English,
unrelated ones low."""

import pytest

from ml import similarity

#: The same fault told twice: in Swedish and in English, in different words.
CROSS_LANGUAGE = [
    ("Labbsvaren syns inte i journalen sedan uppdateringen i morse, vi fick ringa labbet.",
     "Lab results are not showing in the patient record since this morning's update, "
     "we had to phone the lab."),
    ("Skrivaren på avdelning 12 skriver inte ut etiketter till proverna.",
     "The printer on ward 12 won't print the labels for the samples."),
    ("Kan inte logga in med SITHS-kortet, felmeddelande om certifikat.",
     "Cannot log in with my smart card, error message about the certificate."),
    ("Läkemedelslistan visar fel dos av insulin efter ordinationen.",
     "The medication list shows the wrong insulin dose after the order."),
    ("Remissen till röntgen försvann när jag signerade den.",
     "The referral to radiology disappeared when I signed it."),
]
#: Within one language, reworded and inflected.
SAME_LANGUAGE = [
    ("Provsvaren kommer inte över till journalen.",
     "Provsvar saknas i journalen, de kommer inte över."),
    ("The printer keeps jamming when printing wristband labels.",
     "Wristband labels jam in the printer every time we print."),
]
UNRELATED = [
    "Car park B closed again without notice, staff had to walk in the dark.",
    "Kaffemaskinen i personalrummet är trasig sedan i fredags.",
    "Skrivaren på avdelning 12 skriver inte ut etiketter till proverna.",
    "Lab results are not showing in the patient record since this morning's update.",
    "Kan inte logga in med SITHS-kortet, felmeddelande om certifikat.",
    "Läkemedelslistan visar fel dos av insulin efter ordinationen.",
]


def score(a: str, b: str) -> float:
    return similarity.cosine(similarity.vectorize(a), similarity.vectorize(b))


@pytest.mark.parametrize(("swedish", "english"), CROSS_LANGUAGE)
def test_a_report_and_its_translation_are_near_duplicates(swedish, english):
    assert score(swedish, english) >= 0.5


@pytest.mark.parametrize(("first", "second"), SAME_LANGUAGE)
def test_rewordings_in_one_language_are_near_duplicates(first, second):
    assert score(first, second) >= 0.5


def test_unrelated_reports_score_low():
    for i, first in enumerate(UNRELATED):
        for second in UNRELATED[i + 1:]:
            assert score(first, second) < 0.2, (first, second)


def test_a_translation_is_closer_than_any_other_report():
    """Each Swedish report's nearest English one is its own translation."""
    english = [e for _, e in CROSS_LANGUAGE]
    for index, (swedish, _) in enumerate(CROSS_LANGUAGE):
        scores = [score(swedish, text) for text in english]
        assert scores.index(max(scores)) == index


def test_lexicon_words_become_shared_concepts():
    assert similarity.terms("utskriften", "sv") == similarity.terms("printing", "en") == ["=print"]
    # A Swedish compound of two known parts gives both concepts, as English's two words do.
    assert similarity.terms("labbsvaren", "sv") == ["=lab", "=result"]
    assert similarity.terms("lab results", "en") == ["=lab", "=result"]
    # An English loanword in a Swedish text is still found.
    assert similarity.terms("printern", "sv") == ["=print"]


def test_stop_words_negations_and_numbers_give_no_terms():
    assert similarity.terms("Det var inte med 12 av dem", "sv") == []
    # Swedish "med" (with) is a stop word, never English "meds".
    assert "=medication" not in similarity.terms("Patienten kom med ambulans", "sv")


def test_vectors_are_normalised_and_empty_text_is_empty():
    vector = similarity.vectorize("Skrivaren skriver inte ut etiketter")
    assert sum(w * w for w in vector.values()) == pytest.approx(1.0)
    assert similarity.vectorize("") == {}
    assert similarity.cosine({}, vector) == 0.0


def test_rare_terms_weigh_more_than_common_ones():
    vector = similarity.vectorize("The patient record shows a Zyxwidget error")
    assert vector["zyxwidget"] > vector["=patient"]


def test_top_terms_keeps_the_heaviest():
    assert similarity.top_terms({"a": 0.1, "b": 0.5, "c": 0.3}, 2) == {"b": 0.5, "c": 0.3}


def test_centroid_of_vectors_is_normalised_and_shared_terms_dominate():
    profile = similarity.centroid([{"x": 1.0}, {"x": 0.6, "y": 0.8}])
    assert sum(w * w for w in profile.values()) == pytest.approx(1.0)
    assert profile["x"] > profile["y"]


def test_term_keys_are_stable_signed_32_bit_integers():
    key = similarity.term_key("=print")
    assert key == similarity.term_key("=print")
    assert -2**31 <= key < 2**31
    assert similarity.keyed({"=print": 0.5}) == {key: 0.5}
