"""Small reusable field types for the settings tree."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = ["CommaList"]


def _split_commas(value: Any) -> Any:
    # Environment variables carry lists as "a,b,c"; YAML and kwargs pass real lists.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CommaList = Annotated[list[str], BeforeValidator(_split_commas)]
"""A list of strings that also accepts one comma-separated string (for env vars)."""
