"""What one run of a check produced, and how an outcome turns into a status."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CheckResult", "Status", "interpret"]


class Status(StrEnum):
    """The three health states of the IETF health-check draft and of the seed responses."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    @property
    def ok(self) -> bool:
        return self is not Status.FAIL


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One completed run of a check. Immutable, so the cache swaps whole results."""

    name: str
    status: Status
    message: str
    latency: float
    timestamp: float

    @property
    def ok(self) -> bool:
        return self.status.ok


_STATUS_WORDS = {"pass": Status.PASS, "ok": Status.PASS, "up": Status.PASS,
                 "warn": Status.WARN, "fail": Status.FAIL, "down": Status.FAIL}


def interpret(value: object) -> tuple[Status, str]:
    """Turn what a check function returned into (status, message).

    Accepted: ``None`` (the check raises to fail, so returning means pass), a bool, a
    :class:`Status` or one of ``"pass"/"warn"/"fail"``, or a 2-tuple of one of those and
    a detail text. Anything else is a failing check, with a message that says why.
    """
    detail = ""
    status_part = value
    if isinstance(value, tuple):
        if len(value) != 2:
            return Status.FAIL, f"check returned a {len(value)}-tuple; expected (bool, detail)"
        status_part, raw_detail = value
        detail = "" if raw_detail is None else str(raw_detail)
    status = _status_of(status_part)
    if status is None:
        shown = repr(status_part)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return Status.FAIL, (f"check returned {type(status_part).__name__} {shown}; expected "
                             "bool, (bool, detail) or 'pass'/'warn'/'fail'")
    return status, detail


def _status_of(value: object) -> Status | None:
    if value is None or value is True:
        return Status.PASS
    if value is False:
        return Status.FAIL
    if isinstance(value, Status):
        return value
    if isinstance(value, str):
        return _STATUS_WORDS.get(value.lower())
    return None
