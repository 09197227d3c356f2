"""Answer bodies decoded (``Content-Encoding``) without ever holding more than a bound.

httpx and urllib3 decompress each chunk of a body whole, before any size check sees the
result: a 6.8 KB answer sent as ``Content-Encoding: gzip, gzip`` inflates to gigabytes.
:class:`BoundedDecoder` reads the body as it came over the wire (still encoded) and undoes
each coding with a ``zlib`` decompressor asked for at most :data:`CHUNK` bytes at a time, so
that what a layer produces is pulled only as far as the reader wants it. The reader stops at
``max_bytes``: never more than ``max_bytes`` plus about one chunk per layer of decoded data
exists in memory, however the answer was compressed.

Codings are undone in the reverse of the order the header lists them (the order they were
applied, RFC 9110 section 8.4). ``gzip`` (and ``x-gzip``), ``deflate`` (zlib-wrapped, or raw
as some servers send it) and ``identity`` are decoded; anything else (``br``, ``zstd``,
garbage), more than :data:`MAX_CODINGS` layers, or data that does not decode raises
:class:`UndecodableBody`, which callers turn into a clear error, never a crash. The suite asks
for no other coding (:data:`ACCEPT_ENCODING`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = [
    "ACCEPT_ENCODING",
    "CHUNK",
    "MAX_CODINGS",
    "BoundedDecoder",
    "DecodedBody",
    "UndecodableBody",
    "accepts_only_decodable",
    "codings",
    "read_decoded",
]

#: What the suite asks for: exactly the codings it can decode within the bound.
ACCEPT_ENCODING = "gzip, deflate"
#: The most decoded bytes one layer produces in one go.
CHUNK = 64 * 1024
#: More layers than this is an attack, not a server (each layer costs a zlib window).
MAX_CODINGS = 4

_GZIP = ("gzip", "x-gzip")
_DECODABLE = frozenset({*_GZIP, "deflate", "identity"})


class UndecodableBody(ValueError):
    """The body's ``Content-Encoding`` is not one the suite decodes, or its data is broken."""


@dataclass(frozen=True, slots=True)
class DecodedBody:
    """A decoded body, at most ``max_bytes`` long; ``cut`` when there was more."""

    content: bytes
    cut: bool


def codings(content_encoding: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` value, in the order they were applied, without
    ``identity``: ``codings("gzip, identity, deflate") == ["gzip", "deflate"]``."""
    if not content_encoding:
        return []
    named = [part.strip().lower() for part in content_encoding.split(",")]
    return [coding for coding in named if coding and coding != "identity"]


def accepts_only_decodable(accept_encoding: str | None) -> bool:
    """True when an ``Accept-Encoding`` value names only codings the decoder handles."""
    if accept_encoding is None:
        return False
    names = [part.split(";")[0].strip().lower() for part in accept_encoding.split(",")]
    return all(name in _DECODABLE for name in names if name)


class BoundedDecoder:
    """Iterate over the decoded chunks of a body; at most ``max_bytes`` in all.

    ``raw_chunks`` is the body as received (still encoded). Iteration stops at the bound,
    after which :attr:`cut` tells whether the body went on; the rest is never read (so never
    decompressed). Raises :class:`UndecodableBody` once a non-empty body turns out to be in a
    coding the suite does not decode, or not to decode at all.
    """

    def __init__(
        self, raw_chunks: Iterable[bytes], content_encoding: str | None, max_bytes: int
    ) -> None:
        self.max_bytes = max_bytes
        self.cut = False
        self._problem = _problem_with(content_encoding)
        stream: Iterator[bytes] = _non_empty(raw_chunks)
        if self._problem is None:
            for coding in reversed(codings(content_encoding)):
                stream = _inflate(stream, coding)
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        left = self.max_bytes
        try:
            for chunk in self._stream:
                if self._problem is not None:
                    raise UndecodableBody(self._problem)
                if left == 0:
                    self.cut = True
                    return
                if len(chunk) > left:
                    self.cut = True
                    yield chunk[:left]
                    return
                left -= len(chunk)
                yield chunk
        finally:
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()  # stop every layer: nothing more is read or decompressed


def read_decoded(
    raw_chunks: Iterable[bytes], content_encoding: str | None, max_bytes: int
) -> DecodedBody:
    """Decode a whole body up to ``max_bytes`` (see :class:`BoundedDecoder`)."""
    decoder = BoundedDecoder(raw_chunks, content_encoding, max_bytes)
    content = b"".join(decoder)
    return DecodedBody(content, decoder.cut)


# -- the layers ------------------------------------------------------------------------------


def _problem_with(content_encoding: str | None) -> str | None:
    """Why a body in ``content_encoding`` cannot be decoded, or None."""
    applied = codings(content_encoding)
    shown = repr((content_encoding or "")[:80])
    unknown = [coding for coding in applied if coding not in _DECODABLE]
    if unknown:
        return (
            f"Content-Encoding {shown} is not decoded by the suite (it asked for "
            f"{ACCEPT_ENCODING!r})"
        )
    if len(applied) > MAX_CODINGS:
        return f"Content-Encoding {shown} stacks more than {MAX_CODINGS} codings"
    return None


def _non_empty(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        if chunk:
            yield chunk


def _inflate(chunks: Iterator[bytes], coding: str) -> Iterator[bytes]:
    """Undo one zlib-based coding, producing at most :data:`CHUNK` bytes per step."""
    decompressor: zlib._Decompress | None = None
    members = 0
    head = b""
    for chunk in chunks:
        data = head + chunk
        head = b""
        if decompressor is None:
            if coding == "deflate" and len(data) < 2:
                head = data  # the zlib header is two bytes: wait for the second one
                continue
            decompressor = _decompressor(coding, data)
        while True:
            try:
                out = decompressor.decompress(data, CHUNK)
            except zlib.error as error:
                if members:
                    return  # junk after a complete gzip member is ignored, as urllib3 does
                raise UndecodableBody(f"the {coding} body does not decode ({error})") from None
            if out:
                yield out
            if decompressor.eof:
                data = decompressor.unused_data
                if not data or coding not in _GZIP:
                    return  # the end of the coded data: whatever follows is not read
                members += 1  # gzip allows several members, one after the other
                decompressor = _decompressor(coding, data)
                continue
            data = decompressor.unconsumed_tail
            if not data and len(out) < CHUNK:
                break  # all input consumed and nothing held back: ask for more
    if head:
        raise UndecodableBody(f"the {coding} body does not decode (one byte long)")


def _decompressor(coding: str, head: bytes) -> zlib._Decompress:
    if coding in _GZIP:
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    return zlib.decompressobj(zlib.MAX_WBITS if _zlib_wrapped(head) else -zlib.MAX_WBITS)


def _zlib_wrapped(head: bytes) -> bool:
    """True when ``head`` starts a zlib stream (RFC 1950), not raw deflate (RFC 1951)."""
    return len(head) >= 2 and head[0] & 0x0F == 8 and int.from_bytes(head[:2], "big") % 31 == 0
