"""Argument checks shared by the strategies: misuse raises ``InvalidArgument`` at once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hypothesis.errors import InvalidArgument

from conformance.fixtures import Fixtures


def _describe(name: str, value: Any) -> str:
    return f"{name}={value!r} (type={type(value).__name__})"


def check_fixtures(fixtures: Any) -> Fixtures:
    if not isinstance(fixtures, Fixtures):
        raise InvalidArgument(
            f"Expected a conformance.fixtures.Fixtures but got {_describe('fixtures', fixtures)}"
        )
    if not fixtures.remote_phones:
        raise InvalidArgument(
            "fixtures.remote_phones is empty; give at least one recipient safe to address"
        )
    return fixtures


def check_aware(name: str, value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidArgument(f"Expected a datetime but got {_describe(name, value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(
            f"{name}={value!r} is naive; pass an aware datetime, e.g. datetime.now(timezone.utc)"
        )
    return value


def check_naive(name: str, value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidArgument(f"Expected a datetime but got {_describe(name, value)}")
    if value.tzinfo is not None:
        raise InvalidArgument(
            f"{name}={value!r} is aware; naive_datetimes() takes naive wall-clock bounds "
            f"(use value.astimezone(timezone.utc).replace(tzinfo=None))"
        )
    return value


def check_bounds(min_name: str, min_value: Any, max_name: str, max_value: Any) -> None:
    if min_value > max_value:
        raise InvalidArgument(
            f"Cannot have {min_name}={min_value!r} greater than {max_name}={max_value!r}"
        )


def check_size(name: str, value: Any, *, min_allowed: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"Expected an int but got {_describe(name, value)}")
    if value < min_allowed:
        raise InvalidArgument(f"{name}={value!r} must be at least {min_allowed}")
    return value


def check_sizes(min_size: Any, max_size: Any, *, min_allowed: int = 0) -> None:
    check_size("min_size", min_size, min_allowed=min_allowed)
    check_size("max_size", max_size, min_allowed=min_allowed)
    check_bounds("min_size", min_size, "max_size", max_size)


def check_one_of(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        raise InvalidArgument(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")
    return value


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"Expected a bool but got {_describe(name, value)}")
    return value
