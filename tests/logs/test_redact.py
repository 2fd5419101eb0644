from __future__ import annotations

import dataclasses
import logging
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper import logs
from watchkeeper.logs import Redactor

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx8Zq3kS9fQvZ\nAbCdEfGh123\n"
       "-----END RSA PRIVATE KEY-----")
AWS = "AKIAIOSFODNN7EXAMPLE"
CARD = "4111 1111 1111 1111"
SECRET_PW = "s3cr3t-Pa55w0rd-XyZ"

# (text containing a secret, the secret part that must vanish)
CORPUS: list[tuple[str, str]] = [
    (f"Authorization: Bearer {JWT}", JWT),
    ("auth header was Bearer abcDEF123456ghiJKL", "abcDEF123456ghiJKL"),
    ("Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
    (f"token is {JWT} ok", JWT),
    (f"key={AWS}", AWS),
    (f"creds {AWS} here", AWS),
    (f"pem:\n{PEM}\nend", "MIIEowIBAAKCAQEAx8Zq3kS9fQvZ"),
    (f"card {CARD} charged", "4111 1111 1111 1111"),
    ("card 4111111111111111 charged", "4111111111111111"),
    ("card 5500-0000-0000-0004", "5500-0000-0000-0004"),
    (f"postgres://app:{SECRET_PW}@db.internal:5432/app", SECRET_PW),
    (f"redis://:{SECRET_PW}@cache:6379/0", SECRET_PW),
    ("amqp://guest:p@ss@w0rd@mq/vhost", "p@ss@w0rd"),
    (f"login failed password={SECRET_PW} user=bob", SECRET_PW),
    (f'{{"api_key": "{SECRET_PW}"}}', SECRET_PW),
    (f"GET /cb?access_token={SECRET_PW}&x=1", SECRET_PW),
    (f"client_secret: '{SECRET_PW}'", SECRET_PW),
]


@pytest.mark.parametrize(("text", "secret"), CORPUS)
def test_value_rules_remove_secret_shapes(text: str, secret: str) -> None:
    out = Redactor().redact_str(text)
    assert secret not in out
    assert "REDACTED" in out


def test_non_luhn_numbers_and_ordinary_text_are_kept() -> None:
    r = Redactor()
    for text in ("order 4111111111111112 placed", "user 12345 logged in at 2026-01-01",
                 "Basic", "GET /items/42 200", "took 1234567 ns"):
        assert r.redact_str(text) == text


def test_key_rules_are_case_and_separator_insensitive() -> None:
    r = Redactor(add_keys=["pin"], remove_keys=["session"])
    data = {"Password": "a", "X-API-Key": "b", "apiKey": "c", "set-cookie": "d",
            "AUTHORIZATION": "e", "credit_card_number": "f", "user_pin": "g",
            "session_id": "kept", "user": "ann"}
    out = r.redact(data)
    assert out["session_id"] == "kept"
    assert out["user"] == "ann"
    assert all(out[k] == "[REDACTED]" for k in data if k not in ("session_id", "user"))


def test_recursive_structures_dataclasses_and_pydantic() -> None:
    import pydantic

    @dataclasses.dataclass
    class Creds:
        user: str
        password: str

    class Model(pydantic.BaseModel):
        token: str
        note: str

    loop: list[Any] = []
    loop.append(loop)
    value = {"nested": [{"secret": "x1"}, ("Bearer abcdefgh123",)], "creds": Creds("u", "pw1"),
             "model": Model(token="tk1", note=f"jwt {JWT}"), "loop": loop, "set": {"a"}}
    text = orjson.dumps(Redactor().redact(value)).decode()
    for bad in ("x1", "abcdefgh123", "pw1", "tk1", JWT):
        assert bad not in text
    assert "[recursion]" in text


def test_headers_are_redacted() -> None:
    headers = [("Authorization", "Bearer abc123456"), ("Cookie", "sid=1"),
               ("X-Api-Key", "k"), ("Accept", "text/html"), ("X-Forward", f"{JWT}")]
    out = dict(Redactor().redact_headers(headers))
    assert out["Authorization"] == out["Cookie"] == out["X-Api-Key"] == "[REDACTED]"
    assert out["Accept"] == "text/html"
    assert JWT not in out["X-Forward"]


def test_gdpr_mode() -> None:
    r = Redactor(emails=True, ips=True)
    out = r.redact_str("mail ann@example.com from 10.1.2.3 and 2001:db8::1 at 12:30:45")
    assert "ann@example.com" not in out
    assert "10.1.2.3" not in out
    assert "2001:db8::1" not in out
    assert "12:30:45" in out


def test_replacement_never_echoes_the_secret() -> None:
    out = Redactor().redact_str("card 4111111111111111")
    assert "1111" not in out
    assert "4111" not in out


def test_pipeline_redacts_message_args_extras_context_and_exceptions(captured: Any) -> None:
    logs.bind(session="sess-secret-1", user="ann")
    logging.getLogger("lib").warning("login %s with %s", "bob", f"password={SECRET_PW}",
                                     extra={"token": "tok-secret-2", "auth": f"Bearer {JWT}"})
    log = logs.get_logger("app")
    try:
        raise ValueError(f"could not connect to postgres://u:{SECRET_PW}@db/x")
    except ValueError:
        log.exception("failed", api_key="key-secret-3", headers={"Cookie": "c-secret-4"})
    text = b"".join(captured.lines).decode()
    for bad in ("sess-secret-1", SECRET_PW, "tok-secret-2", JWT, "key-secret-3", "c-secret-4"):
        assert bad not in text
    assert "ann" in text


# -- property: planted secrets never appear ------------------------------------------------
_alnum = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789",
                 min_size=16, max_size=32)


