"""Black-box: a real uvicorn app behind the security stage."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests._servers import free_port, serve, uvicorn, value

from .corpus import ATTACKS, benign_requests

pytestmark = pytest.mark.slow
APPS = Path(__file__).parent / "apps"


def _serve(env: dict[str, str]):  # type: ignore[no-untyped-def]
    port = free_port()
    return serve(uvicorn("secure_app:app", port), port, env=env, cwd=APPS)


def test_corpus_through_a_real_server_in_block_mode() -> None:
    with _serve({"WATCHKEEPER_SECURITY__MODE": "block"}) as base, \
            httpx.Client(base_url=base) as client:
        detected = total = 0
        for payloads in ATTACKS.values():
            for payload in payloads:
                total += 1
                response = client.get(f"/search?q={quote(payload, safe='')}")
                detected += response.status_code == 403
        false_positives = []
        benign = benign_requests()
        for path, query, agent in benign:
            response = client.get(f"{path}?{query}", headers={"user-agent": agent})
            if response.status_code == 403:
                false_positives.append((path, query))
        metrics = client.get("/metrics").text
    recall = detected / total
    rate = len(false_positives) / len(benign)
    print(f"\n[uvicorn] recall {recall:.2%} ({detected}/{total}), false positives "
          f"{rate:.3%} ({len(false_positives)}/{len(benign)})")
    assert recall >= 0.95
    assert rate <= 0.001, false_positives[:10]
    assert (value(metrics, "security_events_total", category="sqli", severity="high",
                  action="blocked") or 0) > 0


def test_detect_mode_lets_attacks_through_and_counts_them(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    with _serve({"WATCHKEEPER_SECURITY__AUDIT__PATH": str(audit)}) as base, \
            httpx.Client(base_url=base) as client:
        assert client.get("/search", params={"q": "<script>alert(1)</script>"}).status_code \
            == 200
        assert client.get("/items/1", headers={"user-agent": "sqlmap/1.7"}).status_code == 200
        metrics = client.get("/metrics").text
    assert value(metrics, "security_events_total", category="xss", severity="high",
                 action="detected") == 1
    assert value(metrics, "security_events_total", category="scanner", action="detected") == 1
    text = audit.read_text()
    assert "rule_hit" in text
    assert "xss.script_tag" in text
    assert "alert(1)" not in text


def test_brute_force_end_to_end(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    log = tmp_path / "app.log"
    env = {"WATCHKEEPER_SECURITY__MODE": "block",
           "WATCHKEEPER_SECURITY__AUDIT__PATH": str(audit),
           "WATCHKEEPER_SECURITY__BRUTE_FORCE__BLOCK_TTL": "3s",
           "SECURITY_TEST_LOG": str(log)}
    with _serve(env) as base, httpx.Client(base_url=base) as client:
        statuses = [client.post("/login", json={"user": "alice", "password": f"guess{i}"})
                    .status_code for i in range(20)]
        # 11 failures cross "more than 10"; the 12th attempt on is refused by the block.
        assert statuses == [401] * 11 + [403] * 9
        assert client.get("/items/1").status_code == 403
        metrics = client.get("/metrics").text
        assert value(metrics, "auth_failures_total", reason="status_401") == 11
        assert value(metrics, "security_events_total", category="brute_force",
                     action="blocked") == 1
        assert value(metrics, "blocked_clients") == 1
        time.sleep(3.2)
        assert client.get("/items/1").status_code == 200  # the block expired
        assert client.post("/login", json={"password": "correct horse"}).status_code == 200
        assert value(client.get("/metrics").text, "blocked_clients") == 0
    assert "possible brute force ip" in log.read_text()
    events = audit.read_text()
    assert events.count('"auth_failure"') == 11
    assert '"incident"' in events
    assert '"client_blocked"' in events
    cli = [sys.executable, "-m", "watchkeeper.cli", "security", "verify-audit", str(audit)]
    env_cli = {"PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    ok = subprocess.run(cli, capture_output=True, text=True, env=env_cli, check=False)
    assert ok.returncode == 0, ok.stderr
    lines = audit.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace("status_401", "status_200")
    audit.write_text("".join(lines))
    bad = subprocess.run(cli, capture_output=True, text=True, env=env_cli, check=False)
    assert bad.returncode == 1
    assert "line 6" in bad.stderr


def test_app_reported_outcomes_and_user_incidents(tmp_path: Path) -> None:
    env = {"WATCHKEEPER_SECURITY__BRUTE_FORCE__THRESHOLD": "3"}
    with _serve(env) as base, httpx.Client(base_url=base) as client:
        for _ in range(5):
            assert client.post("/api/login", json={"user": "bob", "password": "x"}) \
                .status_code == 400
        metrics = client.get("/metrics").text
    assert value(metrics, "auth_failures_total", reason="invalid_credentials") == 5
    # detect mode: one incident per IP and one per user, nothing blocked
    assert value(metrics, "security_events_total", category="brute_force",
                 action="detected") == 2


def test_bad_input_is_survived() -> None:
    # A fresh connection per request: after a handler crash (deep JSON) the server closes
    # the connection, and a reused keep-alive connection would be reset under the test.
    fresh = httpx.Limits(max_keepalive_connections=0)
    with _serve({"WATCHKEEPER_SECURITY__MODE": "block"}) as base, \
            httpx.Client(base_url=base, timeout=30, limits=fresh) as client:
        assert client.get("/items/1", headers={"user-agent": "A" * 60_000}).status_code in (
            200, 431, 400)
        assert client.get("/search?q=%ff%fe%c0%af").status_code == 200
        assert client.get("/search?q=" + "%25" * 20_000).status_code in (200, 414, 400)
        nested = "[" * 50_000 + "]" * 50_000
        assert client.post("/login", content=nested,
                           headers={"content-type": "application/json"}).status_code in (
            400, 401, 422, 500)
        big = b'{"user": "' + b"\xc3\xa9" * 1_000_000 + b'", "password": "x"}'
        assert client.post("/login", content=big,
                           headers={"content-type": "application/json"}).status_code == 401
        assert client.get("/items/1", headers={"cookie": "a=" + "'" * 8000}).status_code \
            in (200, 403)
        assert client.get("/items/2").status_code == 200  # still serving
