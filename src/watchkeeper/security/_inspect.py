"""Match normalised request parts against the rule sets.

All rules that apply to a location are joined into one pattern, so benign text costs one
search per location; only text that matches is searched rule by rule to name the
findings. Verdicts for recent raw values are cached: user agents, paths and cookies repeat
across requests far more often than they change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..exceptions import PatternRejectedError
from ._joint import SEPARATOR, joint_source
from ._normalise import normalise, normalise_query
from ._patterns import CompiledPattern, Engine, compile_pattern, stdlib_pattern
from ._rules import Rule

__all__ = ["Finding", "Inspector"]

_CACHE_SIZE = 4096
_CACHE_MAX_LEN = 512  # longer values are rarely repeated; do not let them fill the cache
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
        self._cache: dict[str, dict[str, tuple[Finding, ...]]] = {}
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
            self._cache.setdefault(location, {})
        self._joint_pattern()

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
        cache = self._cache.get(location)
        if cache is None:
            cache = self._cache.setdefault(location, {})
        cached = cache.get(raw)
        if cached is not None:
            return cached
        if location == "query":
            text = normalise_query(raw, self.max_chars)
        else:
            text = normalise(raw, self.max_chars)
        found = self.inspect_text(location, text)
        _remember(cache, raw, found)
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
            in_path = paths.get(path)
            in_query = queries.get(query) if query else ()
            if in_path is not None and in_query is not None:
                return in_path + in_query
            joint = self._joint_pattern() if in_path is None and in_query is None else None
            if joint is not None:
                limit = self.max_chars
                path_text = normalise(path, limit)
                query_text = normalise_query(query, limit)
                if not joint.test(path_text + SEPARATOR + query_text):
                    _remember(paths, path, ())
                    _remember(queries, query, ())
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


def _remember(cache: dict[str, tuple[Finding, ...]], raw: str,
              found: tuple[Finding, ...]) -> None:
    if len(raw) <= _CACHE_MAX_LEN:
        if len(cache) >= _CACHE_SIZE:
            cache.clear()  # cheaper than LRU bookkeeping on every hit
        cache[raw] = found


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
