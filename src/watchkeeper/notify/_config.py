"""Read an Alertmanager configuration file, unchanged, into plain records.

Validation follows Alertmanager 0.25's ``config`` package; each problem is raised as a
:class:`~watchkeeper.exceptions.NotifyConfigError` naming the file, the line and the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import parse_duration_ms
from ..exceptions import NotifyConfigError
from ._matchers import LABEL_NAME_RE, Matcher, MatcherError, Matchers, MatchType, parse_matchers
from ._timeinterval import TimeInterval, parse_time_interval
from ._yaml import LineDict, LineList, load_yaml

__all__ = [
    "DEFAULT_SEND_RESOLVED",
    "Config",
    "GlobalConfig",
    "InhibitRuleConfig",
    "IntegrationConfig",
    "ReceiverConfig",
    "RouteConfig",
    "load_config",
    "parse_config",
]

#: ``send_resolved`` defaults per integration kind, as in Alertmanager.
DEFAULT_SEND_RESOLVED = {
    "webhook": True, "slack": False, "pagerduty": True, "email": False, "telegram": True,
    "msteams": True, "msteamsv2": True, "opsgenie": True, "victorops": True,
    "pushover": True, "wechat": False, "sns": True, "discord": True, "webex": True,
    "jira": True, "rocketchat": False, "incidentio": True,
}
_INTEGRATION_KEYS = {f"{kind}_configs": kind for kind in DEFAULT_SEND_RESOLVED}

_TOP_KEYS = {"global", "route", "inhibit_rules", "receivers", "templates",
             "mute_time_intervals", "time_intervals", "tracing"}
_ROUTE_KEYS = {"receiver", "group_by", "match", "match_re", "matchers", "continue", "routes",
               "group_wait", "group_interval", "repeat_interval", "mute_time_intervals",
               "active_time_intervals"}
_INHIBIT_KEYS = {"source_match", "source_match_re", "source_matchers", "target_match",
                 "target_match_re", "target_matchers", "equal"}
_GLOBAL_DEFAULTS: dict[str, Any] = {
    "resolve_timeout": "5m",
    "smtp_hello": "localhost",
    "smtp_require_tls": True,
    "pagerduty_url": "https://events.pagerduty.com/v2/enqueue",
    "opsgenie_api_url": "https://api.opsgenie.com/",
    "wechat_api_url": "https://qyapi.weixin.qq.com/cgi-bin/",
    "victorops_api_url": "https://alert.victorops.com/integrations/generic/20131114/alert/",
    "telegram_api_url": "https://api.telegram.org",
    "webex_api_url": "https://webexapis.com/v1/messages",
}


@dataclass(frozen=True, slots=True)
class GlobalConfig:
    resolve_timeout: float
    settings: Mapping[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


@dataclass(slots=True)
class RouteConfig:
    receiver: str | None = None
    group_by: list[str] | None = None
    group_by_all: bool = False
    matchers: Matchers = field(default_factory=Matchers)
    continue_: bool = False
    routes: list[RouteConfig] = field(default_factory=list)
    group_wait: float | None = None
    group_interval: float | None = None
    repeat_interval: float | None = None
    mute_time_intervals: list[str] = field(default_factory=list)
    active_time_intervals: list[str] = field(default_factory=list)
    line: int = 0


@dataclass(frozen=True, slots=True)
class InhibitRuleConfig:
    source_matchers: Matchers
    target_matchers: Matchers
    equal: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class IntegrationConfig:
    """One ``*_configs`` entry of a receiver, with global defaults applied."""

    kind: str
    index: int
    settings: Mapping[str, Any]
    send_resolved: bool
    line: int = 0


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    name: str
    integrations: tuple[IntegrationConfig, ...]
    line: int = 0


@dataclass(slots=True)
class Config:
    """A parsed, validated alertmanager.yml."""

    global_: GlobalConfig
    route: RouteConfig
    receivers: dict[str, ReceiverConfig]
    inhibit_rules: list[InhibitRuleConfig]
    time_intervals: dict[str, list[TimeInterval]]
    templates: list[str]
    path: str = ""
    has_global: bool = False
    original: str = ""


class _Ctx:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, message: str, line: int = 0) -> NotifyConfigError:
        return NotifyConfigError(message, self.file, line)


def load_config(path: str | Path) -> Config:
    """Read and validate an alertmanager.yml file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotifyConfigError(f"cannot read file: {exc.strerror or exc}", str(p)) from exc
    return parse_config(text, str(p))


