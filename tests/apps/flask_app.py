"""A Flask app served by gunicorn."""

import time

from flask import Flask, Response, abort

import watchkeeper

app = Flask(__name__)


@app.get("/items/<int:item_id>")
def get_item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@app.get("/boom")
def boom() -> str:
    raise ValueError("handler failure")


@app.get("/missing")
def missing() -> str:
    abort(404)


@app.get("/stream")
def stream() -> Response:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(3):
            time.sleep(0.1)
            yield b"x" * 100

    return Response(chunks())


watchkeeper.instrument(app)
