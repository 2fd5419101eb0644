"""E-mail receiver over SMTP (STARTTLS when offered or required, AUTH, text + HTML)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.charset import QP, Charset
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formatdate, make_msgid
from typing import Any

from ...exceptions import ReceiverError
from ...rules._alert import Alert
from .._data import NotifyContext
from .._template import TemplateSet
from ._base import read_secret
from ._common import Renderer

__all__ = ["EmailNotifier"]

_DEFAULTS = {
    "html": '{{ template "email.default.html" . }}',
    "text": '{{ template "email.default.text" . }}',
}


def _part(body: str, subtype: str) -> MIMENonMultipart:
    # Quoted-printable UTF-8 without touching the body (no added final newline).
    part = MIMENonMultipart("text", subtype, charset="UTF-8")
    charset = Charset("utf-8")
    charset.body_encoding = QP
    part.set_payload(body, charset=charset)
    return part


class EmailNotifier:
    def __init__(self, settings: Mapping[str, Any], templates: TemplateSet | None,
                 timeout: float = 10.0) -> None:
        self.r = Renderer("email", settings, templates, _DEFAULTS)
        self.settings = settings
        self.timeout = timeout

    def message(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> Message:
        """multipart/alternative (text, then HTML), bodies exactly as rendered."""
        data = self.r.data(ctx, alerts)
        s = self.settings
        headers = {"Subject": '{{ template "email.default.subject" . }}',
                   "To": str(s["to"]), "From": str(s["from"])}
        headers.update({str(k): str(v) for k, v in (s.get("headers") or {}).items()})
        text = self.r.get("text", data)
        html = self.r.get("html", data, html=True)  # html/template, as upstream
        msg: Message = MIMEMultipart("alternative")
        if text:
            msg.attach(_part(text, "plain"))
        if html:
            msg.attach(_part(html, "html"))
        for key, value in headers.items():
            msg[key] = self.r.render(value, data)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-Id"] = make_msgid(domain=str(s.get("hello") or "localhost"))
        return msg

    async def notify(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> None:
        msg = self.message(ctx, alerts)
        await asyncio.to_thread(self._send, msg)

    def _send(self, msg: Message) -> None:
        s = self.settings
        host, _, port_text = str(s["smarthost"]).rpartition(":")
        port = int(port_text or 25)
        require_tls = bool(s.get("require_tls", True))
        tls = s.get("tls_config") or {}
        context = ssl.create_default_context()
        if tls.get("insecure_skip_verify"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            smtp: smtplib.SMTP
            if port == 465:
                smtp = smtplib.SMTP_SSL(host, port, local_hostname=str(s.get("hello") or
                                        "localhost"), timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(host, port, local_hostname=str(s.get("hello") or
                                    "localhost"), timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if port != 465:
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=context)
                        smtp.ehlo()
                    elif require_tls:
                        raise ReceiverError(
                            "email: 'require_tls' is true (default) but "
                            f'"{host}:{port}" does not advertise the STARTTLS extension',
                            retryable=False)
                user = s.get("auth_username")
                if user and smtp.has_extn("auth"):
                    smtp.login(str(user), read_secret(s, "auth_password"))
                smtp.send_message(msg, to_addrs=[a.strip() for a in str(msg["To"]).split(",")])
        except ReceiverError:
            raise
        except smtplib.SMTPResponseException as exc:
            raise ReceiverError(f"email: {exc.smtp_code} {exc.smtp_error!r}",
                                retryable=exc.smtp_code >= 400 and exc.smtp_code < 500) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ReceiverError(f"email: {type(exc).__name__}: {exc}", retryable=True) from exc
