"""Compile detection patterns so that matching is linear in the input, or refuse them.

Two engines, chosen once at load:

* ``re2`` (the ``google-re2`` package, used when installed): an automaton engine whose
  matching time is linear in the input for every pattern it accepts. Patterns it cannot
  run that way (back-references, look-arounds) fail to compile and are rejected.
* ``re`` (the standard library, the fallback): a backtracking engine. A pattern is only
  accepted if its shape bounds the work per input position: no back-references, no
  look-arounds, no atomic groups, no possessive or unbounded repeats (``*``, ``+``,
  ``{n,}``; write ``{0,64}``), no repeat nested in another repeat, no repeated
  alternation. With every repeat bounded by B and nothing nested, a search costs
  O(n * B * len(pattern)): linear in n. The normaliser's input budget
  (``security.max_inspect_chars``) caps n.

The stdlib cannot be interrupted mid-match, so a wall-clock timeout is no guard under
``re``; the shape rules above are. Under ``re2`` the seed's ``union.*select`` is fine;
under ``re`` it is rejected with a hint, because ``re.search`` on it is quadratic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..exceptions import PatternRejectedError

__all__ = ["CompiledPattern", "compile_pattern", "re2_available", "resolve_engine"]

Engine = Literal["re2", "re"]
_MAX_BOUND = 1000

try:  # pragma: no cover - depends on the environment
    import re2 as _re2
except ImportError:  # pragma: no cover
    _re2 = None


def re2_available() -> bool:
    return _re2 is not None


def resolve_engine(choice: str) -> Engine:
    """``auto`` → ``re2`` when installed, else ``re``; ``re2`` demands the package."""
    if choice == "re":
        return "re"
    if _re2 is not None:
        return "re2"
    if choice == "re2":
        raise PatternRejectedError("*", "", "engine 're2' requested but google-re2 is not "
                                   "installed (pip install 'watchkeeper[re2]')")
    return "re"


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """A compiled pattern, its ``search`` (returns a match object or None) and ``test``
    (whether it matches anywhere: the cheapest call each engine offers)."""

    source: str
    engine: Engine
    search: Callable[[str], Any]
    test: Callable[[str], bool]


def compile_pattern(rule_id: str, pattern: str, engine: Engine) -> CompiledPattern:
    """Compile ``pattern`` (matched against lower-case text) or raise
    :class:`PatternRejectedError` saying why it cannot run in linear time."""
    if engine == "re2":
        assert _re2 is not None
        options = _re2.Options()
        options.log_errors = False
        options.case_sensitive = False
        try:
            compiled = _re2.compile(pattern, options)
        except Exception as exc:  # re2._re2.Error is not importable by name
            message = exc.args[0] if exc.args else exc
            if isinstance(message, bytes):
                message = message.decode("utf-8", "replace")
            raise PatternRejectedError(rule_id, pattern, f"re2 cannot compile it: {message}"
                                       ) from exc
        return CompiledPattern(pattern, engine, compiled.search, _re2_test(compiled))
    try:
        parsed = _parse(pattern)
    except re.error as exc:
        raise PatternRejectedError(rule_id, pattern, f"invalid pattern: {exc}") from exc
    problem = _shape_problem(parsed, inside_repeat=False)
    if problem is not None:
        raise PatternRejectedError(rule_id, pattern, problem)
    return stdlib_pattern(pattern)


def stdlib_pattern(pattern: str) -> CompiledPattern:
    """A :class:`CompiledPattern` under ``re`` (the caller vouches for its shape)."""
    search = re.compile(pattern, re.IGNORECASE).search
    return CompiledPattern(pattern, "re", search, lambda text: search(text) is not None)


def _re2_test(compiled: Any) -> Callable[[str], bool]:
    """A yes/no search that calls RE2 directly: google-re2's ``search`` builds a
    generator, offset tables and a match object around each call (about 1.5 µs of
    Python per call, twice the matching itself on a short path). Falls back to
    ``search`` when the binding's internals are not the ones this was written against."""
    search = compiled.search
    try:
        match = compiled._regexp.Match
        anchor = _re2._re2.RE2.Anchor.UNANCHORED

        def test(text: str) -> bool:
            data = text.encode("utf-8", "replace")
            return bool(match(anchor, data, 0, len(data))[0][0] != -1)

        for probe in ("", "a", "é/../x", "select * from t", "\u0000<script>", "-- 1=1"):
            if test(probe) != (search(probe) is not None):
                raise ValueError(probe)
    except Exception:  # a different binding version: use its public API
        return lambda text: search(text) is not None
    return test


def _parse(pattern: str) -> Any:
    from re import _parser  # type: ignore[attr-defined]

    return _parser.parse(pattern)


def _shape_problem(items: Any, *, inside_repeat: bool) -> str | None:
    from re import _constants as c  # type: ignore[attr-defined]

    for op, arg in items:
        if op in (c.GROUPREF, c.GROUPREF_EXISTS):
            return "back-references need backtracking"
        if op in (c.ASSERT, c.ASSERT_NOT):
            return "look-arounds are not linear-time; match the context instead"
        if op in (c.ATOMIC_GROUP, c.POSSESSIVE_REPEAT):
            return "atomic groups and possessive repeats are not supported"
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            _low, high, sub = arg
            if high == c.MAXREPEAT or high > _MAX_BOUND:
                return ("unbounded repeat (*, +, {n,}) is quadratic under re.search; bound "
                        "it, e.g. .{0,100} instead of .*, or install google-re2")
            if inside_repeat and high > 1:
                return "nested repeats can backtrack exponentially"
            problem = _shape_problem(sub, inside_repeat=high > 1 or inside_repeat)
            if problem is not None:
                return problem
            if high > 1 and _has_branch(sub):
                return "repeated alternation can backtrack exponentially; use a class"
        elif op == c.SUBPATTERN:
            problem = _shape_problem(arg[-1], inside_repeat=inside_repeat)
            if problem is not None:
                return problem
        elif op == c.BRANCH:
            for branch in arg[1]:
                problem = _shape_problem(branch, inside_repeat=inside_repeat)
                if problem is not None:
                    return problem
    return None


def _has_branch(items: Any) -> bool:
    from re import _constants as c  # type: ignore[attr-defined]

    for op, arg in items:
        if op == c.BRANCH:
            return True
        if op == c.SUBPATTERN and _has_branch(arg[-1]):
            return True
    return False
