"""Prometheus' alert templates: ``$labels``, ``$value``, ``$externalLabels`` and its functions.

Labels and annotations of alerting rules are Go templates run with the data Prometheus
gives them and the function map of Prometheus' ``template`` package (humanize*, query,
first, label, value, sortByLabel, ...). An unknown function fails when the rule file
loads; an execution error expands to ``<error expanding template: ...>`` as in Prometheus.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .._gotemplate import TEXT_FUNCS, TemplateSet, go_float, go_str
from ..config._duration import parse_duration_ms
from ..exceptions import RuleTemplateError

__all__ = ["Expander", "QueryFunc", "QuerySample", "check_template", "expand",
           "prometheus_funcs"]

_DEFS = ("{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
         "{{$externalURL := .ExternalURL}}{{$value := .Value}}")


@dataclass(frozen=True, slots=True)
class QuerySample:
    """One element of a ``query`` result as templates see it: ``.Labels`` and ``.Value``."""

    Labels: Mapping[str, str]
    Value: float


#: ``query`` in templates: (expression, evaluation time in seconds) -> samples.
QueryFunc = Callable[[str, float], Sequence[QuerySample]]


def _g4(v: float) -> str:
    """Go's ``%.4g``."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return format(v, ".4g")


def _float(v: Any) -> float:
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError as exc:
            raise ValueError(f'strconv.ParseFloat: parsing "{v}": invalid syntax') from exc
    if isinstance(v, datetime):
        return v.timestamp()
    return float(v)


def humanize(v: Any) -> str:
    x = _float(v)
    if x == 0 or math.isnan(x) or math.isinf(x):
        return _g4(x)
    prefix = ""
    if abs(x) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(x) < 1000:
                break
            prefix, x = p, x / 1000
        return _g4(x) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(x) >= 1:
            break
        prefix, x = p, x * 1000
    return _g4(x) + prefix


def humanize1024(v: Any) -> str:
    x = _float(v)
    if abs(x) <= 1 or math.isnan(x) or math.isinf(x):
        return _g4(x)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(x) < 1024:
            break
        prefix, x = p, x / 1024
    return _g4(x) + prefix


