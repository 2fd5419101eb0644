"""YAML nodes with positions: rule files report errors as ``file:line:column`` like yaml.v3."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["Node", "compose", "plain", "pos"]

Node = yaml.Node


def compose(text: str) -> yaml.Node | None:
    """The node tree of the first document (``None`` for an empty file)."""
    return yaml.compose(text, Loader=yaml.SafeLoader)


def pos(node: yaml.Node | None) -> tuple[int, int]:
    """1-based line and column, as yaml.v3 reports them (``(0, 0)`` for a missing node)."""
    if node is None:
        return 0, 0
    return node.start_mark.line + 1, node.start_mark.column + 1


def plain(node: yaml.Node | None) -> Any:
    """The Python value of a node (scalars typed as YAML 1.1 safe loading types them)."""
    if node is None:
        return None
    constructor = yaml.constructor.SafeConstructor()
    return constructor.construct_object(node, deep=True)


def pairs(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    return list(node.value)
