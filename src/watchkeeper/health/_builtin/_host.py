"""Host checks: disk free, process memory, a file readable/writable. Sync on purpose: the
runner puts them in a thread, so a stuck NFS mount cannot block a loop."""

from __future__ import annotations

import os
from collections.abc import Callable

import psutil

from ...exceptions import HealthCheckConfigError

__all__ = ["disk_check", "file_check", "memory_check"]

SyncCheck = Callable[[], tuple[bool, str]]


def _fraction(value: float | None, name: str, where: str) -> None:
    if value is not None and not 0 <= value <= 100:
        raise HealthCheckConfigError(f"{where}: {name} is a percentage 0..100, got {value!r}")


def _mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def disk_check(path: str = "/", *, min_free_percent: float | None = 5.0,
               min_free_bytes: int | None = None) -> SyncCheck:
    """Fail when the filesystem holding ``path`` has less free space than either limit."""
    _fraction(min_free_percent, "min_free_percent", "disk check")
    if min_free_bytes is not None and min_free_bytes < 0:
        raise HealthCheckConfigError("disk check: min_free_bytes must be >= 0")

    def disk() -> tuple[bool, str]:
        usage = psutil.disk_usage(path)
        free_pct = 100.0 - usage.percent
        text = f"{path}: {_mib(usage.free)} free ({free_pct:.1f}%)"
        if min_free_percent is not None and free_pct < min_free_percent:
            return False, f"{text} < {min_free_percent:g}%"
        if min_free_bytes is not None and usage.free < min_free_bytes:
            return False, f"{text} < {_mib(min_free_bytes)}"
        return True, text

    return disk


def memory_check(*, max_rss_bytes: int | None = None,
                 max_percent: float | None = 90.0) -> SyncCheck:
    """Fail when this process's resident memory exceeds ``max_rss_bytes`` or
    ``max_percent`` of the machine's memory."""
    _fraction(max_percent, "max_percent", "memory check")
    if max_rss_bytes is not None and max_rss_bytes <= 0:
        raise HealthCheckConfigError("memory check: max_rss_bytes must be > 0")
    process = psutil.Process()

    def memory() -> tuple[bool, str]:
        rss = process.memory_info().rss
        pct = 100.0 * rss / psutil.virtual_memory().total
        text = f"rss {_mib(rss)} ({pct:.1f}% of memory)"
        if max_rss_bytes is not None and rss > max_rss_bytes:
            return False, f"{text} > {_mib(max_rss_bytes)}"
        if max_percent is not None and pct > max_percent:
            return False, f"{text} > {max_percent:g}%"
        return True, text

    return memory


def file_check(path: str, *, readable: bool = True, writable: bool = False) -> SyncCheck:
    """Fail unless ``path`` exists and is readable (and writable, if asked) — e.g. the
    token storage file of the seed services."""
    if not path:
        raise HealthCheckConfigError("file check: path is required")

    def file() -> tuple[bool, str]:
        if not os.path.exists(path):
            return False, f"{path} does not exist"
        if readable:
            try:
                with open(path, "rb") as handle:
                    handle.read(1)
            except OSError as exc:
                return False, f"{path} is not readable: {exc.strerror or exc}"
        if writable and not os.access(path, os.W_OK):
            return False, f"{path} is not writable"
        what = " and ".join(w for w, on in (("readable", readable), ("writable", writable)) if on)
        return True, f"{path} is {what or 'present'}"

    return file
