from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.notify import Matcher, Matchers, MatchType, parse_matcher, parse_matchers
from watchkeeper.notify._matchers import MatcherError


@pytest.mark.parametrize(
    ("text", "name", "mtype", "value"),
    [
        ('foo="bar"', "foo", MatchType.EQUAL, "bar"),
        ("foo=bar", "foo", MatchType.EQUAL, "bar"),
        (' foo != "bar" ', "foo", MatchType.NOT_EQUAL, "bar"),
        ('foo=~"a|b"', "foo", MatchType.REGEXP, "a|b"),
        ("foo!~b.*", "foo", MatchType.NOT_REGEXP, "b.*"),
        ('foo="with \\"quote\\""', "foo", MatchType.EQUAL, 'with "quote"'),
        ('foo="a\\nb"', "foo", MatchType.EQUAL, "a\nb"),
        ('foo="back\\\\slash"', "foo", MatchType.EQUAL, "back\\slash"),
        ('foo="a,b"', "foo", MatchType.EQUAL, "a,b"),
        ("foo=", "foo", MatchType.EQUAL, ""),
    ],
)
def test_parse_matcher(text: str, name: str, mtype: MatchType, value: str) -> None:
    m = parse_matcher(text)
    assert (m.name, m.type, m.value) == (name, mtype, value)


@pytest.mark.parametrize("text", ['foo="bar', 'foo=ba"r', "1foo=bar", "foo~bar", 'foo=~"("'])
def test_bad_matchers(text: str) -> None:
    with pytest.raises(MatcherError):
        parse_matcher(text)


def test_parse_list_forms() -> None:
    ms = parse_matchers('{a="b", c=~"d|e",f!="g,h"}')
    assert [str(m) for m in ms] == ['a="b"', 'c=~"d|e"', 'f!="g,h"']
    assert str(Matchers(ms).sorted()) == '{a="b",c=~"d|e",f!="g,h"}'
    assert ms.matches({"a": "b", "c": "e", "f": "x"})
    assert not ms.matches({"a": "b", "c": "dd"})


def test_regex_is_anchored_and_missing_label_is_empty() -> None:
    m = Matcher.create("x", MatchType.REGEXP, "ab")
    assert m.matches("ab")
    assert not m.matches("abc")
    assert not m.matches("zab")
    assert Matchers([Matcher.create("x", MatchType.EQUAL, "")]).matches({})
    assert Matchers([Matcher.create("x", MatchType.NOT_REGEXP, ".+")]).matches({})


names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(names, st.sampled_from([MatchType.EQUAL, MatchType.NOT_EQUAL]), values)
def test_string_roundtrip(name: str, mtype: MatchType, value: str) -> None:
    m = Matcher.create(name, mtype, value)
    back = parse_matcher(str(m))
    assert (back.name, back.type, back.value) == (name, mtype, value)


@given(st.lists(st.tuples(names, st.sampled_from(list(MatchType)),
                          st.from_regex(r"[a-z0-9 ,.=]{0,8}", fullmatch=True)),
                max_size=5))
def test_list_roundtrip(items: list[tuple[str, MatchType, str]]) -> None:
    ms = Matchers(Matcher.create(n, t, v) for n, t, v in items)
    back = parse_matchers(str(ms))
    assert [(m.name, m.type, m.value) for m in back] == items
