"""The normaliser undoes every encoding layer attackers use, never raises, stays bounded."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.security import normalise


def test_decodes_nested_encodings_and_case() -> None:
    assert normalise("%253Cscript%253E") == "<script>"
    assert normalise("%25252e%25252e%25252f") == "../"
    assert normalise("&lt;ScRiPt&gt;") == "<script>"
    assert normalise("&#x3c;svg&#62;") == "<svg>"
    assert normalise("\\u003cimg\\x3e") == "<img>"
    assert normalise("\uff05\uff13\uff23script") == "%3cscript"  # NFKC runs after decoding
    assert normalise("\uff1c\uff33\uff23\uff32\uff29\uff30\uff34\uff1e") == "<script>"
    assert normalise("%u002e%u002e%u2215etc") == "../etc"
    assert normalise("union/**/select") == "union select"
    assert normalise("a\t\t b") == "a b"
    assert normalise("a+b", plus_is_space=True) == "a b"
    assert normalise("a+b") == "a+b"
    assert normalise("nul\x00byte") == "nulbyte"


def test_invalid_utf8_and_overlong_slashes_become_replacement_characters() -> None:
    assert normalise("..%c0%af") == "..\ufffd\ufffd"
    assert normalise("%ff%fe%fd") == "\ufffd\ufffd\ufffd"


def test_open_comment_is_kept_because_it_can_be_the_payload() -> None:
    assert normalise("admin'/*") == "admin'/*"


def test_input_is_cut_at_the_budget() -> None:
    assert len(normalise("a" * 100_000, limit=100)) == 100


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_and_is_lower_case_without_nul(text: str) -> None:
    out = normalise(text, limit=200)
    assert "\x00" not in out
    assert out == out.casefold() or not out.isascii()
    assert not any("A" <= ch <= "Z" for ch in out)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="%+&\\", blacklist_categories=("Cs",)),
               max_size=80))
def test_percent_encoding_is_undone(text: str) -> None:
    assert normalise(quote(text, safe=""), limit=10_000) == normalise(text, limit=10_000)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_percent_encoded(data: bytes) -> None:
    out = normalise("".join(f"%{b:02x}" for b in data), limit=10_000)
    assert isinstance(out, str)


@pytest.mark.parametrize("value", ["\\ud800<script>", "%5Cud83d' or 1=1--", "\ud800/x",
                                   "%u0000%ud800", "&#xd800;<svg onload=x>"])
def test_lone_surrogates_become_replacement_characters(value: str) -> None:
    out = normalise(value)
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in out)
    out.encode("utf-8")  # what a regex engine needs


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab %&\\*/\t\r\x00\f\v\n="), max_size=30))
def test_fast_path_check_is_the_regex_it_replaced(text: str) -> None:
    import re

    from watchkeeper.security._normalise import nothing_to_undo

    needs_work = re.compile(r"[%&\\\x00\t\r\f\v]|\*/|  ")
    assert nothing_to_undo(text) == (needs_work.search(text) is None)
