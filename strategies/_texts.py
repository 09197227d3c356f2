"""SMS texts that stress round-trip fidelity, and phone-number-shaped values."""

from __future__ import annotations

import string
from functools import cache

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from strategies._validation import check_bool

__all__ = ["e164_numbers", "malformed_phone_numbers", "texts"]

#: Printable ASCII, space included; the alphabet the shrinker heads for.
_ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
#: Any code point JSON can carry and a database will store: no surrogates, no NUL.
_UNICODE = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")

_FRAGMENTS = (
    "😀",  # astral plane (two UTF-16 code units)
    "👍🏽",  # emoji + skin-tone modifier
    "👨‍👩‍👧‍👦",  # ZWJ sequence
    "🇫🇷",  # regional-indicator pair
    "e\u0301",  # combining acute (not NFC-normalised)
    "a\u0308\u0323",  # two stacked combining marks
    "שלום",  # RTL Hebrew
    "مرحبا بك",  # RTL Arabic
    "\u202eRLO\u202c",  # explicit bidi override
    "你好，世界",  # CJK with full-width punctuation
    "こんにちは",
    "한국어",
    "Ωμέγα",  # GSM-7 lookalikes that are not GSM-7
    "Привет",
    "€[]{}^~|\\",  # GSM-7 extension table characters
    "zero\u200bwidth",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    '"quoted" & <tag>',
)
_INNER_SEPARATORS = (" ", "\n", "\t", "\r\n", "\n\n", "")
_EDGE_WHITESPACE = (" ", "\n", "\t", "  ", "\r\n", "\u00a0", "\u3000")


# Built once, at import: a strategy built afresh at every draw is validated afresh (its
# inner strategies too), and a strategy holds no state, so sharing one draws exactly what a
# new one would.
_PIECES = st.lists(
    st.one_of(
        st.text(_ASCII, min_size=1, max_size=12),
        st.sampled_from(_FRAGMENTS),
        st.text(_UNICODE, min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=8,
)
_SEPARATORS = st.sampled_from(_INNER_SEPARATORS)
_PREFIXES = st.sampled_from(("", *_EDGE_WHITESPACE))
_SUFFIXES = st.sampled_from(_EDGE_WHITESPACE)


@st.composite
def _mixed_texts(draw: st.DrawFn) -> str:
    pieces = draw(_PIECES)
    out = pieces[0]
    for piece in pieces[1:]:
        out += draw(_SEPARATORS) + piece
    return out


def _raw_texts(*, fidelity: bool) -> SearchStrategy[str]:
    if not fidelity:
        return st.text(_ASCII, max_size=160)
    return st.one_of(
        st.text(_ASCII, max_size=40),
        _mixed_texts(),
        st.text(_UNICODE, max_size=60),
        # Longer than one 160-character segment (and than 70 UCS-2 characters), built by
        # repeating a short mix so a long text costs a state machine few choices.
        st.builds(_repeat_past_160, _mixed_texts(), st.integers(0, 240)),
    )


def _repeat_past_160(piece: str, extra: int) -> str:
    """Repeat ``piece`` until the text is longer than 160 characters, plus ``extra`` more."""
    piece = piece.strip() or "x"
    times = (161 + extra) // len(piece) + 1
    return (piece * times)[: 161 + extra].strip() or "x" * 161


@st.composite
def _edge_padded(draw: st.DrawFn, inner: SearchStrategy[str]) -> str:
    prefix = draw(_PREFIXES)
    suffix = draw(_SUFFIXES)
    return prefix + draw(inner) + suffix


def texts(*, fidelity: bool = True, edge_whitespace: bool = False) -> SearchStrategy[str]:
    """Returns a strategy which generates SMS ``text`` values.

    With ``fidelity=True`` (the default) the texts stress a server's round trip: the
    empty string, printable ASCII, unicode mixes (emoji with modifiers and ZWJ
    sequences, combining marks, right-to-left scripts, CJK, GSM-7 extension
    characters), arbitrary code points, texts longer than 160 characters (up to 400),
    and inner newlines (``\\n`` and ``\\r\\n``) and tabs. Surrogates and NUL never
    appear. With ``fidelity=False`` only printable ASCII up to 160 characters is drawn.

    Texts never begin or end with whitespace (as :meth:`str.strip` defines it) because
    whether a server trims them is not documented. Pass ``edge_whitespace=True`` to also
    draw texts padded with leading and/or trailing whitespace (including NBSP and
    ideographic space), for informational probes.

    Shrinks towards short printable ASCII, and finally the empty string.
    """
    check_bool("fidelity", fidelity)
    check_bool("edge_whitespace", edge_whitespace)
    return _texts(fidelity, edge_whitespace)


@cache
def _texts(fidelity: bool, edge_whitespace: bool) -> SearchStrategy[str]:
    # Built once per argument pair: composites draw texts at every step, and a strategy
    # built afresh is validated afresh. A strategy object holds no state, so sharing it
    # draws exactly what a new one would.
    raw = _raw_texts(fidelity=fidelity)
    stripped = raw.map(str.strip)
    if not edge_whitespace:
        return stripped
    return st.one_of(stripped, _edge_padded(stripped))


def e164_numbers() -> SearchStrategy[str]:
    """Returns a strategy which generates valid E.164 numbers of the form
    ``+1650555xxxx`` (US fictional-use range), all matching ``^\\+[1-9]\\d{1,14}$``.

    Shrinks towards ``+16505550000``.
    """
    return _E164_NUMBERS


_E164_NUMBERS = st.integers(0, 9999).map(lambda n: f"+1650555{n:04d}")


# Never "" (a server may read it as null) nor a vanity number such as "+1650555abcd"
# (libphonenumber reads keypad letters as digits): a server may take those (audit C5).
_MALFORMED_EXAMPLES = (
    "+",
    "12ab",
    "abc",
    "phone",
    "++",
    "+-",
    "call me",
    "☎",
    " ",
)


def malformed_phone_numbers() -> SearchStrategy[str]:
    """Returns a strategy which generates strings that are not phone numbers at all:
    a lone ``+``, blanks, and short values containing ASCII letters (``"12ab"``, words).
    Reformattable numbers such as ``"(650) 555-0100"`` are never drawn, since a server may
    legitimately normalise them, nor ``""`` (which a server may read as null) nor vanity
    numbers of 7 or more digits and letters (``"+1650555abcd"``, which a phone number
    library reads as keypad digits); no value matches ``^\\+[1-9]\\d{1,14}$``.

    Shrinks towards ``"+"``, then towards short runs of letters.
    """
    return _MALFORMED_PHONE_NUMBERS


def _malformed_phone_numbers() -> SearchStrategy[str]:
    lettered = st.tuples(
        st.sampled_from(("", "+", "+1")),
        st.text(st.sampled_from(string.digits), max_size=2),
        st.text(st.sampled_from(string.ascii_letters), min_size=1, max_size=3),
    ).map("".join)
    return st.one_of(st.sampled_from(_MALFORMED_EXAMPLES), lettered)


_MALFORMED_PHONE_NUMBERS = _malformed_phone_numbers()
