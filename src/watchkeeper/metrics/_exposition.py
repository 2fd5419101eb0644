"""Prometheus text 0.0.4 and OpenMetrics 1.0 writers over snapshots.

Label strings are rendered once per series when the series is created, so a scrape is
mostly string joins; this is what makes it several times faster than formatting every
label on every scrape.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._names import escape_help, format_value
from ._snapshot import FamilySnapshot

__all__ = ["OPENMETRICS_CONTENT_TYPE", "TEXT_CONTENT_TYPE", "render_openmetrics", "render_text"]

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def render_text(families: Iterable[FamilySnapshot]) -> str:
    """The Prometheus text exposition format, version 0.0.4."""
    out: list[str] = []
    append = out.append
    for fam in families:
        if not fam.series:
            continue
        name = fam.name
        if fam.kind == "counter":
            sample = f"{name}_total"
            append(f"# HELP {sample} {escape_help(fam.documentation)}\n# TYPE {sample} counter\n")
            _simple(out, sample, fam)
        elif fam.kind == "gauge":
            append(f"# HELP {name} {escape_help(fam.documentation)}\n# TYPE {name} gauge\n")
            _simple(out, name, fam)
        else:
            append(f"# HELP {name} {escape_help(fam.documentation)}\n# TYPE {name} histogram\n")
            _histogram(out, name, fam)
    return "".join(out)


def render_openmetrics(families: Iterable[FamilySnapshot], *, eof: bool = True) -> str:
    """OpenMetrics 1.0 text: counters typed without ``_total``, units, ``# EOF``."""
    out: list[str] = []
    append = out.append
    for fam in families:
        if not fam.series:
            continue
        name = fam.name
        append(f"# TYPE {name} {fam.kind}\n")
        if fam.unit:
            append(f"# UNIT {name} {fam.unit}\n")
        append(f"# HELP {name} {escape_help(fam.documentation)}\n")
        if fam.kind == "counter":
            _simple(out, f"{name}_total", fam)
        elif fam.kind == "gauge":
            _simple(out, name, fam)
        elif fam.exemplars:
            _histogram_exemplars(out, name, fam)
        else:
            _histogram(out, name, fam)
    if eof:
        append("# EOF\n")
    return "".join(out)


def _simple(out: list[str], sample: str, fam: FamilySnapshot) -> None:
    append = out.append
    bare = f"{sample} "
    for labels, values in fam.series:
        value = values[0]
        # v - v is 0.0 for every finite float and NaN for inf/NaN: one test for both.
        text = repr(value) if value - value == 0.0 else format_value(value)
        if labels:
            append(f"{sample}{{{labels}}} {text}\n")
        else:
            append(f"{bare}{text}\n")



def _histogram(out: list[str], name: str, fam: FamilySnapshot) -> None:
    append = out.append
    les = [f'le="{format_value(b)}"' for b in fam.bounds] + ['le="+Inf"']
    bucket = f"{name}_bucket"
    for labels, values in fam.series:
        sep = f"{{{labels}," if labels else "{"
        total = 0.0
        for le, count in zip(les, values, strict=False):
            total += count
            append(f"{bucket}{sep}{le}}} {total!r}\n")
        suffix = f"{{{labels}}}" if labels else ""
        append(f"{name}_count{suffix} {total!r}\n{name}_sum{suffix} {format_value(values[-1])}\n")


def _histogram_exemplars(out: list[str], name: str, fam: FamilySnapshot) -> None:
    """``_histogram`` with an OpenMetrics exemplar on buckets that have one (a separate
    function so the common no-exemplar render keeps its tight loop)."""
    append = out.append
    les = [f'le="{format_value(b)}"' for b in fam.bounds] + ['le="+Inf"']
    bucket = f"{name}_bucket"
    exemplars = fam.exemplars
    for labels, values in fam.series:
        sep = f"{{{labels}," if labels else "{"
        marks = exemplars.get(labels)
        total = 0.0
        for i, (le, count) in enumerate(zip(les, values, strict=False)):
            total += count
            mark = marks.get(i) if marks else None
            if mark is None:
                append(f"{bucket}{sep}{le}}} {total!r}\n")
            else:
                trace_id, value, at = mark
                append(f'{bucket}{sep}{le}}} {total!r} # {{trace_id="{trace_id}"}} '
                       f"{format_value(value)} {at:.3f}\n")
        suffix = f"{{{labels}}}" if labels else ""
        append(f"{name}_count{suffix} {total!r}\n{name}_sum{suffix} {format_value(values[-1])}\n")
