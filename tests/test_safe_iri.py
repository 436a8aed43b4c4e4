"""``safe_iri`` decides which IRIs may be written into a query as they are: its fast path
for ASCII must refuse exactly what the full check refuses."""

from __future__ import annotations

import unicodedata

import pyoxigraph as ox
import pytest

from crinkkg.web.services.describe import safe_iri


def refused_by_category(c: str) -> bool:
    return unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")


def parses(iri: str) -> bool:
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True


def test_each_character_is_judged_as_the_full_check_judges_it() -> None:
    for code in range(0x3000):
        c = chr(code)
        if c in '<>"{}|^`\\' or code <= 0x20:
            assert not safe_iri(f"http://example.org/a{c}b")
        else:
            iri = f"http://example.org/a{c}b"
            assert safe_iri(iri) is (parses(iri) and not refused_by_category(c)), hex(code)


@pytest.mark.parametrize("iri", ["", "relative", "http://a/\x7f", "http://a/\u0085",
                                 "http://a/\u200b", "http://a/\u2028", "http://a/ b"])
def test_unsafe_iris_are_refused(iri: str) -> None:
    assert not safe_iri(iri)


@pytest.mark.parametrize("iri", ["https://w3id.org/crinkkg/id/russia", "http://a/é",
                                 "urn:x:y", "http://例え.jp/"])
def test_safe_iris_are_accepted(iri: str) -> None:
    assert safe_iri(iri)
