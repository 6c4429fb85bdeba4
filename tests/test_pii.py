"""ml.pii: personal numbers, coordination numbers, phones and e-mail addresses."""

import json
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from ml.pii import Finding, find_pii, placeholder, scrub

ROOT = Path(__file__).resolve().parent.parent

PNR = "personnummer"
SAMORDNING = "samordningsnummer"
TELEFON = "telefon"
EPOST = "e-post"
PLACEHOLDERS = {PNR: "[PERSONNUMMER]", SAMORDNING: "[SAMORDNINGSNUMMER]",
                TELEFON: "[TELEFON]", EPOST: "[E-POST]"}


# --- an independent generator of personal numbers ------------------------------


def check_digit(nine: str) -> int:
    """The Luhn check digit for YYMMDDNNN, weights 2, 1, 2, 1, ... from the left."""
    total = 0
    for position, char in enumerate(nine):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


FORMATS = ("long-dash", "short-dash", "short-plus", "short-bare", "long-bare", "short-space")


def personal_number(born: date, serial: int, fmt: str, *, coordination: bool = False,
                    valid: bool = True) -> str:
    day = born.day + (60 if coordination else 0)
    yymmdd = f"{born.year % 100:02d}{born.month:02d}{day:02d}"
    nnn = f"{serial:03d}"
    check = check_digit(yymmdd + nnn)
    if not valid:
        check = (check + 1 + serial % 9) % 10
    last4 = f"{nnn}{check}"
    century = f"{born.year // 100:02d}"
    return {
        "long-dash": f"{century}{yymmdd}-{last4}",
        "short-dash": f"{yymmdd}-{last4}",
        "short-plus": f"{yymmdd}+{last4}",
        "short-bare": f"{yymmdd}{last4}",
        "long-bare": f"{century}{yymmdd}{last4}",
        "short-space": f"{yymmdd} {last4}",
    }[fmt]


def expected_kind(number: str, fmt: str, *, coordination: bool, valid: bool) -> str:
    # Documented ambiguity: ten bare digits starting with 0 (but not 00) and a wrong
    # check digit read as a phone number (0701234567). Masked either way.
    if fmt == "short-bare" and number[0] == "0" and number[1] != "0" and not valid:
        return TELEFON
    return SAMORDNING if coordination else PNR


def random_birth(rng: random.Random) -> date:
    return date(1920, 1, 1) + timedelta(days=rng.randrange(365 * 100))


SENTENCES = [
    "Patienten med personnummer {id} föll i korridoren på avdelning 12.",
    "Pat. {id} fick fel dos, 5 mg i stället för 2,5 mg.",
    "Läkemedel gavs till fel patient ({id}) kl 14.15.",
    "Anhörig ringde från {id} om utebliven information.",
    "Kontakta {id} för uppföljning efter händelsen.",
    "{id}: provsvar CRP 45 saknades vid rond.",
    "Patient {id}, Hb 112, INR 2.3, remitterades utan journal.",
    "The patient (ID {id}) was given the wrong dose at 08:30.",
    "Relative can be reached at {id} after 5 pm.",
    "Wristband showed {id}; the chart showed another number.",
    "Fall reported for {id} on 2026-03-14, bed 4.",
    "Sent to {id}.",
]


# --- personal and coordination numbers ---------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("coordination", [False, True])
@pytest.mark.parametrize("valid", [True, False])
def test_personal_numbers_in_every_format(fmt, coordination, valid):
    rng = random.Random(f"{fmt}{coordination}{valid}")
    for _ in range(40):
        number = personal_number(random_birth(rng), rng.randrange(1, 1000), fmt,
                                 coordination=coordination, valid=valid)
        template = rng.choice(SENTENCES)
        text = template.format(id=number)
        start = template.index("{id}")
        kind = expected_kind(number, fmt, coordination=coordination, valid=valid)
        assert find_pii(text) == [Finding(start, start + len(number), kind)], text
        scrubbed, _ = scrub(text)
        assert scrubbed == template.format(id=PLACEHOLDERS[kind])


