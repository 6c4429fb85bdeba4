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

Speed. The scanning patterns use look-arounds and bounded quantifiers only, so
each start position costs a bounded number of steps and scanning is linear in the
length of the text. The personal-number and phone patterns begin with a character
class, so the scan skips characters that cannot begin an identifier in C; the
e-mail pattern runs only around the "@" signs. The patterns do most of the
checking themselves: a personal number's month and day, and the digit counts and
groups of a phone number (see the phone section). Python checks only days 29-31,
the century of a long form and the check digit of the ambiguous form, and cuts
the rare international number whose groups break a counting rule.
bench/pii_speed.py measures it on adversarial and on realistic text.

Known limitations: a compact date-time such as ``260314-0830`` or
``202603140830`` has the shape and date of a personal number and is masked;
unseparated 8-10 digit numbers starting with ``0`` (``01234567``) are taken for
phone numbers; phone numbers written with parentheses (``(08) 123 45 67``) or
``+46 (0)70`` are not recognised; names and addresses are out of scope.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date
from itertools import starmap

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


_PLACEHOLDERS = {kind: placeholder(kind) for kind in KINDS}


# Finders return (start, end, kind); `find_pii` makes Findings of those it keeps.
_Span = tuple[int, int, str]


# --- personal identity and coordination numbers -------------------------------

# Two digits that are not both ASCII: digits of other scripts are left to the
# calendar check in Python, which reads them as `int` does.
_OTHER_DIGITS = r"(?![0-9]{2})\d\d"

# The first two digits of a run (matched before the look-behind, so the scan
# skips every non-digit in C), two more if the first two are the century, then
# a month and a day (or day + 60) that some calendar may hold.
_PNR_RE = re.compile(
    r"(\d(?<!\d\d)\d)(\d\d)?"
    rf"(0[1-9]|1[0-2]|{_OTHER_DIGITS})(0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01]|{_OTHER_DIGITS})"
    r"([-+ ]?)\d{4}(?!\d)"
)

_EARLIEST_BIRTH_YEAR = 1870

_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")  # 2d, less 9 if over 9


def luhn_ok(digits: str) -> bool:
    """The Luhn check over `digits` (for a personal number: the last ten)."""
    if not (digits.isascii() and digits.isdigit()):
        digits = "".join(str(int(char)) for char in digits)  # other scripts; junk raises
    code = digits.encode()  # ASCII: 48 + each digit
    return (sum(code[-1::-2]) + sum(code[-2::-2].translate(_DOUBLED)) - 48 * len(code)) % 10 == 0


def _pnr_kind(match: re.Match[str], this_year: int) -> str | None:
    """The kind of a personal-number-shaped `match` of `_PNR_RE`, or None if no date fits."""
    first, second, month_digits, day_digits, separator = match.groups()
    century, yy = (None, first) if second is None else (first, second)
    month, day = int(month_digits), int(day_digits)
    coordination = day > 60
    if coordination:
        day -= 60
    # Without a century some century fits; 2000 + yy is a leap year exactly when yy % 4 == 0.
    year = (2000 if century is None else int(century) * 100) + int(yy)
    if century is not None and not _EARLIEST_BIRTH_YEAR <= year <= this_year:
        return None
    if not 1 <= month <= 12 or day < 1 or (day > 28 and day > calendar.monthrange(year, month)[1]):
        return None
    if (century is None and not separator and yy[0] == "0" and yy[1] != "0"
            and not luhn_ok(match.group())):
        return TELEFON  # 0701234567: a phone number unless its check digit says otherwise
    return SAMORDNINGSNUMMER if coordination else PERSONNUMMER


def _find_personal_numbers(text: str) -> list[_Span]:
    this_year = date.today().year
    found = []
    for match in _PNR_RE.finditer(text):
        kind = _pnr_kind(match, this_year)
        if kind is not None:
            found.append((*match.span(), kind))
    return found


# --- phone numbers ------------------------------------------------------------
#
# A phone number is a first group ("0digits", "00digits" or "+digits") and then
# groups of digits, each after exactly one space or dash; of a longer chain of
# groups, the longest run of whole groups from the first that makes a number is
# taken. The patterns count digits one at a time (`(?:separator)?digit`), so the
# regular expression engine itself finds that longest run, in C, and each start
# position costs a bounded number of steps. An international number is counted
# without the rules on its groups, and in the rare case that it breaks them, cut
# to the groups that keep them (`_groups_keeping_rules`) and counted again.
# The patterns below continue after the number's first character ("0" or "+").


def _repeat(step: str, low: int, high: int) -> str:
    return f"(?:{step}){{{low},{high}}}"


# National: the area code ("08", or 0 and two or three digits; 07X for mobiles),
# one space or dash, then groups of at least two digits after single spaces;
# 8-10 digits in all (mobiles 10). Or all of it in one group.
_SUBSCRIBER_DIGIT = r"(?:\d| (?<=\d\d )(?=\d\d)\d)"  # a space only between groups of two or more


def _subscriber(low: int, high: int) -> str:
    return r"[ -](?=\d\d)" + _repeat(_SUBSCRIBER_DIGIT, low, high)


_NATIONAL = (
    r"(?:7\d(?:\d{7}|" + _subscriber(7, 7) + "|\\d" + _subscriber(6, 6) + ")"  # 070-123 45 67
    "|8" + _subscriber(6, 8)                                                 # 08-123 45 67
    + r"|(?![07])\d(?:\d{6,8}|\d" + _subscriber(5, 7)                        # 031-12 34 56
    + r"|\d\d" + _subscriber(4, 6) + "))(?!\\d)"                             # 0491-123 45
)

