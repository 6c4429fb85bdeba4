"""Find and mask personal identifiers in free text: pure Python, no dependencies.

Detected, each replaced by a typed placeholder:

* Swedish personal identity numbers (``[PERSONNUMMER]``) in every common form:
  ``YYYYMMDD-NNNN``, ``YYMMDD-NNNN``, ``YYMMDD+NNNN`` (people over 100), without a
  separator, or with a space instead of the dash;
* coordination numbers (``[SAMORDNINGSNUMMER]``): the same forms with day + 60;
* phone numbers (``[TELEFON]``): Swedish landline and mobile, national or with
  ``+46``/``0046``, and other international numbers written with ``+`` or ``00``;
* e-mail addresses (``[E-POST]``).

Masking versus labelling. Every *date-plausible* number in a personal-number form
is masked, whatever its Luhn check digit: a typo in the last digit still
identifies a patient. The label (``Finding.kind``) follows the date: a day of
61-91 gives ``"samordningsnummer"``, otherwise ``"personnummer"``; a number with a
wrong check digit keeps that label (its placeholder would be the same anyway).
The check digit decides one ambiguous case only: ten digits without a separator
that begin with ``0`` (``0701234567``) are a phone number unless the Luhn digit is
right, in which case they are a personal number of someone born in 19x0s/200x.
Either way the span is masked.

Robustness. Every pattern is anchored with look-arounds such as ``(?<!\\d)`` and
uses bounded quantifiers only, so each start position costs a bounded number of
steps and scanning is linear in the length of the text. Candidates are then
validated in Python (calendar dates, digit counts, group shapes).

Known limitations: a compact date-time such as ``260314-0830`` or
``202603140830`` has the shape and date of a personal number and is masked;
unseparated 8-10 digit numbers starting with ``0`` (``01234567``) are taken for
phone numbers; phone numbers written with parentheses (``(08) 123 45 67``) or
``+46 (0)70`` are not recognised; names and addresses are out of scope.
"""

import bisect
import calendar
import re
from dataclasses import dataclass
from datetime import date

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"
TELEFON = "telefon"
E_POST = "e-post"

KINDS = (PERSONNUMMER, SAMORDNINGSNUMMER, TELEFON, E_POST)


@dataclass(frozen=True)
class Finding:
    """One identifier: ``text[start:end]`` of the original text, and its kind."""

    start: int
    end: int
    kind: str

    @property
    def placeholder(self) -> str:
        return placeholder(self.kind)


def placeholder(kind: str) -> str:
    """The text that replaces an identifier of `kind`, e.g. ``[TELEFON]``."""
    return f"[{kind.upper()}]"


# --- personal identity and coordination numbers -------------------------------

_PNR_RE = re.compile(r"(?<!\d)(\d{2})?(\d{6})([-+ ]?)(\d{4})(?!\d)")

_EARLIEST_BIRTH_YEAR = 1870


