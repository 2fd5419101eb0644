"""The seed-001 rule shorthand, compiled to Prometheus alerting rules.

Accepted shape — a whole file::

    group: checkout          # optional; default: the file name without extension
    interval: 30s            # optional group interval
    alerts:                  # (``rules:`` is accepted as the list key too)
      - name: HighErrorRate
        metric: http_error_ratio   # a metric name or any PromQL expression
        condition: gt              # gt lt ge le eq ne  (or > < >= <= == !=)
        threshold: 0.05
        duration: 5m               # -> for (default 0: fire on the first evaluation)
        severity: critical         # -> labels.severity
        enabled: true              # false: the rule is left out
        labels: {team: web}        # optional, merged with severity
        annotations: {summary: "error ratio {{ $value }}"}
        summary: ...               # shortcut for annotations.summary (description too)

and the same rule entry (``alert:`` or ``name:``) inside an ordinary ``groups[].rules``
list. ``metric: m, condition: gt, threshold: 0.05`` becomes ``expr: m > 0.05``; an
expression that is not a plain selector is parenthesised: ``(a / b) > 0.05``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..config._duration import parse_duration_ms
from ._model import Rule, RuleGroup
from ._yaml import plain, pos

if TYPE_CHECKING:
    from ._files import _Ctx

__all__ = ["SHORTHAND_KEYS", "compile_shorthand", "is_shorthand_file", "shorthand_group"]

SHORTHAND_KEYS = ("metric", "condition", "threshold")
_OPS = {"gt": ">", "lt": "<", "ge": ">=", "le": "<=", "eq": "==", "ne": "!=",
        ">": ">", "<": "<", ">=": ">=", "<=": "<=", "==": "==", "!=": "!="}
_FIELDS = ("name", "alert", "metric", "condition", "threshold", "duration", "for",
           "severity", "enabled", "labels", "annotations", "summary", "description",
           "keep_firing_for")


def is_shorthand_file(root: yaml.Node) -> bool:
    if not isinstance(root, yaml.MappingNode):
        return False
    keys = {k.value for k, _ in root.value}
    return "groups" not in keys and bool(keys & {"alerts", "rules"})


def _number_text(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _selector_only(expr: str) -> bool:
    from ..promql import VectorSelector, parse

    try:
        return isinstance(parse(expr), VectorSelector)
    except Exception:  # the full expression is validated (and reported) later
        return False


def compile_shorthand(fields: dict[str, tuple[yaml.Node, yaml.Node]], ctx: _Ctx, gname: str,
                      index: int) -> Rule | None:
    """One shorthand entry to an alerting rule (``None`` when ``enabled: false``)."""
    from ._files import _check_expr, _template_problems

    values: dict[str, Any] = {k: plain(v) for k, (_, v) in fields.items()}
    for key in ("name", "alert", "metric", "condition", "severity", "summary", "description"):
        node = fields.get(key, (None, None))[1]
        if isinstance(node, yaml.ScalarNode):  # raw text: YAML 1.1 would read `Off` as false
            values[key] = None if node.tag.endswith(":null") else node.value
    name = str(values.get("alert") or values.get("name") or "")
    prefix = f'group "{gname}", rule {index}, "{name}": '
    first = next(iter(fields.values()))[0] if fields else None
    here = pos(first)

    def err(text: str, node: yaml.Node | None = None) -> None:
        at = pos(node) if node is not None else here
        ctx.err(f"{at[0]}:{at[1]}: {prefix}{text}", at)

    for key, (knode, _) in fields.items():
        if key not in _FIELDS:
            err(f"unknown field '{key}' in shorthand rule (known: {', '.join(_FIELDS)})", knode)
    if not name:
        err("shorthand rule needs 'name' (or 'alert')")
    if values.get("enabled", True) is False:
        return None
    metric = str(values.get("metric") or "").strip()
    cond = str(values.get("condition") or "")
    op = _OPS.get(cond)
    threshold = values.get("threshold")
    if not metric:
        err("shorthand rule needs 'metric'")
    if op is None:
        err(f"condition must be one of gt, lt, ge, le, eq, ne; got {cond!r}",
            fields.get("condition", (None, None))[1])
    if isinstance(threshold, str):
        with contextlib.suppress(ValueError):
            threshold = float(threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        err(f"threshold must be a number; got {threshold!r}",
            fields.get("threshold", (None, None))[1])
        threshold = 0
    lhs = metric if _selector_only(metric) else f"({metric})"
    expr = f"{lhs} {op or '>'} {_number_text(threshold)}"
    if metric and op is not None:
        problem = _check_expr(expr)
        if problem:
            err(problem, fields.get("metric", (None, None))[1])
    durations = {}
    for key in ("duration", "for", "keep_firing_for"):
        raw = values.get(key)
        if raw is None:
            continue
        try:
            durations[key] = (float(raw) if isinstance(raw, int | float)
                              else parse_duration_ms(str(raw)) / 1000.0)
        except ValueError:
            err(f'not a valid duration string: "{raw}"', fields[key][1])
    labels = {str(k): str(v) for k, v in (values.get("labels") or {}).items()}
    if values.get("severity") is not None:
        labels["severity"] = str(values["severity"])
    annotations = {str(k): str(v) for k, v in (values.get("annotations") or {}).items()}
    for key in ("summary", "description"):
        if values.get(key) is not None:
            annotations[key] = str(values[key])
    rule = Rule("alert", name, expr, durations.get("duration", durations.get("for", 0.0)),
                durations.get("keep_firing_for", 0.0), labels, annotations, here[0])
    for problem in _template_problems(rule):
        err(problem)
    return rule


def shorthand_group(root: yaml.MappingNode, file: str, ctx: _Ctx) -> RuleGroup:
    """A whole shorthand file as one group."""
    fields = {str(k.value): (k, v) for k, v in root.value}
    name = str(plain(fields["group"][1])) if "group" in fields else Path(file).stem
    interval = None
    if "interval" in fields:
        raw = plain(fields["interval"][1])
        try:
            interval = (float(raw) if isinstance(raw, int | float)
                        else parse_duration_ms(str(raw)) / 1000.0)
        except ValueError:
            at = pos(fields["interval"][1])
            ctx.err(f'{at[0]}:{at[1]}: not a valid duration string: "{raw}"', at)
    for key, (knode, _) in fields.items():
        if key not in ("group", "interval", "alerts", "rules"):
            at = pos(knode)
            ctx.err(f"{at[0]}:{at[1]}: unknown field '{key}' in shorthand file "
                    "(known: group, interval, alerts)", at)
    lst = fields.get("alerts", fields.get("rules", (None, None)))[1]
    rules: list[Rule] = []
    if isinstance(lst, yaml.SequenceNode):
        for i, node in enumerate(lst.value, 1):
            entry = ({str(k.value): (k, v) for k, v in node.value}
                     if isinstance(node, yaml.MappingNode) else {})
            rule = compile_shorthand(entry, ctx, name, i)
            if rule is not None:
                rules.append(rule)
    return RuleGroup(name, file, tuple(rules), interval)