def _duration(ctx: _Ctx, raw: Mapping[str, Any], key: str, line: int) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    try:
        return parse_duration_ms(str(value)) / 1000.0
    except ValueError as exc:
        raise ctx.fail(f"{key}: {exc}", line) from exc


def _check_keys(ctx: _Ctx, raw: Any, allowed: set[str], typename: str) -> LineDict:
    if not isinstance(raw, LineDict):
        line = getattr(raw, "line", 0)
        raise ctx.fail(f"{typename} must be a mapping, got {type(raw).__name__}", line)
    for key in raw:
        if key not in allowed:
            raise ctx.fail(f"field {key} not found in type {typename}", raw.line_of(key))
    return raw


def _str_map(ctx: _Ctx, raw: LineDict, key: str) -> dict[str, str]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ctx.fail(f"{key} must be a mapping of label names to values", raw.line_of(key))
    out = {}
    for name, v in value.items():
        if not LABEL_NAME_RE.match(str(name)):
            raise ctx.fail(f"invalid label name {str(name)!r}", raw.line_of(key))
        out[str(name)] = "" if v is None else str(v)
    return out


def _legacy_and_new(ctx: _Ctx, raw: LineDict, eq: str, regex: str, new: str) -> Matchers:
    out: list[Matcher] = []
    for name, value in sorted(_str_map(ctx, raw, eq).items()):
        out.append(Matcher.create(name, MatchType.EQUAL, value))
    for name, value in sorted(_str_map(ctx, raw, regex).items()):
        # Alertmanager stores match_re values already anchored (config.Regexp.String()).
        try:
            out.append(Matcher.create(name, MatchType.REGEXP, "^(?:" + value + ")$"))
        except MatcherError as exc:
            raise ctx.fail(f"invalid regexp value for {name!r}: {exc}", raw.line_of(regex)) from exc
    items = raw.get(new)
    if items is not None:
        if not isinstance(items, list):
            raise ctx.fail(f"{new} must be a list of matcher strings", raw.line_of(new))
        for i, item in enumerate(items):
            line = items.line_of(i) if isinstance(items, LineList) else raw.line_of(new)
            try:
                out.extend(parse_matchers(str(item)))
            except MatcherError as exc:
                raise ctx.fail(f"{new}: {exc}", line) from exc
    return Matchers(out)


def _str_list(ctx: _Ctx, raw: LineDict, key: str) -> list[str] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise ctx.fail(f"{key} must be a list", raw.line_of(key))
    return [str(v) for v in value]


def _parse_route(ctx: _Ctx, raw: Any, intervals: set[str], receivers: set[str]) -> RouteConfig:
    raw = _check_keys(ctx, raw, _ROUTE_KEYS, "config.Route")
    route = RouteConfig(line=raw.line)
    route.receiver = None if raw.get("receiver") in (None, "") else str(raw["receiver"])
    if route.receiver is not None and route.receiver not in receivers:
        raise ctx.fail(f"undefined receiver {route.receiver!r} used in route".replace("'", '"'),
                       raw.line_of("receiver"))
    group_by = _str_list(ctx, raw, "group_by")
    if group_by is not None:
        for name in group_by:
            if name != "..." and not LABEL_NAME_RE.match(name):
                raise ctx.fail(f'invalid label name "{name}" in group_by list',
                               raw.line_of("group_by"))
        if "..." in group_by:
            if len(group_by) > 1:
                raise ctx.fail("cannot have wildcard group_by (`...`) and other other labels "
                               "at the same time", raw.line_of("group_by"))
            route.group_by_all = True
        else:
            seen: set[str] = set()
            for name in group_by:
                if name in seen:
                    raise ctx.fail(f'duplicated label "{name}" in group_by',
                                   raw.line_of("group_by"))
                seen.add(name)
            route.group_by = group_by
    route.matchers = _legacy_and_new(ctx, raw, "match", "match_re", "matchers")
    route.continue_ = bool(raw.get("continue", False))
    route.group_wait = _duration(ctx, raw, "group_wait", raw.line_of("group_wait"))
    route.group_interval = _duration(ctx, raw, "group_interval", raw.line_of("group_interval"))
    route.repeat_interval = _duration(ctx, raw, "repeat_interval",
                                      raw.line_of("repeat_interval"))
    if route.group_interval == 0:
        raise ctx.fail("group_interval cannot be zero", raw.line_of("group_interval"))
    if route.repeat_interval == 0:
        raise ctx.fail("repeat_interval cannot be zero", raw.line_of("repeat_interval"))
    for key in ("mute_time_intervals", "active_time_intervals"):
        names = _str_list(ctx, raw, key) or []
        for name in names:
            if name not in intervals:
                raise ctx.fail(f'undefined time interval "{name}" used in route',
                               raw.line_of(key))
        setattr(route, key, names)
    children = raw.get("routes")
    if children is not None:
        if not isinstance(children, list):
            raise ctx.fail("routes must be a list", raw.line_of("routes"))
        route.routes = [_parse_route(ctx, c, intervals, receivers) for c in children]
    return route


