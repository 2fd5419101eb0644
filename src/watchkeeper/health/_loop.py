"""The health loop: one daemon thread running an asyncio loop that executes every check.

Checks never run on the application's event loop, so a check that blocks its loop (a
sync call hidden in an ``async def``) delays other checks, never the app or /health/live.
Endpoints on any loop or thread wait for results through ``concurrent.futures``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["HealthLoop"]

T = TypeVar("T")


class HealthLoop:
    """Start lazily, submit coroutines from any thread, stop for tests."""

    def __init__(self, name: str = "watchkeeper-health") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
            if self._loop is None:
                ready = threading.Event()
                new = asyncio.new_event_loop()
                thread = threading.Thread(target=self._run, args=(new, ready),
                                          name=self._name, daemon=True)
                thread.start()
                ready.wait()
                self._thread = thread
                self._loop = new
            return self._loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, callback: Any, *args: Any) -> None:
        self.loop.call_soon_threadsafe(callback, *args)

    def stop(self, timeout: float = 2.0) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return

        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks, timeout=timeout) if tasks else None
            asyncio.get_running_loop().stop()

        try:
            asyncio.run_coroutine_threadsafe(_cancel_all(), loop)
        except RuntimeError:  # loop already closed
            return
        thread.join(timeout)