@pytest.mark.parametrize("number, kind", [
    ("19640823-3234", PNR), ("640823-3234", PNR), ("6408233234", PNR),
    ("196408233234", PNR), ("640823 3234", PNR), ("121212+1212", PNR),
    ("640883-3231", SAMORDNING), ("19640883-3231", SAMORDNING), ("6408833231", SAMORDNING),
    ("640823-3235", PNR),  # wrong check digit: still masked
    ("000229-1234", PNR),  # 29 February of 2000 (or 1900+ '+': masked regardless)
    ("0701234569", PNR),   # bare, starts with 0, valid Luhn: a child born 2007
])
def test_issue_examples(number, kind):
    text = f"Pnr {number} noterat."
    assert find_pii(text) == [Finding(4, 4 + len(number), kind)]


def test_valid_luhn_examples_from_the_issue():
    assert check_digit("640823323") == 4
    assert check_digit("640883323") == 1
    assert check_digit("070123456") == 9


@pytest.mark.parametrize("text", [
    "Pnr 640230-1234 finns inte.",     # 30 February
    "Pnr 641323-1234 finns inte.",     # month 13
    "Pnr 640892-1234 finns inte.",     # day 92
    "Pnr 640800-1234 finns inte.",     # day 0
    "Pnr 010229-1234 finns inte.",     # 29 February in a non-leap year
    "Pnr 18640823-3234 är för gammalt.",  # born before 1870
    "Pnr 1640823-3234 har sju siffror före strecket.",
    "Pnr 640823-32345 har fem siffror efter.",
])
def test_impossible_dates_and_shapes_are_not_personal_numbers(text):
    assert [f.kind for f in find_pii(text)] == []


# --- phones and e-mail ----------------------------------------------------------------

PHONES = [
    "08-123 45 67", "031-12 34 56", "0491-123 45", "070-123 45 67", "0701234567",
    "073 123 45 67", "+46 70 123 45 67", "+46 8 123 456 78", "0046 70 1234567",
    "+44 20 7946 0958", "08-1234567", "+46701234567", "040-12 34 56", "0731234567",
]

EMAILS = [
    "anna.svensson@regionstockholm.se", "lakare+jour@example.com",
    "kontakt@vard-gotland.se", "j.doe@nhs.co.uk", "x_y-z@sub.domain.example.org",
]


@pytest.mark.parametrize(("identifier", "kind"),
                         [(phone, TELEFON) for phone in PHONES]
                         + [(email, EPOST) for email in EMAILS])
def test_phone_numbers_and_email_addresses(identifier, kind):
    for template in SENTENCES:
        text = template.format(id=identifier)
        start = template.index("{id}")
        assert find_pii(text) == [Finding(start, start + len(identifier), kind)], text
        assert scrub(text)[0] == template.format(id=placeholder(kind))


def test_several_identifiers_with_correct_offsets():
    text = ("Patient 19640823-3234 (samordningsnr 640883-3231) ringde från 070-123 45 67 "
            "12 gånger; dottern nås på 08-123 45 67 eller anna.s@example.se.")
    findings = find_pii(text)
    assert [(text[f.start:f.end], f.kind) for f in findings] == [
        ("19640823-3234", PNR), ("640883-3231", SAMORDNING), ("070-123 45 67", TELEFON),
        ("08-123 45 67", TELEFON), ("anna.s@example.se", EPOST),
    ]
    assert scrub(text)[0] == (
        "Patient [PERSONNUMMER] (samordningsnr [SAMORDNINGSNUMMER]) ringde från [TELEFON] "
        "12 gånger; dottern nås på [TELEFON] eller [E-POST].")


def test_email_containing_digits_is_one_email():
    text = "Skickat till p6408233234@example.se igår."
    assert find_pii(text) == [Finding(13, 35, EPOST)]