def luhn_ok(digits: str) -> bool:
    """The Luhn check over `digits` (for a personal number: the last ten)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _day_ok(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _pnr_kind(century: str | None, yymmdd: str, separator: str, last4: str) -> str | None:
    """The kind of a personal-number-shaped candidate, or None if no date fits."""
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    coordination = day > 60
    if coordination:
        day -= 60
    if century is None:
        # Some century fits; 2000 + yy is a leap year exactly when yy % 4 == 0.
        if not _day_ok(2000 + yy, month, day):
            return None
    else:
        year = int(century) * 100 + yy
        if not _EARLIEST_BIRTH_YEAR <= year <= date.today().year:
            return None
        if not _day_ok(year, month, day):
            return None
    luhn = luhn_ok(yymmdd + last4)
    if century is None and not separator and yymmdd[0] == "0" and yymmdd[1] != "0" and not luhn:
        return TELEFON  # 0701234567: a phone number unless its check digit says otherwise
    return SAMORDNINGSNUMMER if coordination else PERSONNUMMER


def _find_personal_numbers(text: str) -> list[Finding]:
    found = []
    for match in _PNR_RE.finditer(text):
        kind = _pnr_kind(*match.groups())
        if kind is not None:
            found.append(Finding(match.start(), match.end(), kind))
    return found


# --- phone numbers ------------------------------------------------------------

# A first group ("+digits" or "0digits"), then up to six more groups of digits,
# each after exactly one space or dash. Groups are delimited by the separators,
# so a text splits into groups in one way only and backtracking stays bounded.
_PHONE_RE = re.compile(
    r"(?<![\w+\-/.,])(?:\+\d{1,14}|0\d{1,11})(?:[ -]\d{1,10}){0,6}(?!\d)")
_SEPARATOR_RE = re.compile(r"[ -]")


def _phone_ok(groups: list[str], separators: list[str]) -> bool:
    """Whether digit groups (separated by `separators`) make a phone number."""
    digits = "".join(groups).lstrip("+")
    if groups[0].startswith("+") or digits.startswith("00"):
        # International: "+CC ..." or "00CC ...".
        national = digits[2:] if digits.startswith("00") else digits
        if national[:1] in ("", "0") or not 8 <= len(national) <= 15:
            return False
        if "-" in separators[2:]:
            return False
        if sum(len(group) == 1 for group in groups[1:]) > 1:
            return False
        if national.startswith("46"):
            rest = national[2:]
            return 7 <= len(rest) <= 9 and rest[0] != "0" and (rest[0] != "7" or len(rest) == 9)
        return True
    # National Swedish: area code 08 or 0NN(N), then the subscriber number.
    if not 8 <= len(digits) <= 10 or digits[1] == "0":
        return False
    if digits[1] == "7" and len(digits) != 10:
        return False  # mobile numbers: 07X-XXX XX XX
    if "-" in separators[1:]:
        return False
    if len(groups) == 1:
        return True
    area = groups[0]
    if not (area == "08" or 3 <= len(area) <= 4):
        return False
    return all(len(group) >= 2 for group in groups[1:])


def _phone_prefix(candidate: str) -> int:
    """Length of the longest run of whole groups of `candidate` that is a phone number."""
    groups = _SEPARATOR_RE.split(candidate)
    first = groups[0]
    if first[0] == "0" and not (first == "08" or 3 <= len(first) <= 4 or 8 <= len(first) <= 10):
        return 0  # "00", "01", "00000": no area code, country code or whole number
    separators = _SEPARATOR_RE.findall(candidate)
    national = first[0] == "0" and not first.startswith("00")
    low, high = (8, 10) if national else (8, 17)
    length = len(candidate)
    digits = len(candidate) - len(separators) - (first[0] == "+")
    for count in range(len(groups), 0, -1):
        if low <= digits <= high and _phone_ok(groups[:count], separators[: count - 1]):
            return length
        # Drop the last group and the separator before it.
        digits -= len(groups[count - 1])
        length -= len(groups[count - 1]) + 1
    return 0


def _find_phones(text: str) -> list[Finding]:
    found = []
    position = 0
    while True:
        match = _PHONE_RE.search(text, position)
        if match is None:
            return found
        length = _phone_prefix(match.group())
        if length:
            found.append(Finding(match.start(), match.start() + length, TELEFON))
            position = match.start() + length
        else:
            # No phone starts inside the first group (the look-behind forbids it).
            position = match.start() + 1


# --- e-mail addresses ---------------------------------------------------------

_EMAIL_RE = re.compile(
    r"(?<![\w.+%-])[\w.+%-]{1,64}@[^\W_](?:[\w-]{0,62}[^\W_])?"
    r"(?:\.[^\W_](?:[\w-]{0,62}[^\W_])?){1,8}(?![\w-])"
)


def _find_emails(text: str) -> list[Finding]:
    return [Finding(m.start(), m.end(), E_POST) for m in _EMAIL_RE.finditer(text)]


# --- public API ---------------------------------------------------------------


def find_pii(text: str) -> list[Finding]:
    """All identifiers in `text`, sorted and non-overlapping.

    Where candidates overlap, e-mail addresses win over personal numbers, and
    personal numbers over phone numbers.
    """
    starts: list[int] = []
    accepted: list[Finding] = []
    for finder in (_find_emails, _find_personal_numbers, _find_phones):
        for finding in finder(text):
            index = bisect.bisect_right(starts, finding.start)
            if index and accepted[index - 1].end > finding.start:
                continue
            if index < len(accepted) and accepted[index].start < finding.end:
                continue
            starts.insert(index, finding.start)
            accepted.insert(index, finding)
    return accepted


def scrub(text: str) -> tuple[str, list[Finding]]:
    """`text` with each identifier replaced by its placeholder, and the findings.

    Offsets in the findings refer to the original `text`.
    """
    findings = find_pii(text)
    parts = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(finding.placeholder)
        position = finding.end
    parts.append(text[position:])
    return "".join(parts), findings
