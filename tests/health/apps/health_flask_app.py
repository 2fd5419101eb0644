"""Flask + watchkeeper health, for gunicorn."""

from flask import Flask
from health_common import breaker  # noqa: F401 - registers checks

import watchkeeper

app = Flask(__name__)


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}


watchkeeper.instrument(app)
