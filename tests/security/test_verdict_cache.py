"""The request path's caches and fast paths decide exactly what uncached inspection does.

Each shortcut (verdicts cached by raw value, by raw ASGI bytes, the fused path+query
normalisation, path globs without a regex) is checked against the slow computation it
replaces: on the attack corpus, the benign corpus and generated text, cold and warm, and
across evictions.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from watchkeeper._http_types import RequestRecord
from watchkeeper.config import SecuritySettings
from watchkeeper.metrics import Registry
from watchkeeper.security import (
    SHIPPED_RULES,
    Guard,
    Inspector,
    SecurityHook,
    _inspect,
    re2_available,
)
from watchkeeper.security._hook import PathGlobs
from watchkeeper.security._inspect import Verdicts, joint_text
from watchkeeper.security._joint import SEPARATOR
from watchkeeper.security._normalise import normalise, normalise_query

from .corpus import ATTACKS, SCANNER_UA, benign_requests

ENGINE = "re2" if re2_available() else "re"
PAYLOADS = [p for payloads in ATTACKS.values() for p in payloads]
BENIGN = benign_requests()
LOCATIONS = ["path", "query", "header:user-agent", "header:cookie", "header:referer"]
# Characters every normalisation step reacts to, and a few the rules look for.
TRICKY = "aZ/%+&=;' \t\r\x00\\*.<>-#2eé\uff0f\x1e\x1f"
VALUES = st.one_of(
    st.sampled_from(PAYLOADS),
    st.sampled_from(PAYLOADS).map(lambda p: quote(p, safe="")),
    st.sampled_from(PAYLOADS).map(lambda p: quote(quote(p, safe=""), safe="")),
    st.sampled_from(BENIGN).map(lambda r: r[1]),
    st.sampled_from(SCANNER_UA),
    st.text(alphabet=TRICKY, max_size=40),
)


def _reference() -> Inspector:
    return Inspector(SHIPPED_RULES, ENGINE)


def _prepared() -> Inspector:
    inspector = _reference()
    inspector.prepare(LOCATIONS)
    return inspector


REFERENCE = _reference()
WARM = _prepared()  # shared by every example: its caches see the whole run


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(LOCATIONS), VALUES), min_size=1, max_size=20))
def test_cached_verdicts_equal_uncached_ones(calls: list[tuple[str, str]]) -> None:
    # A tiny bound, so that examples also run across evictions.
    with mock.patch.object(_inspect, "_CACHE_SIZE", 8):
        for location, value in calls * 2:  # the second round is answered from the cache
            expected = REFERENCE.inspect_uncached(location, value)
            assert WARM.inspect(location, value) == expected, (location, value)
            if location.startswith("header:") and _latin1(value):
                raw = value.encode("latin-1")
                assert WARM.inspect_bytes(location, raw) == expected, (location, value)
                assert WARM.inspect_bytes(location, bytearray(raw)) == expected


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.binary(max_size=40), VALUES.map(lambda v: v.encode())),
                min_size=1, max_size=20))
@example([b"\xef\xbc\x9cscript\xef\xbc\x9e", "\uff1csvg onload=x\uff1e".encode()])
def test_raw_header_verdicts_read_the_bytes_as_latin1(values: list[bytes]) -> None:
    """Header bytes are text the way Starlette reads them (latin-1), cached or not: the
    UTF-8 bytes of a full-width ``<`` are three latin-1 characters to both."""
    with mock.patch.object(_inspect, "_CACHE_SIZE", 8):
        for value in values * 2:
            expected = REFERENCE.inspect_uncached("header:cookie", value.decode("latin-1"))
            assert WARM.inspect_bytes("header:cookie", value) == expected, value


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(VALUES, VALUES), min_size=1, max_size=10))
def test_url_verdicts_equal_uncached_ones(pairs: list[tuple[str, str]]) -> None:
    with mock.patch.object(_inspect, "_CACHE_SIZE", 8):
        for path, query in pairs * 2:
            expected = REFERENCE.inspect_uncached("path", path) + (
                REFERENCE.inspect_uncached("query", query) if query else ())
            assert WARM.inspect_url(path, query) == expected, (path, query)


def test_every_corpus_request_gets_its_uncached_verdict_cold_and_warm() -> None:
    inspector = _prepared()
    detected = 0
    for payload in PAYLOADS:
        query = "q=" + quote(payload, safe="")
        expected = REFERENCE.inspect_uncached("query", query)
        detected += bool(expected)
        for _ in range(2):
            assert inspector.inspect_url("/search", query) == expected, payload
    assert detected / len(PAYLOADS) >= 0.95  # the corpus test's floor, via the cached path
    for path, query, agent in BENIGN:
        for _ in range(2):
            assert inspector.inspect_url(path, query) == ()
            assert inspector.inspect_bytes("header:user-agent", agent.encode()) == ()


@hsettings(max_examples=500, deadline=None)
@given(st.text(alphabet=TRICKY, max_size=30), st.text(alphabet=TRICKY, max_size=30),
       st.sampled_from([8, 64, 8192]))
def test_fused_url_normalisation_is_the_two_it_replaces(path: str, query: str,
                                                        limit: int) -> None:
    expected = normalise(path, limit) + SEPARATOR + normalise_query(query, limit)
    assert joint_text(path, query, limit) == expected


def test_verdicts_stay_within_their_bounds() -> None:
    cache = Verdicts(max_len=100)
    cache.remember("x" * 101, ())
    assert "x" * 101 not in cache.entries  # too long to be worth keeping
    for i in range(_inspect._CACHE_SIZE + 10):
        cache.remember(f"/items/{i}", ())
        assert len(cache.entries) <= _inspect._CACHE_SIZE
    big = Verdicts(max_len=_inspect._CACHE_CHARS)
    for i in range(40):
        big.remember(f"{i}:".ljust(_inspect._CACHE_CHARS // 16, "v"), ())
        assert big.chars <= _inspect._CACHE_CHARS
        assert sum(map(len, big.entries)) == big.chars
    assert len(big.entries) < 40  # it was emptied on the way


def test_long_cookies_are_cached_but_long_urls_are_not() -> None:
    inspector = _prepared()
    cookie = "; ".join(f"c{i}={'v' * 40}" for i in range(40))  # ~1.8 KB, repeats per user
    inspector.inspect_bytes("header:cookie", cookie.encode())
    assert cookie.encode() in inspector.raw_verdicts("header:cookie").entries
    query = "q=" + "a" * 2000
    inspector.inspect_url("/", query)
    assert query not in inspector.verdicts("query").entries


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


# -- the hook ---------------------------------------------------------------------------

def _hook(tmp_path: Path, **security: Any) -> SecurityHook:
    security.setdefault("audit", {"path": str(tmp_path / "audit.jsonl")})
    settings = SecuritySettings(mode="block", **security)
    return SecurityHook(Guard(settings, Registry()))


def _asgi(path: str, query: str, headers: list[tuple[Any, Any]]) -> RequestRecord:
    scope = {"type": "http", "path": path, "query_string": query.encode("latin-1"),
             "headers": headers}
    return RequestRecord("GET", path, query, "http", "10.0.0.9", 0.0, 0.0, scope)


def _wsgi(path: str, query: str, headers: dict[str, str]) -> RequestRecord:
    environ = {"PATH_INFO": path, "QUERY_STRING": query,
               **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}}
    return RequestRecord("GET", path, query, "http", "10.0.0.9", 0.0, 0.0, environ)


def _expected(path: str, query: str, headers: dict[str, str]) -> bool:
    found = REFERENCE.inspect_uncached("path", path)
    if query:
        found += REFERENCE.inspect_uncached("query", query)
    for name in ("user-agent", "referer", "cookie"):
        if headers.get(name):
            found += REFERENCE.inspect_uncached(f"header:{name}", headers[name])
    return bool(found)


@pytest.mark.parametrize("where", ["query", "path", "user-agent", "cookie", "referer"])
def test_the_hook_refuses_exactly_what_uncached_inspection_finds(tmp_path: Path,
                                                                 where: str) -> None:
    hook = _hook(tmp_path)
    base = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0",
            "referer": "https://shop.example.com/search?q=shoes",
            "cookie": "sessionid=8f3a9c2e1b7d; theme=dark", "accept": "*/*"}
    refused = 0
    for payload in PAYLOADS[::3] + [r[1] for r in BENIGN[::40]]:
        encoded = quote(payload, safe="")
        headers = dict(base)
        path, query = "/search", "q=shoes&page=2"
        if where == "query":
            query = "q=" + encoded
        elif where == "path":
            path = "/search/" + encoded
        else:
            headers[where] = (f"x={encoded}" if where == "cookie" else encoded)
        expected = _expected(path, query, headers)
        refused += expected
        asgi = [(k.encode(), v.encode()) for k, v in headers.items()]
        variants = [
            _asgi(path, query, asgi),
            _asgi(path, query, asgi),  # now from the caches
            _asgi(path, query, [(k, bytearray(v)) for k, v in asgi]),  # unhashable values
            _wsgi(path, query, headers),
        ]
        for record in variants:
            answer = hook.on_request(record)
            assert (answer is not None) == expected, (where, payload)
            if answer is not None:
                assert answer.status == 403
    assert refused  # the corpus reaches every location


@hsettings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="/ab*?[]!", max_size=6), min_size=1, max_size=4),
       st.text(alphabet="/ab*?[]!\n", max_size=8))
def test_path_globs_match_what_one_fnmatch_regex_matches(patterns: list[str],
                                                         path: str) -> None:
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))
    assert PathGlobs(patterns).match(path) == (regex.match(path) is not None)


def test_login_route_globs_keep_their_meaning() -> None:
    globs = PathGlobs(["/login", "/auth/*", "/token"])
    assert globs.match("/auth/refresh/x")
    assert globs.match("/login")
    assert not globs.match("/login/")
    assert not globs.match("/Login")
    assert not globs.match("/authx")
    assert PathGlobs.of([]) is None
