"""Integration tests reuse the health tests' real PostgreSQL server (one per session)."""

from tests.health.conftest import postgres

__all__ = ["postgres"]