def humanize_duration(v: Any) -> str:
    x = _float(v)
    if math.isnan(x) or math.isinf(x):
        return _g4(x)
    if x == 0:
        return _g4(x) + "s"
    if abs(x) >= 1:
        sign = "-" if x < 0 else ""
        x = abs(x)
        whole = int(x)
        seconds, minutes = whole % 60, (whole // 60) % 60
        hours, days = (whole // 3600) % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(x)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(x) >= 1:
            break
        prefix, x = p, x * 1000
    return f"{_g4(x)}{prefix}s"


def _go_time(t: datetime) -> str:
    """Go's ``time.Time.String()`` in UTC (nanosecond digits trimmed)."""
    t = t.astimezone(UTC)
    frac = f".{t.microsecond:06d}".rstrip("0") if t.microsecond else ""
    return t.strftime("%Y-%m-%d %H:%M:%S") + frac + " +0000 UTC"


def humanize_timestamp(v: Any) -> str:
    x = _float(v)
    if math.isnan(x) or math.isinf(x):
        return _g4(x)
    return _go_time(datetime.fromtimestamp(x, UTC))


class GoTime(datetime):
    """A ``time.Time`` result (``toTime``) that prints as Go prints it."""

    def __str__(self) -> str:
        return _go_time(self)


def _to_time(v: Any) -> GoTime:
    x = _float(v)
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"cannot convert {_g4(x)} to time.Time")
    d = datetime.fromtimestamp(x, UTC)
    return GoTime(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond, UTC)


def _parse_duration(text: Any) -> float:
    return parse_duration_ms(str(text)) / 1000.0


def _first(v: Sequence[QuerySample]) -> QuerySample:
    if v:
        return v[0]
    raise ValueError("first() called on vector with no elements")


def _sort_by_label(label: str, v: Sequence[QuerySample]) -> list[QuerySample]:
    return sorted(v, key=lambda s: s.Labels.get(label, ""))


def _graph_link(expr: str) -> str:
    return "/graph?g0.expr=" + urllib.parse.quote(str(expr), safe="") + "&g0.tab=0"


def _table_link(expr: str) -> str:
    return "/graph?g0.expr=" + urllib.parse.quote(str(expr), safe="") + "&g0.tab=1"


def prometheus_funcs(query: QueryFunc | None = None, *, now: float = 0.0,
                     external_url: str = "") -> dict[str, Callable[..., Any]]:
    """Prometheus' template function map; ``query`` runs at ``now`` (the eval time)."""

    def run_query(expr: str) -> list[QuerySample]:
        if query is None:
            raise ValueError("query is not available in this template")
        return list(query(str(expr), now))

    url = urllib.parse.urlsplit(external_url)
    return {
        **TEXT_FUNCS,
        "query": run_query,
        "first": _first,
        "label": lambda name, s: s.Labels.get(str(name), "") if s is not None else "",
        "value": lambda s: s.Value,
        "strvalue": lambda s: s.Labels.get("__value__", ""),
        "args": lambda *a: {f"arg{i}": x for i, x in enumerate(a)},
        "graphLink": _graph_link,
        "tableLink": _table_link,
        "sortByLabel": _sort_by_label,
        "humanize": humanize,
        "humanize1024": humanize1024,
        "humanizeDuration": humanize_duration,
        "humanizePercentage": lambda v: _g4(_float(v) * 100) + "%",
        "humanizeTimestamp": humanize_timestamp,
        "toTime": _to_time,
        "parseDuration": _parse_duration,
        "pathPrefix": lambda: url.path,
        "externalURL": lambda: external_url,
        "stripPort": lambda s: str(s).rsplit(":", 1)[0] if ":" in str(s) and
        not str(s).endswith("]") else str(s),
    }


class _RuleTemplates(TemplateSet):
    error = RuleTemplateError


_CHECK_SET = _RuleTemplates(prometheus_funcs())


def _with_tmpl(tset: TemplateSet) -> None:
    def tmpl(name: str, data: Any) -> str:
        body = tset.defines.get(str(name))
        if body is None:
            raise ValueError(f'no such template "{name}"')
        from .._gotemplate import Template

        return Template(tset, str(name), body).execute(data)

    tset.funcs["tmpl"] = tmpl


_with_tmpl(_CHECK_SET)


def check_template(text: str, name: str) -> None:
    """Parse ``text`` as Prometheus would at load time; raises RuleTemplateError."""
    _CHECK_SET.parse(_DEFS + text, name)


class Expander:
    """Expands one alerting rule's templates; parsed once, bound to each evaluation."""

    def __init__(self, name: str, *, external_labels: Mapping[str, str],
                 external_url: str = "") -> None:
        self.name = name
        self.external_labels = dict(external_labels)
        self.external_url = external_url
        self.tset = _RuleTemplates(prometheus_funcs(external_url=external_url))
        _with_tmpl(self.tset)
        self._parsed: dict[str, Any] = {}

    def bind(self, query: QueryFunc | None, now: float) -> None:
        """Point ``query`` (and friends) at this evaluation's query function and time."""
        fresh = prometheus_funcs(query, now=now, external_url=self.external_url)
        self.tset.funcs["query"] = fresh["query"]

    def expand(self, text: str, labels: Mapping[str, str], value: float) -> str:
        if "{{" not in text:
            return text
        data = {"Labels": labels, "ExternalLabels": self.external_labels,
                "ExternalURL": self.external_url, "Value": value}
        try:
            tmpl = self._parsed.get(text)
            if tmpl is None:
                tmpl = self.tset.parse(_DEFS + text, f"__alert_{self.name}")
                self._parsed[text] = tmpl
            return str(tmpl.execute(data))
        except RuleTemplateError as exc:
            return f"<error expanding template: {exc}>"


def expand(text: str, name: str, *, labels: Mapping[str, str], value: float,
           external_labels: Mapping[str, str], external_url: str = "",
           query: QueryFunc | None = None, now: float = 0.0) -> str:
    """Expand one label/annotation template the way Prometheus' alerting rule does."""
    ex = Expander(name.removeprefix("__alert_"), external_labels=external_labels,
                  external_url=external_url)
    ex.bind(query, now)
    return ex.expand(text, labels, value)


def value_text(v: float) -> str:
    """``%v`` of a float64 (what ``{{ $value }}`` prints)."""
    return go_float(v)


__all__ += ["go_str", "humanize", "humanize1024", "humanize_duration", "humanize_timestamp",
            "value_text"]
