"""Issues: events grouped by fingerprint, in a bounded in-process store."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Issue", "IssueStore"]

_MAX_USERS = 1000


@dataclass
class Issue:
    """One problem: every event with the same fingerprint."""

    fingerprint: str
    type: str
    title: str
    culprit: str
    level: str
    first_seen: float
    last_seen: float
    count: int = 0
    users: set[str] = field(default_factory=set)
    routes: set[str] = field(default_factory=set)
    samples: deque[dict[str, Any]] = field(default_factory=deque)

    @property
    def affected_users(self) -> int:
        return len(self.users)

    def to_dict(self, samples: bool = True) -> dict[str, Any]:
        """A JSON-able view (sample events included unless ``samples`` is False)."""
        out: dict[str, Any] = {
            "fingerprint": self.fingerprint, "type": self.type, "title": self.title,
            "culprit": self.culprit, "level": self.level, "count": self.count,
            "first_seen": self.first_seen, "last_seen": self.last_seen,
            "affected_users": self.affected_users, "routes": sorted(self.routes),
        }
        if samples:
            out["samples"] = list(self.samples)
        return out


class IssueStore:
    """Bounded: at most ``max_issues`` issues (the least recently seen go first) and
    ``samples`` sample events per issue."""

    def __init__(self, max_issues: int = 1000, samples: int = 10,
                 clock: Callable[[], float] | None = None) -> None:
        import time

        self.max_issues = max_issues
        self.samples = samples
        self._clock = clock or time.time
        self._issues: OrderedDict[str, Issue] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, event: dict[str, Any], keep_sample: bool = True) -> Issue:
        """Count ``event`` into its issue (created on first sight); returns the issue."""
        fingerprint = event["fingerprint"]
        now = event.get("timestamp") or self._clock()
        with self._lock:
            issue = self._issues.get(fingerprint)
            if issue is None:
                issue = Issue(fingerprint, event.get("type") or "message",
                              event.get("message", "")[:200], event.get("culprit", ""),
                              event.get("level", "error"), now, now,
                              samples=deque(maxlen=self.samples))
                self._issues[fingerprint] = issue
                while len(self._issues) > self.max_issues:
                    self._issues.popitem(last=False)
            else:
                self._issues.move_to_end(fingerprint)
            issue.count += 1
            issue.last_seen = max(issue.last_seen, now)
            user = event.get("user") or {}
            user_id = next((user[k] for k in ("id", "email", "username")
                            if user.get(k) is not None), None)
            if user_id is not None and len(issue.users) < _MAX_USERS:
                issue.users.add(str(user_id))
            route = (event.get("request") or {}).get("route")
            if route:
                issue.routes.add(route)
            if keep_sample and self.samples:
                issue.samples.append(event)
        return issue

    def issues(self) -> list[Issue]:
        """Every issue, most recently seen first."""
        with self._lock:
            return list(reversed(self._issues.values()))

    def get(self, fingerprint: str) -> Issue | None:
        return self._issues.get(fingerprint)

    def clear(self) -> None:
        with self._lock:
            self._issues.clear()
