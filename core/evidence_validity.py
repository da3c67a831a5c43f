"""An evidence file's optional "valid until" day (a certificate's or a pen test's end): checked
here, and said in words beside the file. Storing it is core/evidence.py's; what it does to an
answer's assurance level is core/assurance.py's."""

from __future__ import annotations

from datetime import date, datetime

from core.errors import ValidationError
from core.labels import format_date

MAX_YEARS = 10  # a "valid until" further ahead (or back) than this is a typing slip
SOON_DAYS = 30  # within this many days a file "expires in N days"


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def check_valid_until(value: date | str | None, today: date) -> date | None:
    """A "valid until" day, or None for none: a real date (ISO text is read) within
    MAX_YEARS of today; ValidationError with one sentence otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        text = value
        try:
            value = date.fromisoformat(text.strip())
        except ValueError:
            raise ValidationError(
                f"“{text[:40]}” is not a date; give the valid-until day as YYYY-MM-DD."
            ) from None
    if not isinstance(value, date):
        raise ValidationError("The valid-until day must be a date, given as YYYY-MM-DD.")
    latest, earliest = _years_from(today, MAX_YEARS), _years_from(today, -MAX_YEARS)
    if value > latest:
        raise ValidationError(
            f"A valid-until day can be at most {MAX_YEARS} years ahead, "
            f"so {format_date(latest)} at the latest."
        )
    if value < earliest:
        raise ValidationError(
            f"A valid-until day can be at most {MAX_YEARS} years back, "
            f"so {format_date(earliest)} at the earliest."
        )
    return value


def expiry_words(valid_until: date | None, today: date) -> str:
    """The expiry beside a file: "Valid until 3 Mar 2027", "Expires in 5 days", "Expires today",
    "Expired after 1 Dec 2026" (its last valid day); empty for a file without a date."""
    if valid_until is None:
        return ""
    days = (valid_until - today).days
    if days < 0:
        return f"Expired after {format_date(valid_until)}"
    if days == 0:
        return "Expires today"
    if days == 1:
        return "Expires tomorrow"
    if days <= SOON_DAYS:
        return f"Expires in {days} days"
    return f"Valid until {format_date(valid_until)}"
