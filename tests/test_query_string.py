"""The endpoint's fast query-string decoder gives what ``urllib.parse.parse_qsl`` gives
(pairs, or the same error) for every string: percent-escapes valid and not, ``+``,
backslashes, ``x``, separators, blank values and non-ASCII text."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crinkkg.web.http.protocol import decode_pairs

PIECES = ["%", "%2", "%2A", "%7b", "%C3", "%A9", "%C3%A9", "%5C", "%5Cx41", "%00", "%ff", "%G1",
          "\\", "\\x41", "x", "41", "+", "&", "=", "==", "&&", "a", "query", "é", " ", "%%",
          "%E2%82", "%E2%82%AC", "%25", ";"]


def _outcome(f, raw: str):
    try:
        return ("ok", list(f(raw)))
    except UnicodeDecodeError:
        return ("not-utf8",)
    except ValueError as exc:
        return ("value-error", type(exc).__name__)


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_decoded_as_parse_qsl_does(raw: str) -> None:
    expected = _outcome(lambda r: parse_qsl(r, keep_blank_values=True, errors="strict"), raw)
    event(expected[0])
    assert _outcome(decode_pairs, raw) == expected, raw


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(max_size=40))
def test_any_text_encoded_comes_back(text: str) -> None:
    raw = "query=" + quote(text, safe="") + "&view=all"
    assert decode_pairs(raw) == [("query", text), ("view", "all")]
