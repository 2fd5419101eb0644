"""The routing tree: which receivers (and groupings) an alert's labels lead to."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ._config import RouteConfig
from ._matchers import Matchers

__all__ = ["Route", "RouteOpts", "build_route"]


@dataclass(frozen=True, slots=True)
class RouteOpts:
    """The settings a route hands to the aggregation groups it creates (inherited)."""

    receiver: str
    group_by: frozenset[str]
    group_by_all: bool
    group_wait: float
    group_interval: float
    repeat_interval: float
    mute_time_intervals: tuple[str, ...]
    active_time_intervals: tuple[str, ...]


# treeprint (what amtool uses) pads the vertical bar with two no-break spaces.
_PIPE = "│\u00a0\u00a0 "

_DEFAULT = RouteOpts("", frozenset(), False, 30.0, 300.0, 4 * 3600.0, (), ())


class Route:
    """One node of the routing tree (Alertmanager's ``dispatch.Route``)."""

    __slots__ = ("_key", "continue_", "idx", "matchers", "opts", "parent", "routes")

    def __init__(self, opts: RouteOpts, matchers: Matchers, continue_: bool,
                 parent: Route | None) -> None:
        self.opts = opts
        self.matchers = matchers
        self.continue_ = continue_
        self.parent = parent
        self.routes: list[Route] = []
        self.idx = 0
        self._key: str | None = None

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """Depth-first, left-to-right: the routes the label set ends at."""
        if not self.matchers.matches(labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            hits = child.match(labels)
            found.extend(hits)
            if hits and not child.continue_:
                break
        return found or [self]

    def key(self) -> str:
        """``{}/{a="b"}/...``: the route part of an aggregation group key."""
        if self._key is None:
            prefix = self.parent.key() + "/" if self.parent is not None else ""
            self._key = prefix + str(self.matchers)
        return self._key

    def walk(self) -> Iterator[Route]:
        yield self
        for child in self.routes:
            yield from child.walk()

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.opts.group_by_all:
            return dict(labels)
        return {k: v for k, v in labels.items() if k in self.opts.group_by}

    def _slug(self, show_continue: bool, show_receiver: bool) -> str:
        out = str(self.matchers) if self.matchers else "default-route"
        if self.continue_ and show_continue:
            out += "  continue: true"
        if show_receiver:
            out += "  receiver: " + self.opts.receiver
        return out

    def tree(self) -> str:
        """The whole tree as ``amtool config routes show`` prints it."""
        lines = ["Routing tree:", "."]

        def add(route: Route, prefix: str, last: bool) -> None:
            lines.append(prefix + ("└── " if last else "├── ") + route._slug(True, True))
            child_prefix = prefix + ("    " if last else _PIPE)
            for i, child in enumerate(route.routes):
                add(child, child_prefix, i == len(route.routes) - 1)

        add(self, "", True)
        return "\n".join(lines) + "\n"

    def matching_tree(self, labels: Mapping[str, str]) -> str:
        """The matched branches as ``amtool config routes test --tree`` prints them."""
        lines = ["Matching routes:", "."]

        def add(route: Route, prefix: str, last: bool) -> None:
            at = len(lines)
            lines.append("")
            child_prefix = prefix + ("    " if last else _PIPE)
            matched = [c for c in _matching_children(route, labels)]
            for i, child in enumerate(matched):
                add(child, child_prefix, i == len(matched) - 1)
            slug = route._slug(False, not matched)
            lines[at] = prefix + ("└── " if last else "├── ") + slug

        add(self, "", True)
        return "\n".join(lines) + "\n"


def _matching_children(route: Route, labels: Mapping[str, str]) -> list[Route]:
    out = []
    for child in route.routes:
        if child.matchers.matches(labels):
            out.append(child)
            if not child.continue_:
                break
    return out


def build_route(cfg: RouteConfig, parent: Route | None = None) -> Route:
    """Build the tree from configuration, inheriting unset options from the parent."""
    base = parent.opts if parent is not None else _DEFAULT
    group_by, group_by_all = base.group_by, base.group_by_all
    if cfg.group_by is not None:
        group_by, group_by_all = frozenset(cfg.group_by), False
    elif cfg.group_by_all:
        group_by_all = True
    opts = RouteOpts(
        receiver=cfg.receiver or base.receiver,
        group_by=group_by,
        group_by_all=group_by_all,
        group_wait=base.group_wait if cfg.group_wait is None else cfg.group_wait,
        group_interval=base.group_interval if cfg.group_interval is None
        else cfg.group_interval,
        repeat_interval=base.repeat_interval if cfg.repeat_interval is None
        else cfg.repeat_interval,
        # Alertmanager 0.25 does not inherit time intervals: each route names its own.
        mute_time_intervals=tuple(cfg.mute_time_intervals),
        active_time_intervals=tuple(cfg.active_time_intervals),
    )
    route = Route(opts, cfg.matchers.sorted(), cfg.continue_, parent)
    route.routes = [build_route(child, route) for child in cfg.routes]
    if parent is None:
        for i, node in enumerate(route.walk()):
            node.idx = i
    return route
