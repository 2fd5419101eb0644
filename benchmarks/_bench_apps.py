"""The app the HTTP benchmarks serve, instrumented per ``BENCH_VARIANT``:
bare | watchkeeper (metrics alone) | watchkeeper_defaults (every stage on by default:
metrics, JSON access log, security in detect mode, error capture) | instrumentator |
starlette_exporter."""

import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


variant = os.environ.get("BENCH_VARIANT", "bare")
if variant == "watchkeeper":
    import watchkeeper

    watchkeeper.instrument(app, logs={"enabled": False}, security={"enabled": False},
                           errors={"enabled": False}, traces={"enabled": False})
elif variant == "watchkeeper_defaults":
    import watchkeeper

    watchkeeper.instrument(app)
elif variant == "instrumentator":
    from prometheus_fastapi_instrumentator import Instrumentator

    Instrumentator().instrument(app).expose(app)
elif variant == "starlette_exporter":
    from starlette_exporter import PrometheusMiddleware, handle_metrics

    app.add_middleware(PrometheusMiddleware, group_paths=True)
    app.add_route("/metrics", handle_metrics)
elif variant != "bare":
    raise SystemExit(f"unknown BENCH_VARIANT {variant!r}")
