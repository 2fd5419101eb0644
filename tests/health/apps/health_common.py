"""Checks shared by the health test apps: one critical dependency that hangs (HANG_URL)."""

import os

import watchkeeper
from watchkeeper import health

watchkeeper.init(service={"name": "health-test", "version": "1.2.3"})
health.add_check("db", health.http_check(os.environ["HANG_URL"]), critical=True,
                 timeout=float(os.environ.get("CHECK_TIMEOUT", "1")), interval=30)
health.add_check("disk", health.disk_check("/"), critical=False)
health.set_component_status("consumer", True, {"lag": 0})
breaker = health.CircuitBreaker("payments")
