"""Reading the date an out-of-office says the person is back (`return_date`).

Split out of reactivation/inbound_mail.py (which re-exports `return_date`) because reading dates written
in English, German, French or Spanish is its own job. Deterministic: `today` is passed in, never read
from the clock, so a workflow replay gets the same date as the first run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from reactivation.inbound_model import RETURN_HORIZON_DAYS

_MONTHS = {
    **dict.fromkeys(("january", "jan", "januar", "jänner", "janvier", "janv", "enero", "ene"), 1),
    **dict.fromkeys(("february", "feb", "februar", "février", "fevrier", "févr", "fevr", "febrero"), 2),
    **dict.fromkeys(("march", "mar", "märz", "maerz", "mär", "mars", "marzo"), 3),
    **dict.fromkeys(("april", "apr", "avril", "avr", "abril", "abr"), 4),
    **dict.fromkeys(("may", "mai", "mayo"), 5),
    **dict.fromkeys(("june", "jun", "juni", "juin", "junio"), 6),
    **dict.fromkeys(("july", "jul", "juli", "juillet", "juil", "julio"), 7),
    **dict.fromkeys(("august", "aug", "août", "aout", "agosto", "ago"), 8),
    **dict.fromkeys(("september", "sep", "sept", "septembre", "septiembre", "setiembre"), 9),
    **dict.fromkeys(("october", "oct", "oktober", "okt", "octobre", "octubre"), 10),
    **dict.fromkeys(("november", "nov", "novembre", "noviembre"), 11),
    **dict.fromkeys(("december", "dec", "dezember", "dez", "décembre", "decembre", "déc", "diciembre", "dic"), 12),
}
_MONTH = "(" + "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True)) + r")\b\.?"
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|er|ᵉʳ)?\.?\s+(?:of\s+|de\s+)?" + _MONTH
                        + r"(?:,?\s+(?:de\s+)?(\d{4}))?", re.IGNORECASE)
_MONTH_DAY = re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?", re.IGNORECASE)
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = re.compile(r"(?<![\d./-])(\d{1,2})([./-])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d/-]|\.\d)")
_STRONG_BEFORE = re.compile(
    r"(?:\bback\b|\breturn\w*|\buntil\b|\btill\b|\bthrough\b|\bzurück\b|\bbis\b|\bwieder\b|\bjusqu|\bretour\b"
    r"|\brevien\w*|\bhasta\b|\bregres\w*|\bvuelta\b|\bvolver\w*|\bab\b|\bpartir\b|\bdès\b)",
    re.IGNORECASE,
)
_ROMANCE_OR_GERMAN = re.compile(r"\b(?:bis|zurück|wieder|jusqu|retour|hasta|regreso|vuelta|de|le|la|el|des|der|die)\b",
                                re.IGNORECASE)


def return_date(text: str, today: date) -> date | None:
    """The date an out-of-office says the person is back: the latest plausible date (today .. today+180
    days) written near a back/return/until word in English, German, French or Spanish; None if none."""
    head = text[:5_000]
    best = None
    for position, end, candidates in _dates_in(head, today):
        before = head[max(0, position - 60):position]
        after = head[end:end + 40]
        near = _STRONG_BEFORE.search(before) or re.search(r"\bwieder\b|\bzurück\b", after, re.IGNORECASE)
        if not near:
            continue
        for candidate in candidates:
            if today <= candidate <= today + timedelta(days=RETURN_HORIZON_DAYS):
                best = candidate if best is None else max(best, candidate)
                break
    return best


def _dates_in(text: str, today: date) -> Iterator[tuple[int, int, list[date]]]:
    """(start, end, readings) of every date in the text; a numeric a/b date may have two readings, the
    likelier first (day-first in German/French/Spanish text, month-first in English)."""
    day_first = _ROMANCE_OR_GERMAN.search(text) is not None
    for match in _ISO.finditer(text):
        yield match.start(), match.end(), _valid([(int(match[1]), int(match[2]), int(match[3]))])
    for match in _DAY_MONTH.finditer(text):
        yield match.start(), match.end(), _resolve(int(match[1]), _MONTHS[match[2].lower()], match[3], today)
    for match in _MONTH_DAY.finditer(text):
        yield match.start(), match.end(), _resolve(int(match[2]), _MONTHS[match[1].lower()], match[3], today)
    for match in _NUMERIC.finditer(text):
        first, separator, second, year = int(match[1]), match[2], int(match[3]), match[4]
        if separator == "-" and year is None:
            continue  # "1-2" is a range, not a date
        if separator == "." or first > 12 or (day_first and second <= 12):
            readings = [(first, second)]
        else:
            readings = [(second, first)]  # English and ambiguous: month/day, the US form
        dates = [d for day, month in readings for d in _resolve(day, month, year, today)]
        yield match.start(), match.end(), dates


def _resolve(day: int, month: int, year: str | None, today: date) -> list[date]:
    """A day and month (and maybe a year) as a date; without a year, the next such date on or after today."""
    if year is not None:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return _valid([(full, month, day)])
    this_year = _valid([(today.year, month, day)])
    if this_year and this_year[0] >= today:
        return this_year
    return _valid([(today.year + 1, month, day)])


def _valid(parts: Iterable[tuple[int, int, int]]) -> list[date]:
    out = []
    for year, month, day in parts:
        try:
            out.append(date(year, month, day))
        except ValueError:
            continue
    return out
