"""Attachment items for create/update bodies, valid and invalid."""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from conformance.vocabulary import ATTACHMENT_CONTENT_TYPES
from strategies._validation import check_sizes

__all__ = ["ATTACHMENT_CONTENT_TYPES", "attachments", "invalid_attachments"]

#: The ``content_type`` enum of ``SMSAttachmentInput`` (close-sms-schema.yaml), in order;
#: defined once, by the model.

#: Media types outside the enum; none is a case variant of a member (media types are
#: case-insensitive, so ``IMAGE/PNG`` could legitimately be accepted).
_UNLISTED_CONTENT_TYPES = (
    "text/html",
    "application/x-msdownload",
    "image/svg+xml",
    "application/octet-stream",
    "application/json",
    "image/webp",
    "",
    "png",
    "not a media type",
)

_SLUG = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_"), min_size=1, max_size=12)
_REQUIRED_KEYS = ("url", "filename", "content_type")


_CONTENT_TYPES = st.sampled_from(ATTACHMENT_CONTENT_TYPES)  # built once: see _texts._PIECES


@st.composite
def _attachment_items(draw: st.DrawFn) -> dict[str, Any]:
    content_type = draw(_CONTENT_TYPES)
    extension = content_type.rsplit("/", 1)[1].lower()
    name = draw(_SLUG)
    return {
        "url": f"https://example.com/media/{draw(_SLUG)}/{name}.{extension}",
        "filename": f"{name}.{extension}",
        "content_type": content_type,
    }


def attachments(*, min_size: int = 0, max_size: int = 3) -> SearchStrategy[list[dict[str, Any]]]:
    """Returns a strategy which generates lists of ``min_size`` to ``max_size`` request
    attachment items ``{"url": "https://…", "filename": …, "content_type": …}``, each
    with all three required keys and a ``content_type`` from the documented enum
    (:data:`ATTACHMENT_CONTENT_TYPES`).

    Shrinks towards ``min_size`` items of ``application/pdf`` with one-letter names.
    ``min_size``/``max_size`` must be ints with ``0 <= min_size <= max_size``.
    """
    check_sizes(min_size, max_size)
    return _attachment_lists(min_size, max_size)


@cache
def _attachment_lists(min_size: int, max_size: int) -> SearchStrategy[list[dict[str, Any]]]:
    # Built once per size pair: payload composites draw attachments at every step.
    return st.lists(_ATTACHMENT_ITEMS, min_size=min_size, max_size=max_size)


_ATTACHMENT_ITEMS = _attachment_items()

_WRONG_TYPED: st.SearchStrategy[object] = st.one_of(
    st.integers(-10, 10),
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 3), max_size=2),
    st.just({}),
)


@st.composite
def _broken_items(draw: st.DrawFn) -> Any:
    item = draw(_ATTACHMENT_ITEMS)
    kind = draw(
        st.sampled_from(
            ("missing-key", "unlisted-content-type", "wrong-type-value", "not-an-object")
        )
    )
    if kind == "missing-key":
        del item[draw(st.sampled_from(_REQUIRED_KEYS))]
    elif kind == "unlisted-content-type":
        item["content_type"] = draw(st.sampled_from(_UNLISTED_CONTENT_TYPES))
    elif kind == "wrong-type-value":
        item[draw(st.sampled_from(("content_type", *_REQUIRED_KEYS[:2])))] = draw(_WRONG_TYPED)
    else:
        not_objects = st.one_of(
            st.just(item["url"]), st.integers(0, 10), st.lists(st.just(1), max_size=2)
        )
        return draw(not_objects)
    return item


@st.composite
def _invalid_attachment_lists(draw: st.DrawFn) -> list[Any]:
    valid = draw(st.lists(_ATTACHMENT_ITEMS, max_size=2))
    position = draw(st.integers(0, len(valid)))
    return [*valid[:position], draw(_broken_items()), *valid[position:]]


def invalid_attachments() -> SearchStrategy[list[Any]]:
    """Returns a strategy which generates ``attachments`` lists in which exactly one
    item is invalid, placed among up to two valid items: the item lacks one of
    ``url``/``filename``/``content_type``, or its ``content_type`` is outside the enum
    (never a mere case variant of a member), or one of its values has a wrong JSON type
    (number, bool, null, list, object), or the item is not an object at all.

    Shrinks towards a one-item list whose item lacks ``url``.
    """
    return _INVALID_ATTACHMENT_LISTS


_INVALID_ATTACHMENT_LISTS = _invalid_attachment_lists()
