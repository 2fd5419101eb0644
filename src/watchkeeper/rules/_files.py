"""Rule files: Prometheus' ``groups:`` format, validated the way ``promtool check rules`` does.

Every problem is collected (not just the first) and worded as promtool words it, prefixed
with the file and, where promtool has one, ``line:column``. Seed shorthand rules (``metric``
+ ``condition`` + ``threshold``) are compiled to PromQL first; see ``_shorthand``.
"""

from __future__ import annotations

import glob as globlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..config._duration import parse_duration_ms
from ..exceptions import PromQLParseError, PromQLTypeError, RuleFileError, TemplateError
from ..promql import parse as parse_promql
from ._model import Rule, RuleGroup
from ._shorthand import SHORTHAND_KEYS, compile_shorthand, is_shorthand_file
from ._yaml import compose, plain, pos

__all__ = ["CheckResult", "check_file", "load_rule_files", "parse_rule_text"]

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

_GROUP_FIELDS = ("name", "interval", "query_offset", "limit", "rules", "labels")
_RULE_FIELDS = ("record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations")


@dataclass
class CheckResult:
    """Outcome of reading one file: the groups and every problem (promtool's wording)."""

    file: str
    groups: list[RuleGroup] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    first_pos: tuple[int, int] = (0, 0)

    @property
    def rule_count(self) -> int:
        return sum(len(g.rules) for g in self.groups)

    def raise_for_errors(self) -> None:
        if self.errors:
            line, col = self.first_pos
            raise RuleFileError(self.errors[0], self.file, line, col,
                                problems=[f"{self.file}: {e}" for e in self.errors])


class _Ctx:
    def __init__(self, ignore_unknown: bool) -> None:
        self.ignore_unknown = ignore_unknown
        self.unmarshal: list[str] = []   # yaml decode problems (reported alone, like yaml.v3)
        self.errors: list[str] = []
        self.first: tuple[int, int] | None = None

    def err(self, text: str, at: tuple[int, int] = (0, 0)) -> None:
        self.errors.append(text)
        if self.first is None:
            self.first = at

    def bad_type(self, node: yaml.Node, want: str) -> None:
        line, _ = pos(node)
        tag = node.tag.rsplit(":", 1)[-1]
        shown = f" `{node.value}`" if isinstance(node, yaml.ScalarNode) else ""
        self.unmarshal.append(f"line {line}: cannot unmarshal !!{tag}{shown} into {want}")
        if self.first is None:
            self.first = pos(node)

    def unknown(self, key: yaml.Node, where: str) -> None:
        if self.ignore_unknown:
            return
        line, _ = pos(key)
        self.unmarshal.append(f"line {line}: field {key.value} not found in type {where}")
        if self.first is None:
            self.first = pos(key)


