"""Match normalised request parts against the rule sets.

All rules that apply to a location are joined into one pattern, so benign text costs one
search per location; only text that matches is searched rule by rule to name the
findings. Verdicts for recent raw values are cached: user agents, paths and cookies repeat
across requests far more often than they change. A verdict is a pure function of the
location and the raw value (the rules are fixed for an inspector's life), so a cached
verdict is the one inspection would give; the caches are bounded in entries and in total
characters, and a value evicted is simply inspected again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..exceptions import PatternRejectedError
from ._joint import SEPARATOR, joint_source
from ._normalise import normalise, normalise_query, nothing_to_undo
from ._patterns import CompiledPattern, Engine, compile_pattern, stdlib_pattern
from ._rules import Rule

__all__ = ["Finding", "Inspector", "Verdicts"]

_CACHE_SIZE = 4096  # entries per location
_CACHE_CHARS = 1 << 20  # characters (or bytes) of keys per location
_CACHE_MAX_LEN = 512  # longer paths/queries are rarely repeated: do not let them churn it
# Headers (cookies above all) repeat per client however long they are.
_HEADER_CACHE_MAX_LEN = 8192
_SEPARATOR = "\x1e"  # between query parameters: no rule treats it as an operator


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule hit. ``location`` says where (``query``, ``header:user-agent``, ...);
    ``offset``/``length`` point into the normalised text. The matched value itself is
    never kept: it may carry a password or a token."""

    rule_id: str
    category: str
    severity: str
    location: str
    offset: int
    length: int


class Verdicts:
    """Findings per raw value for one location: a plain dict (``entries``, read on the
    hot path with its own ``get``) bounded in entries and in total key length. When full
    it is emptied rather than kept in LRU order: that costs nothing on a hit."""

    __slots__ = ("chars", "entries", "max_len")

    def __init__(self, max_len: int) -> None:
        self.entries: dict[str | bytes, tuple[Finding, ...]] = {}
        self.chars = 0
        self.max_len = max_len

    def remember(self, raw: str | bytes, found: tuple[Finding, ...]) -> None:
        size = len(raw)
        if size > self.max_len:
            return
        entries = self.entries
        if len(entries) >= _CACHE_SIZE or self.chars + size > _CACHE_CHARS:
            entries.clear()
            self.chars = 0
        entries[raw] = found
        self.chars += size


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    pattern: CompiledPattern


