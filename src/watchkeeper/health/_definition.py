"""How a check is defined: the ``@check`` decorator, the class form, and their registry."""

from __future__ import annotations

import inspect
import math
import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar, overload

from ..exceptions import HealthCheckConfigError

__all__ = ["CheckFunc", "CheckRegistry", "CheckSpec", "HealthCheck", "check", "default_registry"]

CheckFunc: TypeAlias = Callable[[], object | Awaitable[object]]
"""A check: sync or async, no arguments, returns bool / (bool, detail) / None or raises."""

F = TypeVar("F", bound=Callable[..., Any])

_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A validated check definition; ``timeout``/``interval`` None take the settings defaults."""

    name: str
    func: CheckFunc
    is_async: bool
    critical: bool = True
    timeout: float | None = None
    interval: float | None = None
    retries: int = 0
    warn_latency: float | None = None
    fail_latency: float | None = None
    tags: tuple[str, ...] = ()
    enabled: bool = True
    kind: str = "custom"
    id: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


def make_spec(
    name: str,
    func: CheckFunc,
    *,
    critical: bool = True,
    timeout: float | None = None,
    interval: float | None = None,
    retries: int = 0,
    warn_latency: float | None = None,
    fail_latency: float | None = None,
    tags: Iterable[str] = (),
    enabled: bool = True,
    kind: str = "custom",
    id: str | None = None,
    is_async: bool | None = None,
) -> CheckSpec:
    """Validate a definition; every mistake is a :class:`HealthCheckConfigError` now, at
    definition time, rather than a probe that misbehaves later."""
    where = f"health check {name!r}"
    if not isinstance(name, str) or not _NAME.match(name):
        raise HealthCheckConfigError(
            f"health check name {name!r} is invalid: use letters, digits and '_.:-' only"
        )
    if not callable(func):
        raise HealthCheckConfigError(f"{where}: {func!r} is not callable")
    for label, value in (("timeout", timeout), ("interval", interval)):
        if value is not None and not _positive(value):
            raise HealthCheckConfigError(
                f"{where}: {label} must be a number of seconds > 0, got {value!r}"
            )
    for label, value in (("warn_latency", warn_latency), ("fail_latency", fail_latency)):
        if value is not None and not _positive(value):
            raise HealthCheckConfigError(
                f"{where}: {label} must be a number of seconds > 0, got {value!r}"
            )
    if warn_latency is not None and fail_latency is not None and warn_latency > fail_latency:
        raise HealthCheckConfigError(
            f"{where}: warn_latency ({warn_latency}) exceeds fail_latency ({fail_latency})"
        )
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise HealthCheckConfigError(f"{where}: retries must be an integer 0..10, got {retries!r}")
    if isinstance(tags, str):
        raise HealthCheckConfigError(f"{where}: tags must be a list of strings, not one string")
    tag_tuple = tuple(tags)
    if not all(isinstance(t, str) for t in tag_tuple):
        raise HealthCheckConfigError(f"{where}: tags must be strings, got {tag_tuple!r}")
    if is_async is None:
        is_async = _is_async(func)
    return CheckSpec(
        name=name, func=func, is_async=is_async, critical=bool(critical), timeout=timeout,
        interval=interval, retries=retries, warn_latency=warn_latency,
        fail_latency=fail_latency, tags=tag_tuple, enabled=bool(enabled), kind=kind, id=id,
    )


def _positive(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def _is_async(func: Callable[..., Any]) -> bool:
    target = getattr(func, "check", None) if isinstance(func, HealthCheck) else func
    if inspect.iscoroutinefunction(target):
        return True
    call = getattr(target, "__call__", None)  # noqa: B004 - async callable objects
    return inspect.iscoroutinefunction(call)


class HealthCheck:
    """The class form of a check, with the seed's fields. Override :meth:`check`
    (sync or async) and register an instance with ``health.check(MyCheck())``.

    Example::

        class TokenFile(HealthCheck):
            name = "token_storage"
            critical = False
            timeout = 1.0

            def check(self) -> tuple[bool, str]:
                return os.access(PATH, os.W_OK), PATH
    """

    id: str | None = None
    name: str = ""
    type: str = "custom"
    enabled: bool = True
    timeout: float | None = None
    interval: float | None = None
    retry_count: int = 0
    critical: bool = True
    thresholds: Mapping[str, float] = {}
    tags: tuple[str, ...] = ()

    def check(self) -> object | Awaitable[object]:
        raise NotImplementedError

    def spec(self) -> CheckSpec:
        unknown = set(self.thresholds) - {"warn_latency", "fail_latency"}
        if unknown:
            raise HealthCheckConfigError(
                f"health check {self.name!r}: unknown thresholds {sorted(unknown)}; "
                "use warn_latency and fail_latency"
            )
        return make_spec(
            self.name or type(self).__name__, self.check, critical=self.critical,
            timeout=self.timeout, interval=self.interval, retries=self.retry_count,
            warn_latency=self.thresholds.get("warn_latency"),
            fail_latency=self.thresholds.get("fail_latency"), tags=self.tags,
            enabled=self.enabled, kind=self.type, id=self.id,
        )


Listener: TypeAlias = Callable[[CheckSpec], None]


class CheckRegistry:
    """The checks of one process, by name; tells listeners (the runner) about new ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._specs: dict[str, CheckSpec] = {}
        self._listeners: list[Listener] = []

    def add(self, spec: CheckSpec) -> None:
        with self._lock:
            old = self._specs.get(spec.name)
            if old is not None and _origin(old.func) != _origin(spec.func):
                raise HealthCheckConfigError(
                    f"health check {spec.name!r} is already defined by {_origin(old.func)}"
                )
            self._specs[spec.name] = spec
            listeners = list(self._listeners)
        for listener in listeners:
            listener(spec)

    def remove(self, name: str) -> None:
        with self._lock:
            self._specs.pop(name, None)

    def get(self, name: str) -> CheckSpec | None:
        return self._specs.get(name)

    def specs(self) -> list[CheckSpec]:
        return list(self._specs.values())

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def clear(self) -> None:
        with self._lock:
            self._specs.clear()


