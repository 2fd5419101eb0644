"""The one-search path+query shortcut never hides a finding the separate searches make."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.security import SHIPPED_RULES, Inspector, Rule, re2_available
from watchkeeper.security._joint import SEPARATOR, joint_source

from .corpus import ATTACKS, benign_requests

ENGINES = ["re", pytest.param("re2", marks=pytest.mark.skipif(
    not re2_available(), reason="google-re2 is not installed"))]
ALL_PAYLOADS = [p for payloads in ATTACKS.values() for p in payloads]


def _separate(inspector: Inspector, path: str, query: str) -> set[str]:
    found = inspector.inspect("path", path) + (inspector.inspect("query", query)
                                               if query else ())
    return {f.rule_id for f in found}


@pytest.mark.parametrize("engine", ENGINES)
def test_inspect_url_equals_separate_inspection_on_the_corpora(engine: str) -> None:
    joint = Inspector(SHIPPED_RULES, engine)  # type: ignore[arg-type]
    joint.prepare(["path", "query"])
    # the shortcut is really in use (re2 only: under re it was measured slower)
    assert (joint._joint_pattern() is not None) == (engine == "re2")
    for payload in ALL_PAYLOADS:
        encoded = quote(payload, safe="")
        for path, query in ((f"/p/{encoded}", "q=1"), ("/items/1", f"q={encoded}"),
                            (f"/{payload}", ""), ("/", f"a={encoded}&b=2")):
            fresh = Inspector(SHIPPED_RULES, engine)  # type: ignore[arg-type]
            assert {f.rule_id for f in joint.inspect_url(path, query)} == \
                _separate(fresh, path, query), (path, query)
    fresh = Inspector(SHIPPED_RULES, engine)  # type: ignore[arg-type]
    for path, query, _agent in benign_requests()[:800]:
        assert {f.rule_id for f in joint.inspect_url(path, query)} == \
            _separate(fresh, path, query)


ALPHABET = st.sampled_from(list("ab1 ./\\'\";=-#()<>|&%\n\x1e\x1funiosetlcrd*"))


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=25), st.text(ALPHABET, max_size=25))
def test_joint_pattern_hits_whenever_a_rule_hits_either_part(path: str, query: str) -> None:
    source = joint_source([r.pattern for r in SHIPPED_RULES])
    assert source is not None
    joint = re.compile(source, re.IGNORECASE)
    hit = any(re.search(r.pattern, part, re.IGNORECASE)
              for r in SHIPPED_RULES for part in (path, query))
    if hit:
        assert joint.search(path + SEPARATOR + query), (path, query)


@pytest.mark.parametrize(("pattern", "path", "query"), [
    (r"^admin$", "admin", "x"), (r"^admin$", "x", "admin"), (r"(?:^|=)\.env\b", "/", ".env"),
    (r"\bx\b", "a", "x"), (r"--(?:$|;)", "a--", ""), (r"--$", "a--\n", "q"),
])
def test_anchors_at_the_seam(pattern: str, path: str, query: str) -> None:
    source = joint_source([pattern])
    assert source is not None
    assert re.search(source, path + SEPARATOR + query)


def test_case_flag_is_harmless() -> None:
    assert joint_source([r"(?i)abc"]) == "(?:abc)"  # rules are matched ignoring case


@pytest.mark.parametrize("pattern", [r"a^b", r"a$b", r"(?:x^)", r"(?s)a.c", r"(?m)^a", r"(a)\1",
                                     r"\Aabc", r"abc\Z", r"(?=a)b"])
def test_anchors_elsewhere_or_unknown_constructs_are_not_rewritten(pattern: str) -> None:
    assert joint_source([r"abc", pattern]) is None


@pytest.mark.skipif(not re2_available(), reason="google-re2 is not installed")
def test_custom_rule_the_rewriter_cannot_read_disables_the_shortcut() -> None:
    rules = [*SHIPPED_RULES, Rule("custom.anchor", "custom", "high", r"admin$|^root")]
    inspector = Inspector(rules, "re2")
    assert inspector._joint_pattern() is not None  # anchors at the edges: rewritten
    rules.append(Rule("custom.mid", "custom", "high", r"a^b"))
    assert Inspector(rules, "re2")._joint_pattern() is None
    rules.pop()
    only_query = Rule("custom.q", "custom", "high", r"secret", locations=("query",))
    inspector = Inspector([*SHIPPED_RULES, only_query], "re2")
    assert inspector._joint_pattern() is None  # path and query apply different rules
    assert inspector.inspect_url("/secret", "q=secret")[0].location == "query"