class Inspector:
    """Finds attacks in request parts.

    Args:
        rules: the rules to apply (shipped and custom), compiled once here.
        engine: ``re2`` or ``re`` (see ``_patterns``).
        max_chars: the input budget per location, in characters.

    Raises:
        PatternRejectedError: for the first rule whose pattern is not linear-time.
    """

    def __init__(self, rules: Iterable[Rule], engine: Engine, max_chars: int = 8192,
                 max_body_bytes: int = 65536) -> None:
        self.engine = engine
        self.max_chars = max_chars
        self.max_body_bytes = max_body_bytes
        self.rules = [_Compiled(rule, compile_pattern(rule.id, rule.pattern, engine))
                      for rule in rules]
        self._by_location: dict[str, tuple[CompiledPattern | None, list[_Compiled]]] = {}
        self._cache: dict[str, Verdicts] = {}
        self._raw_cache: dict[str, Verdicts] = {}  # header values as the server's bytes
        self._lock = threading.Lock()
        self._joint: CompiledPattern | bool | None = False  # False: not built yet

    def _for(self, location: str) -> tuple[CompiledPattern | None, list[_Compiled]]:
        found = self._by_location.get(location)
        if found is None:
            applicable = [c for c in self.rules
                          if not c.rule.locations or location in c.rule.locations]
            combined = None
            if applicable:
                source = "|".join(f"(?:{c.rule.pattern})" for c in applicable)
                # Each part passed the shape check; an alternation of them adds no nesting.
                combined = _compile_trusted(source, self.engine)
            found = (combined, applicable)
            with self._lock:
                self._by_location[location] = found
        return found

    def prepare(self, locations: Iterable[str]) -> None:
        """Compile the joined pattern of each location (and the path+query one) now
        rather than on first use."""
        for location in locations:
            self._for(location)
            self.verdicts(location)
        self._joint_pattern()

    def verdicts(self, location: str) -> Verdicts:
        """The verdict cache of ``location`` for raw ``str`` values."""
        cache = self._cache.get(location)
        if cache is None:
            limit = _CACHE_MAX_LEN if location in ("path", "query") else _HEADER_CACHE_MAX_LEN
            cache = self._cache.setdefault(location, Verdicts(limit))
        return cache

    def raw_verdicts(self, location: str) -> Verdicts:
        """The verdict cache of ``location`` keyed by the raw ``bytes`` an ASGI server
        hands over: a hit costs one hash, no decoding (see :meth:`inspect_bytes`)."""
        cache = self._raw_cache.get(location)
        if cache is None:
            cache = self._raw_cache.setdefault(location, Verdicts(_HEADER_CACHE_MAX_LEN))
        return cache

    def inspect_text(self, location: str, text: str) -> tuple[Finding, ...]:
        """Findings in already-normalised ``text``."""
        combined, applicable = self._for(location)
        if combined is None or not combined.test(text):
            return ()
        out = []
        for compiled in applicable:
            match = compiled.pattern.search(text)
            if match is not None:
                rule = compiled.rule
                out.append(Finding(rule.id, rule.category, rule.severity, location,
                                   match.start(), match.end() - match.start()))
        return tuple(out)

    def inspect(self, location: str, raw: str) -> tuple[Finding, ...]:
        """Findings in one raw (still encoded) value; query strings are split first."""
        cache = self._cache.get(location) or self.verdicts(location)
        cached = cache.entries.get(raw)
        if cached is not None:
            return cached
        found = self.inspect_uncached(location, raw)
        cache.remember(raw, found)
        return found

    def inspect_uncached(self, location: str, raw: str) -> tuple[Finding, ...]:
        """What :meth:`inspect` finds, always computed (the reference the caches must
        agree with)."""
        if location == "query":
            text = normalise_query(raw, self.max_chars)
        else:
            text = normalise(raw, self.max_chars)
        return self.inspect_text(location, text)

    def inspect_bytes(self, location: str, raw: bytes | bytearray | memoryview
                      ) -> tuple[Finding, ...]:
        """:meth:`inspect` of a header value as ASGI bytes (read as latin-1, the
        bijection HTTP/1.1 servers use), cached by those bytes."""
        value = bytes(raw)
        cache = self._raw_cache.get(location) or self.raw_verdicts(location)
        cached = cache.entries.get(value)
        if cached is not None:
            return cached
        found = self.inspect_uncached(location, value.decode("latin-1"))
        cache.remember(value, found)
        return found

    def _joint_pattern(self) -> CompiledPattern | None:
        """The path+query pattern (see ``_joint``), when both locations apply the same
        rules and every rule can be rewritten; None otherwise."""
        joint = self._joint
        if joint is False:
            _, for_path = self._for("path")
            _, for_query = self._for("query")
            joint = None
            # Only for re2: a backtracking engine gains nothing from one longer search,
            # and the widened anchors cost it its first-character scan (measured slower).
            same_rules = [c.rule.id for c in for_path] == [c.rule.id for c in for_query]
            if self.engine == "re2" and for_path and same_rules:
                source = joint_source([c.rule.pattern for c in for_path])
                if source is not None:
                    try:
                        joint = _compile_trusted(source, self.engine)
                    except PatternRejectedError:  # e.g. beyond re2's program size
                        joint = None
            self._joint = joint
        return joint  # type: ignore[return-value]

    def inspect_url(self, path: str, query: str) -> tuple[Finding, ...]:
        """Findings in a raw path and query string: :meth:`inspect` of each, but a pair
        seen for the first time costs one search when it is clean (nearly always)."""
        paths = self._cache.get("path")
        queries = self._cache.get("query")
        if paths is not None and queries is not None:
            in_path = paths.entries.get(path)
            in_query = queries.entries.get(query) if query else ()
            if in_path is not None and in_query is not None:
                return in_path + in_query if in_query else in_path
            joint = self._joint_pattern() if in_path is None and in_query is None else None
            if joint is not None and not joint.test(joint_text(path, query,
                                                                self.max_chars)):
                _remember_clean(paths, path)
                _remember_clean(queries, query)
                return ()
        found = self.inspect("path", path)
        return found + self.inspect("query", query) if query else found

    def inspect_body(self, body: bytes) -> tuple[Finding, ...]:
        """Findings in a request body (first ``max_body_bytes``; invalid UTF-8 replaced).

        JSON is parsed and each key and string value is normalised on its own (the quotes
        of JSON syntax are not SQL quotes); form bodies are split like query strings;
        anything else, or JSON that does not parse (truncated, absurdly nested), is read
        as text.
        """
        # re2 is linear with a small constant; the stdlib fallback's constant is the
        # largest bound in a rule, so under it bodies get the same budget as headers.
        limit = (max(self.max_chars, self.max_body_bytes) if self.engine == "re2"
                 else self.max_chars)
        raw = body[:limit]
        head = raw[:1]
        if head in (b"{", b"["):
            strings = _json_strings(raw, limit)
            if strings is not None:
                norm = _SEPARATOR.join(normalise(part, limit) for part in strings)
                return self.inspect_text("body", norm)
        text = raw.decode("utf-8", "replace")
        if "=" in text[:200] and head not in (b"<", b"{", b"["):
            norm = normalise_query(text, limit)
        else:
            norm = normalise(text, limit)
        return self.inspect_text("body", norm)

    def inspect_many(self, parts: Sequence[tuple[str, str]]) -> list[Finding]:
        out: list[Finding] = []
        for location, raw in parts:
            if raw:
                out.extend(self.inspect(location, raw))
        return out


