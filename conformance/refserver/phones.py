"""Phone numbers: E.164 validation, display formatting and country codes."""

from __future__ import annotations

from conformance.vocabulary import E164, is_e164

__all__ = ["E164", "country_iso", "format_phone", "is_e164"]

# A few calling codes are enough for the fixtures and for realistic test data; anything
# else is formatted as "+<digits>" with an unknown (null) country.
_COUNTRIES = (("1", "US"), ("44", "GB"), ("49", "DE"), ("33", "FR"), ("61", "AU"))


def country_iso(number: str | None) -> str | None:
    """Return the ISO country code of an E.164 number, or ``None`` when unknown."""
    if not is_e164(number):
        return None
    assert number is not None
    for prefix, iso in _COUNTRIES:
        if number[1:].startswith(prefix):
            return iso
    return None


def format_phone(number: str | None) -> str | None:
    """Return a display form: ``+1 650-333-4444`` for NANP numbers, else the number itself."""
    if number is None:
        return None
    if is_e164(number) and number.startswith("+1") and len(number) == 12:
        digits = number[2:]
        return f"+1 {digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return number