def _parse_receiver(ctx: _Ctx, raw: Any, glob: Mapping[str, Any]) -> ReceiverConfig:
    allowed = {"name", *_INTEGRATION_KEYS}
    raw = _check_keys(ctx, raw, allowed, "config.Receiver")
    name = raw.get("name")
    if not name:
        raise ctx.fail("missing name in receiver", raw.line)
    integrations: list[IntegrationConfig] = []
    for key, kind in _INTEGRATION_KEYS.items():
        items = raw.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            raise ctx.fail(f"{key} must be a list", raw.line_of(key))
        for i, item in enumerate(items):
            line = items.line_of(i) if isinstance(items, LineList) else raw.line_of(key)
            if not isinstance(item, dict):
                raise ctx.fail(f"{key} entries must be mappings", line)
            settings = _apply_globals(ctx, kind, dict(item), glob, line)
            send_resolved = settings.get("send_resolved", DEFAULT_SEND_RESOLVED[kind])
            integrations.append(IntegrationConfig(kind, i, settings, bool(send_resolved), line))
    return ReceiverConfig(str(name), tuple(integrations), raw.line)


def _apply_globals(ctx: _Ctx, kind: str, s: dict[str, Any], g: Mapping[str, Any],
                   line: int) -> dict[str, Any]:
    s.setdefault("http_config", g.get("http_config"))
    if kind == "email":
        if not s.get("to"):
            raise ctx.fail("missing to address in email config", line)
        for key in ("smarthost", "from", "hello", "auth_username", "auth_password",
                    "auth_identity", "auth_secret", "require_tls"):
            if s.get(key) is None and g.get(f"smtp_{key}") is not None:
                s[key] = g[f"smtp_{key}"]
        if not s.get("smarthost"):
            raise ctx.fail("no global SMTP smarthost set", line)
        if not s.get("from"):
            raise ctx.fail("no global SMTP from set", line)
        headers = {str(k).title(): v for k, v in (s.get("headers") or {}).items()}
        s["headers"] = headers
    elif kind == "slack":
        if not s.get("api_url") and not s.get("api_url_file"):
            if not g.get("slack_api_url") and not g.get("slack_api_url_file"):
                raise ctx.fail("no global Slack API URL set either inline or in a file", line)
            s["api_url"] = g.get("slack_api_url")
            s["api_url_file"] = g.get("slack_api_url_file")
    elif kind == "pagerduty":
        if not s.get("routing_key") and not s.get("service_key") and not s.get(
                "routing_key_file") and not s.get("service_key_file"):
            raise ctx.fail("missing service or routing key in PagerDuty config", line)
        s.setdefault("url", g.get("pagerduty_url"))
        if not s.get("url"):
            raise ctx.fail("no global PagerDuty URL set", line)
    elif kind == "webhook":
        if not s.get("url") and not s.get("url_file"):
            raise ctx.fail("one of url or url_file must be configured", line)
        if s.get("url") and s.get("url_file"):
            raise ctx.fail("at most one of url & url_file must be configured", line)
    elif kind == "telegram":
        if not s.get("bot_token") and not s.get("bot_token_file"):
            raise ctx.fail("missing bot_token or bot_token_file on telegram_config", line)
        if not s.get("chat_id"):
            raise ctx.fail("missing chat_id on telegram_config", line)
        s.setdefault("api_url", g.get("telegram_api_url"))
    elif kind in ("msteams", "discord") and not s.get("webhook_url") and not s.get(
            "webhook_url_file"):
        raise ctx.fail(f"one of webhook_url or webhook_url_file must be configured ({kind})",
                       line)
    return s


