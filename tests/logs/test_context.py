from __future__ import annotations

import asyncio
import threading
from typing import Any

from watchkeeper import logs
from watchkeeper.logs import _context


def test_bind_unbind_bound(captured: Any) -> None:
    log = logs.get_logger("app")
    logs.bind(user="u1", tenant="acme")
    with logs.bound(order=7):
        log.info("inside")
    logs.unbind("tenant")
    log.info("after")
    inside, after = captured.records
    assert (inside["user"], inside["tenant"], inside["order"]) == ("u1", "acme", 7)
    assert after["user"] == "u1"
    assert "tenant" not in after
    assert "order" not in after


async def test_context_survives_await_and_is_isolated_between_tasks(captured: Any) -> None:
    log = logs.get_logger("app")

    async def handler(n: int) -> None:
        logs.bind(req=n)
        _context.request_id.set(f"rid-{n}")
        await asyncio.sleep(0.01 * (3 - n))
        log.info("step", n=n)
        sub = await asyncio.gather(child(n), child(n))
        assert sub == [n, n]

    async def child(n: int) -> int:
        await asyncio.sleep(0)
        log.info("child", n=n)
        return n

    await asyncio.gather(*(handler(i) for i in range(3)))
    for rec in captured.records:
        assert rec["req"] == rec["n"]
        assert rec["request_id"] == f"rid-{rec['n']}"
    assert len(captured.records) == 9
    assert "req" not in logs.bound_fields()


async def test_run_in_executor_gets_the_context(captured: Any) -> None:
    log = logs.get_logger("app")
    _context.ensure_context_executor()
    loop = asyncio.get_running_loop()
    logs.bind(user="exec")
    token = _context.request_id.set("rid-exec")
    try:
        await loop.run_in_executor(None, lambda: log.info("in thread"))
        await asyncio.to_thread(lambda: log.info("to_thread"))
    finally:
        _context.request_id.reset(token)
    for rec in captured.records:
        assert rec["user"] == "exec"
        assert rec["request_id"] == "rid-exec"
    assert [r["message"] for r in captured.records] == ["in thread", "to_thread"]


def test_plain_threads_do_not_inherit(captured: Any) -> None:
    logs.bind(user="main")
    t = threading.Thread(target=lambda: logs.get_logger("t").info("thread"))
    t.start()
    t.join()
    assert "user" not in captured.records[0]
