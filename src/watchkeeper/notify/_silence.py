"""Silences: create, update, expire, query; persisted to disk; a :class:`Muter`."""

from __future__ import annotations

import builtins
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ..exceptions import SilenceError
from ..rules._alert import format_time, parse_time
from ._matchers import Matcher, MatcherError, Matchers, MatchType, parse_matchers
from ._persist import atomic_write

__all__ = ["Silence", "Silences", "matcher_from_api", "matcher_to_api"]

#: Expired silences are kept this long (Alertmanager's ``--data.retention`` default).
RETENTION = timedelta(hours=120)


def matcher_to_api(m: Matcher) -> dict[str, Any]:
    return {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}


def matcher_from_api(raw: Mapping[str, Any]) -> Matcher:
    regex = bool(raw.get("isRegex", False))
    equal = bool(raw.get("isEqual", True))
    mtype = {(False, True): MatchType.EQUAL, (False, False): MatchType.NOT_EQUAL,
             (True, True): MatchType.REGEXP, (True, False): MatchType.NOT_REGEXP}[(regex, equal)]
    try:
        return Matcher.create(str(raw["name"]), mtype, str(raw["value"]))
    except KeyError as exc:
        raise SilenceError(f"matcher is missing {exc.args[0]!r}") from exc
    except MatcherError as exc:
        raise SilenceError(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class Silence:
    """One silence; ``id`` is empty until stored."""

    matchers: Matchers
    starts_at: datetime
    ends_at: datetime
    created_by: str = ""
    comment: str = ""
    id: str = ""
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def state(self, now: datetime) -> str:
        # Alertmanager treats the end instant itself as active; with an injected clock an
        # expired-just-now silence must read as expired, so the end is exclusive here.
        if now >= self.ends_at:
            return "expired"
        if now < self.starts_at:
            return "pending"
        return "active"

    def to_api(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": {"state": self.state(now)},
            "updatedAt": format_time(self.updated_at),
            "comment": self.comment,
            "createdBy": self.created_by,
            "endsAt": format_time(self.ends_at),
            "matchers": [matcher_to_api(m) for m in self.matchers],
            "startsAt": format_time(self.starts_at),
        }

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Silence:
        try:
            matchers = Matchers(matcher_from_api(m) for m in raw.get("matchers") or [])
            return cls(
                matchers=matchers,
                starts_at=parse_time(str(raw["startsAt"])),
                ends_at=parse_time(str(raw["endsAt"])),
                created_by=str(raw.get("createdBy", "")),
                comment=str(raw.get("comment", "")),
                id=str(raw.get("id") or ""),
            )
        except KeyError as exc:
            raise SilenceError(f"silence is missing {exc.args[0]!r}") from exc
        except ValueError as exc:
            raise SilenceError(f"invalid silence: {exc}") from exc

    @classmethod
    def from_text(cls, matchers: str | Iterable[str], *, duration: float = 3600.0,
                  starts_at: datetime | None = None, created_by: str = "",
                  comment: str = "") -> Silence:
        """Build a silence from matcher strings, e.g. ``'alertname="Foo", env=~"prod.*"'``."""
        items = [matchers] if isinstance(matchers, str) else list(matchers)
        parsed: list[Matcher] = []
        try:
            for item in items:
                parsed.extend(parse_matchers(item))
        except MatcherError as exc:
            raise SilenceError(str(exc)) from exc
        start = starts_at or datetime.now(UTC)
        return cls(Matchers(parsed), start, start + timedelta(seconds=duration),
                   created_by, comment)


def _validate(s: Silence) -> None:
    if not s.matchers:
        raise SilenceError("at least one matcher required")
    if all(m.matches("") for m in s.matchers):
        raise SilenceError("at least one matcher must not match the empty string")
    if s.ends_at < s.starts_at:
        raise SilenceError("end time must not be before start time")


class Silences:
    """The silence store. Thread-safe; persisted to ``path`` (JSON) when given."""

    def __init__(self, path: str | Path | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._items: dict[str, Silence] = {}
        self.version = 0
        if self._path is not None and self._path.exists():
            self._load()

    def _load(self) -> None:
        assert self._path is not None
        data = orjson.loads(self._path.read_bytes() or b"[]")
        for raw in data:
            sil = Silence.from_api(raw)
            sil = replace(sil, updated_at=parse_time(raw["updatedAt"]))
            self._items[sil.id] = sil

    def _save(self) -> None:
        self.version += 1
        if self._path is None:
            return
        now = self._clock()
        data = [s.to_api(now) for s in self._items.values()]
        atomic_write(self._path, orjson.dumps(data, option=orjson.OPT_INDENT_2))

    def set(self, silence: Silence) -> str:
        """Create a silence, or update the one with ``silence.id``; returns the id.

        As in Alertmanager, a change that cannot be applied in place (other matchers, a
        moved start of an active silence) expires the old silence and creates a new one.
        """
        _validate(silence)
        with self._lock:
            now = self._clock()
            prev = self._items.get(silence.id) if silence.id else None
            if silence.id and prev is None:
                raise SilenceError(f"silence {silence.id} not found")
            if prev is not None:
                if self._can_update(prev, silence, now):
                    self._items[silence.id] = replace(silence, updated_at=now)
                    self._save()
                    return silence.id
                if prev.state(now) != "expired":
                    self._expire(prev, now)
            if silence.ends_at < now:
                raise SilenceError("cannot create a silence that ends in the past")
            new = replace(silence, id=str(uuid.uuid4()),
                          starts_at=max(silence.starts_at, now), updated_at=now)
            self._items[new.id] = new
            self._save()
            return new.id

    @staticmethod
    def _can_update(a: Silence, b: Silence, now: datetime) -> bool:
        if a.matchers != b.matchers:
            return False
        state = a.state(now)
        if state == "active":
            return int(a.starts_at.timestamp()) == int(b.starts_at.timestamp()) and \
                b.ends_at >= now
        if state == "pending":
            return b.starts_at >= now
        return False

    def _expire(self, sil: Silence, now: datetime) -> None:
        state = sil.state(now)
        if state == "active":
            self._items[sil.id] = replace(sil, ends_at=now, updated_at=now)
        elif state == "pending":
            self._items[sil.id] = replace(sil, starts_at=now, ends_at=now, updated_at=now)

    def expire(self, silence_id: str) -> None:
        with self._lock:
            sil = self._items.get(silence_id)
            if sil is None:
                raise SilenceError(f"silence {silence_id} not found")
            self._expire(sil, self._clock())
            self._save()

    def get(self, silence_id: str) -> Silence:
        with self._lock:
            sil = self._items.get(silence_id)
        if sil is None:
            raise SilenceError(f"silence {silence_id} not found")
        return sil

    def list(self, state: str | None = None) -> list[Silence]:
        now = self._clock()
        with self._lock:
            items = list(self._items.values())
        if state is not None:
            items = [s for s in items if s.state(now) == state]
        order = {"active": 0, "pending": 1, "expired": 2}
        return sorted(items, key=lambda s: (order[s.state(now)], s.ends_at))

    def silenced_by(self, labels: Mapping[str, str], now: datetime) -> builtins.list[str]:
        with self._lock:
            items = list(self._items.values())
        return [s.id for s in items if s.state(now) == "active" and s.matchers.matches(labels)]

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        return bool(self.silenced_by(labels, now))

    def gc(self) -> int:
        now = self._clock()
        with self._lock:
            old = [k for k, s in self._items.items() if s.ends_at + RETENTION < now]
            for k in old:
                del self._items[k]
            if old:
                self._save()
        return len(old)