def _origin(func: Callable[..., Any]) -> str:
    owner = getattr(func, "__self__", None)
    if isinstance(owner, HealthCheck):
        return f"{type(owner).__module__}.{type(owner).__qualname__}"
    module = getattr(func, "__module__", "?")
    return f"{module}.{getattr(func, '__qualname__', repr(func))}"


_default = CheckRegistry()


def default_registry() -> CheckRegistry:
    return _default


@overload
def check(name: HealthCheck, /) -> HealthCheck: ...
@overload
def check(
    name: str, /, *, critical: bool = ..., timeout: float | None = ...,
    interval: float | None = ..., retries: int = ..., warn_latency: float | None = ...,
    fail_latency: float | None = ..., tags: Iterable[str] = ..., enabled: bool = ...,
) -> Callable[[F], F]: ...
def check(
    name: str | HealthCheck, /, *, critical: bool = True, timeout: float | None = None,
    interval: float | None = None, retries: int = 0, warn_latency: float | None = None,
    fail_latency: float | None = None, tags: Iterable[str] = (), enabled: bool = True,
) -> Callable[[F], F] | HealthCheck:
    """Register a health check: decorate a sync or async function, or pass a
    :class:`HealthCheck` instance.

    The function takes no arguments and returns ``True``/``False``, ``(ok, detail)`` or
    ``None`` (pass), or raises (fail). Sync functions run in a thread, async ones on
    watchkeeper's health loop; either is cut off at ``timeout`` seconds. Results are
    refreshed every ``interval`` seconds in the background and probes read the cache.

    Example::

        @watchkeeper.health.check("database", critical=True, timeout=2, interval=30)
        async def database() -> bool:
            async with pool.acquire() as conn:
                return await conn.fetchval("SELECT 1") == 1

    Raises:
        HealthCheckConfigError: at definition time, for a bad name, timeout, interval,
            retries or latency thresholds.
    """
    if isinstance(name, HealthCheck):
        _default.add(name.spec())
        return name

    def decorate(func: F) -> F:
        _default.add(make_spec(
            name, func, critical=critical, timeout=timeout, interval=interval,
            retries=retries, warn_latency=warn_latency, fail_latency=fail_latency, tags=tags,
            enabled=enabled,
        ))
        return func

    if not isinstance(name, str):
        raise HealthCheckConfigError(
            f"health.check() takes a check name or a HealthCheck instance, got {name!r}"
        )
    # Validate now, so @check("x", timeout=-1) fails at import even before decoration.
    make_spec(name, _noop, critical=critical, timeout=timeout, interval=interval,
              retries=retries, warn_latency=warn_latency, fail_latency=fail_latency,
              tags=tags, enabled=enabled)
    return decorate


def _noop() -> None:
    return None