# International: "+", "00" or "+00", then the national significant number of
# 8-15 digits, not starting with 0; Swedish ones (46) have 7-9 digits after the
# country code, mobiles (467) 9. Digits count across groups ("+0 046 ..." is
# "+0046 ..."). A first group of "00" has 3-4 or 8-10 digits. The rules on groups
# are left to `_groups_keeping_rules`.
_DIGIT = r"[ -]?\d"
_SWEDEN = "[ -]?4[ -]?6"
_INTERNATIONAL = (
    r"(?:(?<=\+)(?=\d{1,14}(?!\d))(?:0[ -]?0)?|(?<=0)0(?=\d{1,2}(?!\d)|\d{6,8}(?!\d)))"
    + "(?:" + _SWEDEN + "(?:[ -]?7" + _repeat(_DIGIT, 8, 8)
    + r"|[ -]?(?![07])\d" + _repeat(_DIGIT, 6, 8) + ")"
    + "|(?!" + _SWEDEN + r")[ -]?(?!0)\d" + _repeat(_DIGIT, 7, 14)
    + r")(?!\d)"
)


def _groups_keeping_rules(index: int = 1, one_digit_left: bool = True) -> str:
    """The groups after the first, as many as keep the rules on groups: at most six
    more, of at most ten digits; a dash only as the first or second separator; at
    most one group of one digit."""
    if index > 6:
        return ""
    separator = "[ -]" if index <= 2 else " "
    groups = r"\d{2,10}+(?!\d)" + _groups_keeping_rules(index + 1, one_digit_left)
    if one_digit_left:
        groups += r"|\d(?!\d)" + _groups_keeping_rules(index + 1, one_digit_left=False)
    return f"(?:{separator}(?:{groups}))?+"


# The first character is matched before the look-behind (not glued to a word,
# number, path or decimal), so the scan skips every other character in C. An
# international number also marks where the groups that keep the rules end.
_PHONE_RE = re.compile(
    r"[+0](?<![\w+\-/.,][+0])(?:(?<=0)(?P<national>" + _NATIONAL + ")"
    + "|(?=(?P<international>" + _INTERNATIONAL + r"))(?=(?P<kept>\d*+"
    + _groups_keeping_rules() + "))(?P=international))"
)
_INTERNATIONAL_RE = re.compile("[+0]" + _INTERNATIONAL)


def _find_phones(text: str) -> list[_Span]:
    found: list[_Span] = []
    position = 0
    while True:
        for match in _PHONE_RE.finditer(text, position):
            start, end = match.span()
            # Counted without the rules on groups, a number is right if it keeps them;
            # else it is cut to them (or dropped), and the scan goes on from there.
            if match.lastgroup == "kept" and match.end("kept") < end:
                cut = _INTERNATIONAL_RE.match(text, start, match.end("kept"))
                end = start if cut is None else cut.end()
                if end > start:
                    found.append((start, end, TELEFON))
                position = max(end, start + 1)
                break
            found.append((start, end, TELEFON))
        else:
            return found


# --- e-mail addresses ---------------------------------------------------------

_EMAIL_RE = re.compile(
    r"(?<![\w.+%-])[\w.+%-]{1,64}@[^\W_](?:[\w-]{0,62}[^\W_])?"
    r"(?:\.[^\W_](?:[\w-]{0,62}[^\W_])?){1,8}(?![\w-])"
)
# How far an address reaches before its "@" (the local part), and from it: the "@",
# nine labels of at most 64 characters and their dots, and the character the
# look-ahead reads.
_LOCAL_REACH = 64
_DOMAIN_REACH = 9 * 64 + 8 + 2


def _find_emails(text: str) -> list[_Span]:
    first = text.find("@")
    if first < 0:
        return []
    # Scan only the stretch that can hold an address (look-behinds still see before it).
    span = (max(0, first - _LOCAL_REACH), text.rfind("@") + _DOMAIN_REACH)
    return [(*m.span(), E_POST) for m in _EMAIL_RE.finditer(text, *span)]


# --- combining the finders ----------------------------------------------------


def _merge(accepted: list[_Span], candidates: list[_Span]) -> list[_Span]:
    """`accepted` and each candidate that overlaps none of them, sorted (each list
    is sorted and free of overlaps)."""
    merged = []
    index, count = 0, len(accepted)
    for candidate in candidates:
        start, end, _ = candidate
        while index < count and accepted[index][1] <= start:
            merged.append(accepted[index])
            index += 1
        if index == count or accepted[index][0] >= end:
            merged.append(candidate)
    merged.extend(accepted[index:])
    return merged


def _spans(text: str) -> list[_Span]:
    """The identifiers `find_pii` finds, as (start, end, kind)."""
    accepted: list[_Span] = []
    for found in (_find_emails(text), _find_personal_numbers(text), _find_phones(text)):
        accepted = _merge(accepted, found) if accepted else found
    return accepted


# --- public API ---------------------------------------------------------------


def find_pii(text: str) -> list[Finding]:
    """All identifiers in `text`, sorted and non-overlapping.

    Where candidates overlap, e-mail addresses win over personal numbers, and
    personal numbers over phone numbers.
    """
    return list(starmap(Finding, _spans(text)))


def scrub(text: str) -> tuple[str, list[Finding]]:
    """`text` with each identifier replaced by its placeholder, and the findings.

    Offsets in the findings refer to the original `text`.
    """
    spans = _spans(text)
    parts = []
    position = 0
    for start, end, kind in spans:
        parts.append(text[position:start])
        parts.append(_PLACEHOLDERS[kind])
        position = end
    parts.append(text[position:])
    return "".join(parts), list(starmap(Finding, spans))