def _parse_inhibit(ctx: _Ctx, raw: Any) -> InhibitRuleConfig:
    raw = _check_keys(ctx, raw, _INHIBIT_KEYS, "config.InhibitRule")
    source = _legacy_and_new(ctx, raw, "source_match", "source_match_re", "source_matchers")
    target = _legacy_and_new(ctx, raw, "target_match", "target_match_re", "target_matchers")
    equal = _str_list(ctx, raw, "equal") or []
    for name in equal:
        if not LABEL_NAME_RE.match(name):
            raise ctx.fail(f"invalid label name {name!r}", raw.line_of("equal"))
    return InhibitRuleConfig(source, target, tuple(equal), raw.line)


def parse_config(text: str, file: str = "") -> Config:
    """Parse and validate alertmanager.yml text; ``file`` is used in error messages."""
    ctx = _Ctx(file)
    try:
        raw = load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise ctx.fail(f"invalid YAML: {exc.problem or exc.context}", line) from exc
    except yaml.YAMLError as exc:
        raise ctx.fail(f"invalid YAML: {exc}") from exc
    if raw is None:
        raw = LineDict()
        raw.line, raw.key_lines = 1, {}
    raw = _check_keys(ctx, raw, _TOP_KEYS, "config.plain")

    g_raw = raw.get("global") or {}
    if not isinstance(g_raw, dict):
        raise ctx.fail("global must be a mapping", raw.line_of("global"))
    g = {**_GLOBAL_DEFAULTS, **{k: v for k, v in g_raw.items() if v is not None}}
    for a, b in (("slack_api_url", "slack_api_url_file"),
                 ("smtp_auth_password", "smtp_auth_password_file")):
        if g.get(a) and g.get(b):
            raise ctx.fail(f"at most one of {a} & {b} must be configured", raw.line_of("global"))
    try:
        resolve_timeout = parse_duration_ms(str(g["resolve_timeout"])) / 1000.0
    except ValueError as exc:
        line = g_raw.line_of("resolve_timeout") if isinstance(g_raw, LineDict) else 0
        raise ctx.fail(f"resolve_timeout: {exc}", line) from exc
    glob = GlobalConfig(resolve_timeout, g)

    intervals: dict[str, list[TimeInterval]] = {}
    for key in ("mute_time_intervals", "time_intervals"):
        items = raw.get(key) or []
        if not isinstance(items, list):
            raise ctx.fail(f"{key} must be a list", raw.line_of(key))
        for i, item in enumerate(items):
            line = items.line_of(i) if isinstance(items, LineList) else raw.line_of(key)
            if not isinstance(item, dict) or not item.get("name"):
                what = "mute time interval" if key.startswith("mute") else "time interval"
                raise ctx.fail(f"missing name in {what}", line)
            name = str(item["name"])
            if name in intervals:
                what = "mute time interval" if key.startswith("mute") else "time interval"
                raise ctx.fail(f'{what} "{name}" is not unique', line)
            specs = item.get("time_intervals") or []
            parsed = []
            for j, spec in enumerate(specs):
                sline = specs.line_of(j) if isinstance(specs, LineList) else line
                try:
                    parsed.append(parse_time_interval(spec))
                except ValueError as exc:
                    raise ctx.fail(f"time interval {name!r}: {exc}", sline) from exc
            intervals[name] = parsed

    receivers: dict[str, ReceiverConfig] = {}
    r_items = raw.get("receivers") or []
    if not isinstance(r_items, list):
        raise ctx.fail("receivers must be a list", raw.line_of("receivers"))
    for item in r_items:
        rc = _parse_receiver(ctx, item, g)
        if rc.name in receivers:
            raise ctx.fail(f'notification config name "{rc.name}" is not unique', rc.line)
        receivers[rc.name] = rc

    if raw.get("route") is None:
        raise ctx.fail("no route provided in config", raw.line)
    route = _parse_route(ctx, raw["route"], set(intervals), set(receivers))
    rline = route.line
    if route.continue_:
        raise ctx.fail("cannot have continue in root route", rline)
    if not route.receiver:
        raise ctx.fail("root route must specify a default receiver", rline)
    if route.matchers:
        raise ctx.fail("root route must not have any matchers", rline)
    if route.mute_time_intervals:
        raise ctx.fail("root route must not have any mute time intervals", rline)
    if route.active_time_intervals:
        raise ctx.fail("root route must not have any active time intervals", rline)

    inhibit = [_parse_inhibit(ctx, item) for item in (raw.get("inhibit_rules") or [])]
    templates = _str_list(ctx, raw, "templates") or []
    base = Path(file).parent if file else Path()
    templates = [t if Path(t).is_absolute() else str(base / t) for t in templates]
    return Config(glob, route, receivers, inhibit, intervals, templates, file,
                  has_global=True, original=text)