@st.composite
def planted_secret(draw: Any) -> tuple[str, str]:
    """(the text to plant, the secret substring that must not survive)."""
    token = draw(_alnum)
    kind = draw(st.sampled_from(["bearer", "jwt", "aws", "conn", "pair", "card", "pem"]))
    if kind == "bearer":
        return f"Bearer {token}", token
    if kind == "jwt":
        return f"eyJ{token}.eyJ{token[::-1]}.{token[:8]}", f"eyJ{token}"
    if kind == "aws":
        upper = "".join(c for c in token.upper() if c.isalnum())[:16].ljust(16, "Q")
        return f"AKIA{upper}", f"AKIA{upper}"
    if kind == "conn":
        return f"postgresql://app:{token}@db:5432/x", token
    if kind == "pair":
        return f"password={token}", token
    if kind == "pem":
        return (f"-----BEGIN PRIVATE KEY-----\n{token}\n-----END PRIVATE KEY-----", token)
    digits = draw(st.lists(st.integers(0, 9), min_size=15, max_size=15))
    body = "4" + "".join(map(str, digits))
    total = sum(int(c) for c in body)  # fix the last digit with Luhn
    for check in range(10):
        candidate = body[:-1] + str(check)
        if _luhn(candidate):
            return candidate, candidate
    raise AssertionError(total)


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                 max_size=12).map(lambda s: s.replace(" ", "_"))
_keys = st.sampled_from(["user", "note", "data", "items", "msg", "info", "x", "meta"])
_sensitive_keys = st.sampled_from(["password", "Authorization", "X-Api-Key", "db_secret",
                                   "refresh_token", "Set-Cookie", "card_number", "cvv"])


@st.composite
def structure_with_secrets(draw: Any) -> tuple[Any, list[str]]:
    secrets: list[str] = []

    def leaf() -> Any:
        if draw(st.booleans()):
            text, secret = draw(planted_secret())
            secrets.append(secret)
            return f"{draw(_words)} {text} {draw(_words)}"
        return draw(st.one_of(_words, st.integers(-1000, 1000), st.none()))

    def node(depth: int) -> Any:
        choice = draw(st.integers(0, 3 if depth < 3 else 0))
        if choice == 0:
            return leaf()
        if choice == 1:
            return [node(depth + 1) for _ in range(draw(st.integers(0, 3)))]
        if choice == 2:
            return tuple(node(depth + 1) for _ in range(draw(st.integers(0, 3))))
        out: dict[str, Any] = {}
        for _ in range(draw(st.integers(0, 4))):
            if draw(st.booleans()):
                secret = draw(_alnum)
                secrets.append(secret)
                out[draw(_sensitive_keys)] = secret
            else:
                out[draw(_keys)] = node(depth + 1)
        return out

    return node(0), secrets


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structure_with_secrets())
def test_planted_secrets_never_appear(case: tuple[Any, list[str]]) -> None:
    value, secrets = case
    text = orjson.dumps(Redactor().redact(value)).decode()
    for secret in secrets:
        assert secret not in text


@settings(max_examples=100, deadline=None)
@given(planted_secret(), _words, _words)
def test_planted_secrets_never_appear_in_log_lines(planted: tuple[str, str], a: str,
                                                    b: str) -> None:
    text, secret = planted
    with logs.capture_logs() as captured:
        logs.get_logger("prop").info(f"{a} {text} {b}", detail=f"{b} {text}")
        try:
            raise RuntimeError(f"{a} {text}")
        except RuntimeError:
            logging.getLogger("prop").exception("failed %s", text)
    assert secret not in b"".join(captured.lines).decode("utf-8", "replace")
