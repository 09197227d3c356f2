"""Bodies decoded without ever holding more than the bound (conformance.decoding)."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest

from conformance.decoding import (
    CHUNK,
    BoundedDecoder,
    UndecodableBody,
    accepts_only_decodable,
    codings,
    read_decoded,
)

JSON = b'{"id": "acti_1", "text": "hello"}' * 1000
MB = 1 << 20


def gzip_bomb(decoded_megabytes: int, *, layers: int = 2) -> bytes:
    """``decoded_megabytes`` of zeros, gzipped ``layers`` times, made in milliseconds: gzip
    members may follow one another, so one compressed megabyte is repeated, then compressed
    again (a few KB in all)."""
    body = gzip.compress(bytes(MB)) * decoded_megabytes
    for _ in range(layers - 1):
        body = gzip.compress(body)
    return body


def pieces(body: bytes, size: int = CHUNK) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


class Pulled:
    """An iterator over chunks that counts how many were taken from it."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.count += 1
            yield chunk


# -- what is decoded -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        (None, lambda body: body),
        ("identity", lambda body: body),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("GZip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda body: zlib.compress(body)[2:-4]),  # raw deflate, as some servers send
        ("gzip, gzip", lambda body: gzip.compress(gzip.compress(body))),
        ("gzip, identity, deflate", lambda body: zlib.compress(gzip.compress(body))),
    ],
    ids=["none", "identity", "gzip", "x-gzip", "case", "zlib", "raw-deflate", "gzip-gzip", "mix"],
)
def test_every_coding_the_suite_asks_for_is_decoded_whole_within_the_bound(encoding, encode):
    decoded = read_decoded(pieces(encode(JSON), 1000), encoding, 10 * MB)
    assert decoded.content == JSON
    assert not decoded.cut


def test_stacked_codings_are_undone_in_the_reverse_of_the_order_they_were_applied():
    assert codings("gzip, identity, deflate") == ["gzip", "deflate"]
    body = zlib.compress(gzip.compress(JSON))  # gzip first, then deflate
    assert read_decoded([body], "gzip, deflate", MB).content == JSON
    with pytest.raises(UndecodableBody):
        read_decoded([body], "deflate, gzip", MB)


def test_a_body_fed_a_byte_at_a_time_decodes_the_same():
    body = gzip.compress(JSON)
    assert read_decoded(pieces(body, 1), "gzip", MB).content == JSON
    assert read_decoded(pieces(zlib.compress(JSON), 1), "deflate", MB).content == JSON


def test_gzip_members_one_after_the_other_are_one_body():
    body = gzip.compress(b"first ") + gzip.compress(b"second")
    assert read_decoded([body], "gzip", MB).content == b"first second"


def test_an_empty_body_decodes_to_nothing_whatever_its_coding_says():
    assert read_decoded([], "gzip", MB).content == b""
    assert read_decoded([b""], "br", MB).content == b""


# -- the bound -------------------------------------------------------------------------------


def test_a_body_longer_than_the_bound_is_cut_at_the_bound():
    decoded = read_decoded(pieces(gzip.compress(JSON)), "gzip", 100)
    assert decoded.content == JSON[:100]
    assert decoded.cut


def test_a_body_exactly_at_the_bound_is_read_whole_and_not_cut():
    decoded = read_decoded(pieces(JSON, 100), None, len(JSON))
    assert decoded.content == JSON
    assert not decoded.cut


def test_a_stacked_gzip_bomb_is_read_no_further_than_the_bound():
    bomb = gzip_bomb(1024)  # 1 GB of zeros in a few KB
    assert len(bomb) < 10_000
    tracemalloc.start()
    try:
        decoded = read_decoded(pieces(bomb), "gzip, gzip", MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoded.content == bytes(MB)
    assert decoded.cut
    assert peak < 4 * MB  # the bound, its join, and about a chunk per layer


def test_what_lies_beyond_the_bound_is_never_pulled_from_the_wire():
    raw = Pulled(pieces(JSON * 100, 1000))  # 3.3 MB in 1000-byte chunks
    decoded = read_decoded(raw, None, 10_000)
    assert decoded.cut
    assert raw.count == 11  # ten chunks fill the bound, the eleventh shows there is more


def test_a_bomb_stops_being_decompressed_where_the_reader_stops():
    decoder = BoundedDecoder(pieces(gzip_bomb(1024)), "gzip, gzip", 1024 * MB)
    produced = 0
    for chunk in decoder:
        assert len(chunk) <= CHUNK
        produced += len(chunk)
        if produced >= 3 * MB:
            break
    assert produced < 3 * MB + CHUNK


# -- what cannot be decoded ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br", "x-garbage\u00e9"])
def test_a_coding_the_suite_did_not_ask_for_is_an_error_not_a_crash(encoding):
    with pytest.raises(UndecodableBody, match="not decoded by the suite"):
        read_decoded([b"\x1b\x00 whatever"], encoding, MB)


def test_more_codings_stacked_than_any_server_uses_are_refused():
    with pytest.raises(UndecodableBody, match="stacks more than"):
        read_decoded([b"x"], ", ".join(["gzip"] * 10_000), MB)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_data_that_does_not_decode_is_an_error_not_a_crash(encoding):
    with pytest.raises(UndecodableBody, match="does not decode"):
        read_decoded([b"this is not compressed at all"], encoding, MB)


def test_junk_after_a_whole_gzip_member_is_ignored():
    body = gzip.compress(b"whole") + b"trailing junk"
    assert read_decoded([body], "gzip", MB).content == b"whole"


def test_the_suite_asks_only_for_what_it_decodes():
    assert accepts_only_decodable("gzip, deflate")
    assert accepts_only_decodable("gzip;q=1.0, identity")
    assert not accepts_only_decodable("gzip, deflate, br")
    assert not accepts_only_decodable(None)
