"""Ids look like Close's, never repeat, and sort in the order they were made."""

from __future__ import annotations

import re

from conformance.refserver.ids import IdMaker


def test_an_id_is_the_prefix_and_43_alphanumerics():
    assert re.fullmatch(r"acti_[0-9A-Za-z]{43}", IdMaker()("acti"))


def test_ids_sort_in_the_order_they_were_made_so_ties_in_a_list_replay_alike():
    make = IdMaker()
    ids = [make("acti") for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_a_seed_gives_the_same_ids_and_no_seed_unpredictable_ones():
    assert [IdMaker(7)("acti") for _ in range(2)] == [IdMaker(7)("acti")] * 2
    first, second = IdMaker(), IdMaker()
    assert first("acti") != second("acti")
