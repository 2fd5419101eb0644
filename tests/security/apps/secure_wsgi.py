"""A plain WSGI app behind watchkeeper's security stage (configured by WATCHKEEPER_* env):
``/echo`` reads its whole body the way PEP 3333 allows for bodies without a length."""

from collections.abc import Callable, Iterable
from typing import Any

import watchkeeper


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    body = stream.read(int(length)) if length else stream.read()
    start_response("200 OK", [("content-type", "text/plain")])
    return [f"{len(body)} ".encode(), body[:10]]


app = watchkeeper.instrument(_app)