def _remember_clean(cache: Verdicts, raw: str) -> None:
    """:meth:`Verdicts.remember` of a clean verdict, inlined for the unique-URL path."""
    size = len(raw)
    if size <= cache.max_len:
        entries = cache.entries
        if len(entries) >= _CACHE_SIZE or cache.chars + size > _CACHE_CHARS:
            entries.clear()
            cache.chars = 0
        entries[raw] = ()
        cache.chars += size


def joint_text(path: str, query: str, limit: int) -> str:
    """``normalise(path) + SEPARATOR + normalise_query(query)`` (see ``_joint``), built in
    one pass when neither part has anything to undo (the common case). The fused test is
    exact: the separator is neither a blank nor part of ``*/``, so no two-character
    sequence the test looks for can straddle it."""
    if len(path) <= limit and len(query) <= limit:
        tail = query.replace("&", _SEPARATOR)
        if "+" in tail:
            tail = tail.replace("+", " ")
        text = path + SEPARATOR + tail
        if text.isascii() and nothing_to_undo(text):
            return text.lower()
    return normalise(path, limit) + SEPARATOR + normalise_query(query, limit)


def _json_strings(raw: bytes, limit: int) -> list[str] | None:
    """Every key and string value of a JSON document, walked without recursion; None when
    it is not JSON (orjson also refuses nesting deeper than 1024)."""
    import orjson

    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    out: list[str] = []
    total = 0
    stack = [document]
    while stack and total < limit:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            total += len(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                out.append(key)
                total += len(key)
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return out


def _compile_trusted(source: str, engine: Engine) -> CompiledPattern:
    if engine == "re2":
        return compile_pattern("<combined>", source, engine)
    return stdlib_pattern(source)
