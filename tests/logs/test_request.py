from __future__ import annotations

from typing import Any

from watchkeeper import logs
from watchkeeper._http_types import RequestRecord
from watchkeeper.config import LogsSettings, Settings
from watchkeeper.logs._request import RequestLogHook


def _record(headers: list[tuple[bytes, bytes]], client: str = "10.0.0.5") -> RequestRecord:
    scope = {"type": "http", "headers": headers}
    return RequestRecord(method="POST", path="/login", query_string="next=/&token=abc123456",
                         scheme="http", client=client, start=0.0, start_time=0.0, raw=scope)


def _hook(**access: Any) -> RequestLogHook:
    return RequestLogHook(LogsSettings(access_log=access), new_id=lambda: "generated-id")


def test_request_id_validation() -> None:
    hook = _hook(max_request_id_length=16)
    assert hook.request_id_for("abc-123_x.y") == "abc-123_x.y"
    assert hook.request_id_for("a" * 17) == "generated-id"
    assert hook.request_id_for("has space") == "generated-id"
    assert hook.request_id_for('quote"') == "generated-id"
    assert hook.request_id_for(None) == "generated-id"
    assert _hook(trust_request_id=False).request_id_for("abc") == "generated-id"


def test_client_ip_honours_forwarded_for_only_from_trusted_proxies() -> None:
    hook = _hook(trusted_proxies=["10.0.0.0/8"])
    forwarded = [(b"x-forwarded-for", b"203.0.113.9, 10.1.1.1")]
    assert hook.client_ip(_record(forwarded)) == "203.0.113.9"
    assert hook.client_ip(_record(forwarded, client="198.51.100.7")) == "198.51.100.7"
    assert _hook().client_ip(_record(forwarded)) == "10.0.0.5"


def test_hook_sets_context_and_writes_one_access_line(captured: Any) -> None:
    hook = logs.request_hook(Settings(logs=LogsSettings(access_log={"debug": True})))
    record = _record([(b"x-request-id", b"rid-1"), (b"authorization", b"Bearer s3cr3tt0ken"),
                      (b"user-agent", b"pytest")])
    assert hook.on_request(record) is None
    assert ("X-Request-ID", "rid-1") in record.response_headers
    assert logs.request_id.get() == "rid-1"
    logs.get_logger("app").info("inside")
    record.status, record.duration, record.route = 201, 0.0123, "/login"
    hook.on_response(record)
    debug, inside, access = captured.records
    assert debug["headers"]["authorization"] == "[REDACTED]"
    assert "abc123456" not in debug["query"]
    assert inside["request_id"] == "rid-1"
    assert access["message"] == "POST /login 201"
    assert access["duration_ms"] == 12.3
    assert access["user_agent"] == "pytest"
    assert access["request_id"] == "rid-1"
    assert b"s3cr3tt0ken" not in b"".join(captured.lines)


def test_exception_makes_the_access_line_an_error(captured: Any) -> None:
    hook = logs.request_hook(Settings())
    record = _record([])
    hook.on_request(record)
    record.status, record.exception = 500, RuntimeError("x")
    hook.on_response(record)
    (access,) = captured.records
    assert access["level"] == "ERROR"
    assert access["status"] == 500


async def test_500_from_starlette_error_middleware_carries_request_id() -> None:
    """Unhandled exceptions are answered by Starlette's ServerErrorMiddleware, outside
    our middleware; the answer (default, a user's handler, the debug page) keeps its
    body and status and still echoes the request id."""
    import httpx
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from starlette.requests import Request

    import watchkeeper

    def make(*, handler: bool, debug: bool) -> FastAPI:
        app = FastAPI(debug=debug)

        @app.get("/boom")
        async def boom() -> None:
            raise RuntimeError("kaboom")

        @app.get("/ok")
        async def ok() -> dict[str, bool]:
            return {"ok": True}

        if handler:
            @app.exception_handler(Exception)
            async def custom(request: Request, exc: Exception) -> JSONResponse:
                return JSONResponse({"detail": "custom"}, status_code=500)

        watchkeeper.instrument(app, logs={"stream": "none"})
        return app

    for handler, debug in ((False, False), (True, False), (False, True)):
        app = make(handler=handler, debug=debug)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/boom", headers={"X-Request-ID": "rid-500"})
            assert response.status_code == 500
            assert response.headers.get_list("x-request-id") == ["rid-500"]
            if handler:
                assert response.json() == {"detail": "custom"}
            elif debug:
                assert "RuntimeError" in response.text
            else:
                assert response.text == "Internal Server Error"
            fine = await client.get("/ok", headers={"X-Request-ID": "rid-ok"})
            assert fine.headers.get_list("x-request-id") == ["rid-ok"]
        watchkeeper.uninstrument(app)
        assert "build_middleware_stack" not in app.__dict__
