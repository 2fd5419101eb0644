"""watchkeeper: production observability for Python services."""

from ._version import __version__

__all__ = ["__version__"]