# --- look-alikes ------------------------------------------------------------------------

LOOK_ALIKES = [
    "Händelsen inträffade 2026-03-14 kl 08:30 på avdelning 5.",
    "Incident on 2026-03-14 08:30, reported 14/3.",
    "Kl 14.15 gavs 5 mg morfin, 2,5 ml oxynorm och 500 mg x 3 paracetamol.",
    "Hb 112, CRP 45, INR 2.3, K 3.1, Na 138.",
    "Systemet uppdaterades till v2.3.1 och sedan 10.4.2.",
    "Patienten väger 72 kg och ligger i sal 4 säng 12, rum 0412.",
    "Se INC0012345 och ärende 2026-004512.",
    "See ticket #884213 and order 99887766.",
    "Datum 20260314 angavs i fältet.",
    "Infusion 08 30-09 15 enligt ordination.",
    "Dosen 0,5 mg gavs 01-02-2026.",
    "Blodtryck 120/80, puls 72, saturation 97 %.",
    "Lot 123456, utgång 2027-01.",
    "Version 2026.03.14-1 driftsattes.",
    "Glukos 5,6 mmol/l, laktat 1.2.",
    "Larmet gick 3 gånger mellan 02:10 och 04:45.",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_survive(text):
    assert find_pii(text) == []
    assert scrub(text) == (text, [])


def test_eight_digit_date_is_not_a_personal_number():
    assert find_pii("20260314") == []
    assert find_pii("Född 19640823.") == []


# --- recall and precision on generated sentences ---------------------------------------


def _random_identifier(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.6:
        fmt = rng.choice(FORMATS)
        return personal_number(random_birth(rng), rng.randrange(1, 1000), fmt,
                               coordination=rng.random() < 0.3, valid=rng.random() < 0.8)
    if choice < 0.85:
        return rng.choice(PHONES)
    return rng.choice(EMAILS)


def _random_look_alike(rng: random.Random) -> str:
    day = date(2020, 1, 1) + timedelta(days=rng.randrange(2500))
    return rng.choice([
        f"Händelsen {day.isoformat()} kl {rng.randrange(24):02d}:{rng.randrange(60):02d}.",
        f"Datum {day:%Y%m%d} i fältet.",
        f"Rapporterat {day.day}/{day.month}, kl {rng.randrange(24)}.{rng.randrange(60):02d}.",
        f"Gavs {rng.randrange(1, 1000)} mg x {rng.randrange(1, 5)} "
        f"och {rng.randrange(1, 10)},5 ml.",
        f"Hb {rng.randrange(60, 180)}, CRP {rng.randrange(1, 300)}, "
        f"INR {rng.randrange(1, 5)}.{rng.randrange(10)}, "
        f"K {rng.randrange(2, 7)}.{rng.randrange(10)}.",
        f"Version v{rng.randrange(1, 20)}.{rng.randrange(20)}.{rng.randrange(20)} installerad.",
        f"Vikt {rng.randrange(3, 150)} kg, sal {rng.randrange(1, 40)} säng {rng.randrange(1, 9)}.",
        f"Se INC{rng.randrange(10**7):07d} och ärende {day.year}-{rng.randrange(10**6):06d}.",
        f"Ticket #{rng.randrange(10**5, 10**6)}, order {rng.randrange(10**7, 10**8)}.",
        f"Infusion {rng.randrange(24):02d} {rng.randrange(60):02d}-"
        f"{rng.randrange(24):02d} {rng.randrange(60):02d}.",
        f"Given at {rng.randrange(24):02d}:{rng.randrange(60):02d} on {day:%d-%m-%Y}.",
    ])


def test_recall_and_precision_on_generated_sentences():
    rng = random.Random(2026)
    truth: list[tuple[str, tuple[int, int]]] = []
    for _ in range(300):
        template = rng.choice(SENTENCES)
        identifier = _random_identifier(rng)
        start = template.index("{id}")
        truth.append((template.format(id=identifier), (start, start + len(identifier))))
    negatives = [_random_look_alike(rng) for _ in range(300)]

    hits = sum(any((f.start, f.end) == span for f in find_pii(text)) for text, span in truth)
    predicted = sum(len(find_pii(text)) for text, _ in truth)
    predicted += sum(len(find_pii(text)) for text in negatives)
    correct = hits
    recall = hits / len(truth)
    precision = correct / predicted
    assert recall >= 0.995
    assert precision >= 0.99


# --- pathological inputs -----------------------------------------------------------------

PATHOLOGICAL = [
    ("1-2-3-" * 20000, None),
    ("0" * 100000, None),
    ("12345678-" * 11000, None),
    ("0-" * 50000, None),
    ("0 " * 50000, None),
    ("00 " * 33000, None),
    ("01 " * 33000, None),
    ("070 " * 25000, None),
    ("+" + "1 " * 50000, None),
    ("a" * 100000, None),
    ("a." * 50000 + "@", None),
    ("a@" + "b" * 100000, None),
    ("a@" + "b." * 50000, "[E-POST]" + ".b" * (50000 - 9) + "."),  # at most 9 domain labels
    ("640823-3234 " * 8000, "[PERSONNUMMER] " * 8000),
    ("070-123 45 67, " * 7000, "[TELEFON], " * 7000),
]


@pytest.mark.parametrize("text, expected", PATHOLOGICAL, ids=lambda value: repr(value)[:16])
def test_pathological_inputs_are_fast_and_correct(text, expected):
    began = time.perf_counter()
    scrubbed, findings = scrub(text)
    elapsed = time.perf_counter() - began
    assert scrubbed == (text if expected is None else expected)
    assert elapsed < 1.0, f"{elapsed:.3f} s"
    if expected is not None:
        assert findings and all(text[f.start] in "+06a" for f in findings)


# --- command line -------------------------------------------------------------------------


def run_cli(stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ml", "deidentify"], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


def test_cli_deidentifies_lines_in_order():
    texts = ["Pat 19640823-3234 föll, ring 070-123 45 67.", "Inget här: Hb 112, 2026-03-14.",
             "Mejla åsa@example.se."]
    lines = [json.dumps({"text": t}, ensure_ascii=False) for t in texts]
    result = run_cli("\n".join([lines[0], "", lines[1], lines[2]]) + "\n")
    assert result.returncode == 0, result.stderr
    assert "åsa" not in result.stdout and "\\u" not in result.stdout
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out == [
        {"text": "Pat [PERSONNUMMER] föll, ring [TELEFON].",
         "found": [[4, 17, PNR], [29, 42, TELEFON]]},
        {"text": texts[1], "found": []},
        {"text": "Mejla [E-POST].", "found": [[6, 20, EPOST]]},
    ]
    for text, row in zip(texts, out, strict=True):
        for start, end, kind in row["found"]:
            assert kind in PLACEHOLDERS and text[start:end]


def test_cli_keeps_non_ascii_text():
    result = run_cli(json.dumps({"text": "Händelse på avd 5"}, ensure_ascii=False) + "\n")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"text": "Händelse på avd 5", "found": []}
    assert "Händelse" in result.stdout


@pytest.mark.parametrize("bad", ["not json", '{"txt": "x"}', '{"text": 5}', "[1, 2]"])
def test_cli_bad_line_names_its_number(bad):
    good = json.dumps({"text": "ring 08-123 45 67"})
    result = run_cli(f"{good}\n{good}\n{bad}\n{good}\n")
    assert result.returncode == 2
    assert "line 3" in result.stderr
    assert result.stdout.splitlines() == [
        json.dumps({"text": "ring [TELEFON]", "found": [[5, 17, TELEFON]]})] * 2