def _mapping(node: yaml.Node | None, ctx: _Ctx,
             want: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
        return {}
    if not isinstance(node, yaml.MappingNode):
        ctx.bad_type(node, want)
        return {}
    return {str(k.value): (k, v) for k, v in node.value}


def _string(node: yaml.Node | None, ctx: _Ctx) -> str:
    if node is None:
        return ""
    if not isinstance(node, yaml.ScalarNode):
        ctx.bad_type(node, "string")
        return ""
    return "" if node.tag.endswith(":null") else str(node.value)


def _str_map(node: yaml.Node | None, ctx: _Ctx) -> dict[str, str]:
    return {k: _string(v, ctx) for k, (_, v) in _mapping(node, ctx, "map[string]string").items()}


def _duration(node: yaml.Node | None, ctx: _Ctx) -> float:
    text = _string(node, ctx)
    if not text:
        return 0.0
    try:
        return parse_duration_ms(text) / 1000.0
    except ValueError:
        line, col = pos(node)
        ctx.err(f"{line}:{col}: not a valid duration string: \"{text}\"", (line, col))
        return 0.0


def _check_expr(expr: str) -> str | None:
    try:
        parse_promql(expr)
    except (PromQLParseError, PromQLTypeError) as exc:
        if isinstance(exc, PromQLParseError):
            return f"could not parse expression: {exc.line}:{exc.column}: parse error: " \
                   f"{exc.message}"
        return f"could not parse expression: {exc}"
    return None


def _template_problems(rule: Rule) -> list[str]:
    from ._templates import check_template

    out = []
    for kind, values in (("label", rule.labels), ("annotation", rule.annotations)):
        for key, text in values.items():
            try:
                check_template(text, f"__alert_{rule.name}")
            except TemplateError as exc:
                out.append(f'{kind} "{key}": {exc}')
    return out


def _rule(node: yaml.Node, gname: str, index: int, ctx: _Ctx) -> Rule | None:
    fields = _mapping(node, ctx, "rulefmt.Rule")
    if any(k in fields for k in SHORTHAND_KEYS) and "expr" not in fields:
        return compile_shorthand(fields, ctx, gname, index)
    for key, (knode, _) in fields.items():
        if key not in _RULE_FIELDS:
            ctx.unknown(knode, "rulefmt.RuleNode")
    rec_node = fields.get("record", (None, None))[1]
    alert_node = fields.get("alert", (None, None))[1]
    expr_node = fields.get("expr", (None, None))[1]
    record, alert = _string(rec_node, ctx), _string(alert_node, ctx)
    expr = _string(expr_node, ctx)
    for_ = _duration(fields.get("for", (None, None))[1], ctx)
    keep = _duration(fields.get("keep_firing_for", (None, None))[1], ctx)
    labels = _str_map(fields.get("labels", (None, None))[1], ctx)
    annotations = _str_map(fields.get("annotations", (None, None))[1], ctx)
    name = alert or record
    prefix = f'group "{gname}", rule {index}, "{name}": '
    rl, rc = pos(rec_node)
    al, ac = pos(alert_node)

    def at(node_pos: tuple[int, int], text: str, alt: tuple[int, int] | None = None) -> None:
        where = f"{node_pos[0]}:{node_pos[1]}: "
        if alt is not None:
            where += f"{alt[0]}:{alt[1]}: "
        ctx.err(where + prefix + text, node_pos)

    if record and alert:
        at((rl, rc), "only one of 'record' and 'alert' must be set", (al, ac))
    if not record and not alert:
        at((rl, rc), "one of 'record' or 'alert' must be set")
    if not expr:
        at(pos(expr_node), "field 'expr' must be set in rule")
    else:
        problem = _check_expr(expr)
        if problem:
            at(pos(expr_node), problem)
    if record:
        if annotations:
            at((rl, rc), "invalid field 'annotations' in recording rule")
        if for_:
            at((rl, rc), "invalid field 'for' in recording rule")
        if keep:
            at((rl, rc), "invalid field 'keep_firing_for' in recording rule")
        if not METRIC_NAME.match(record):
            at((rl, rc), f"invalid recording rule name: {record}")
    for key in labels:
        if not LABEL_NAME.match(key) or key == "__name__":
            ctx.err(prefix + f"invalid label name: {key}", pos(node))
    for key in annotations:
        if not LABEL_NAME.match(key):
            ctx.err(prefix + f"invalid annotation name: {key}", pos(node))
    rule = Rule("alert" if alert else "record", name, expr, for_, keep, labels, annotations,
                pos(node)[0])
    if alert:
        for problem in _template_problems(rule):
            ctx.err(prefix + problem, pos(node))
    return rule


def _group(node: yaml.Node, file: str, ctx: _Ctx, seen: set[str]) -> RuleGroup:
    fields = _mapping(node, ctx, "rulefmt.RuleGroup")
    for key, (knode, _) in fields.items():
        if key not in _GROUP_FIELDS:
            ctx.unknown(knode, "rulefmt.RuleGroup")
    name = _string(fields.get("name", (None, None))[1], ctx)
    line, col = pos(node)
    if not name:
        ctx.err(f"{line}:{col}: Groupname must not be empty", (line, col))
    if name in seen:
        ctx.err(f'{line}:{col}: groupname: "{name}" is repeated in the same file', (line, col))
    seen.add(name)
    interval_node = fields.get("interval", (None, None))[1]
    interval = _duration(interval_node, ctx) if interval_node is not None else None
    offset_node = fields.get("query_offset", (None, None))[1]
    offset = _duration(offset_node, ctx) if offset_node is not None else None
    limit = 0
    limit_node = fields.get("limit", (None, None))[1]
    if limit_node is not None:
        value = plain(limit_node)
        if isinstance(value, int) and not isinstance(value, bool):
            limit = value
        elif value is not None:
            ctx.bad_type(limit_node, "int")
    labels = _str_map(fields.get("labels", (None, None))[1], ctx)
    for key in labels:
        if not LABEL_NAME.match(key) or key == "__name__":
            ctx.err(f"invalid label name: {key}", (line, col))
    rules_node = fields.get("rules", (None, None))[1]
    rules: list[Rule] = []
    if isinstance(rules_node, yaml.SequenceNode):
        for i, rnode in enumerate(rules_node.value, 1):
            rule = _rule(rnode, name, i, ctx)
            if rule is not None:
                rules.append(rule)
    elif rules_node is not None and not rules_node.tag.endswith(":null"):
        ctx.bad_type(rules_node, "[]rulefmt.Rule")
    return RuleGroup(name, file, tuple(rules), interval, limit, offset, labels)


def parse_rule_text(text: str, file: str = "<rules>", *,
                    ignore_unknown_fields: bool = False) -> CheckResult:
    """Parse and validate one rule file's text; never raises for content problems."""
    result = CheckResult(file)
    try:
        root = compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        result.errors.append(f"yaml: line {line}: {problem}")
        result.first_pos = (line, (mark.column + 1) if mark is not None else 0)
        return result
    if root is None:
        return result
    ctx = _Ctx(ignore_unknown_fields)
    if isinstance(root, yaml.MappingNode) and is_shorthand_file(root):
        from ._shorthand import shorthand_group

        groups = [shorthand_group(root, file, ctx)]
    else:
        top = _mapping(root, ctx, "rulefmt.RuleGroups")
        for key, (knode, _) in top.items():
            if key != "groups":
                ctx.unknown(knode, "rulefmt.RuleGroups")
        groups = []
        seen: set[str] = set()
        gnode = top.get("groups", (None, None))[1]
        if isinstance(gnode, yaml.SequenceNode):
            groups = [_group(g, file, ctx, seen) for g in gnode.value]
        elif gnode is not None and not gnode.tag.endswith(":null"):
            ctx.bad_type(gnode, "[]rulefmt.RuleGroup")
    if ctx.unmarshal:
        result.errors = ["yaml: unmarshal errors:\n  " + "\n  ".join(ctx.unmarshal)]
    else:
        result.groups = groups
        result.errors = ctx.errors
    result.first_pos = ctx.first or (0, 0)
    return result


def check_file(path: str | Path, *, ignore_unknown_fields: bool = False) -> CheckResult:
    """Read and validate one file (``promtool check rules`` for a single file)."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return CheckResult(file, errors=[f"{exc.strerror or exc}"])
    return parse_rule_text(text, file, ignore_unknown_fields=ignore_unknown_fields)


def _expand(patterns: Iterable[str | Path]) -> list[str]:
    files: list[str] = []
    for pattern in patterns:
        text = str(pattern)
        matches = sorted(globlib.glob(text)) if globlib.has_magic(text) else [text]
        for match in matches:
            if match not in files:
                files.append(match)
    return files


def load_rule_files(patterns: Sequence[str | Path] | str | Path, *,
                    ignore_unknown_fields: bool = False) -> list[RuleGroup]:
    """Load every rule file matching ``patterns`` (globs), in order.

    Accepts Prometheus rule files and the seed shorthand. A file that cannot be read or
    has any problem raises :class:`~watchkeeper.exceptions.RuleFileError` listing all of its
    problems as ``file:line:column: ...``.

    Example:
        >>> groups = load_rule_files(["rules/*.yml", "seed.yml"])
    """
    if isinstance(patterns, str | Path):
        patterns = [patterns]
    groups: list[RuleGroup] = []
    for file in _expand(patterns):
        result = check_file(file, ignore_unknown_fields=ignore_unknown_fields)
        result.raise_for_errors()
        groups.extend(result.groups)
    return groups
