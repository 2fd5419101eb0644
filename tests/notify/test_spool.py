"""The incident spool: alerts appended by several processes are drained exactly once, a
torn line costs only itself, and what comes out is what went in."""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.notify._spool import AlertSpool
from watchkeeper.rules import Alert

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _alert(n: int, **labels: str) -> Alert:
    return Alert(labels={"alertname": "SecurityBruteForce", "n": str(n), **labels},
                 annotations={"summary": f"incident {n}"}, starts_at=T0,
                 ends_at=T0 + timedelta(minutes=15), generator_url="")


def test_drain_returns_what_was_appended_once(tmp_path: Path) -> None:
    spool = AlertSpool(tmp_path / "incidents")
    assert spool.drain() == []  # no directory yet
    spool.append([_alert(1), _alert(2)])
    spool.append([_alert(3)])
    assert [a.labels["n"] for a in spool.drain()] == ["1", "2", "3"]
    assert spool.drain() == []
    spool.append([_alert(4)])
    assert [a.labels["n"] for a in spool.drain()] == ["4"]


def _writer(directory: str, worker: int, batches: int) -> None:
    spool = AlertSpool(directory)
    for batch in range(batches):
        spool.append([_alert(worker * 1000 + batch * 2), _alert(worker * 1000 + batch * 2 + 1)])


def test_concurrent_writers_and_a_draining_leader_lose_and_repeat_nothing(
        tmp_path: Path) -> None:
    directory = str(tmp_path / "incidents")
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_writer, args=(directory, w, 300)) for w in range(3)]
    for process in writers:
        process.start()
    spool = AlertSpool(directory)
    seen: list[str] = []
    while any(p.is_alive() for p in writers):
        seen += [a.labels["n"] for a in spool.drain()]
        time.sleep(0.001)
    for process in writers:
        process.join()
    seen += [a.labels["n"] for a in spool.drain()]
    expected = {str(w * 1000 + i) for w in range(3) for i in range(600)}
    assert len(seen) == len(expected)
    assert set(seen) == expected


def test_a_torn_line_is_skipped_and_the_rest_delivered(tmp_path: Path) -> None:
    spool = AlertSpool(tmp_path)
    spool.append([_alert(1)])
    with (tmp_path / "999.jsonl").open("ab") as f:
        f.write(b'[{"labels": {"alertname": "Cut"')  # a writer killed mid-line
    with (tmp_path / "998.jsonl").open("ab") as f:
        f.write(b'[{"labels": {}}]\n')  # parses, but is no alert
    spool.append([_alert(2)])
    assert sorted(a.labels["n"] for a in spool.drain()) == ["1", "2"]
    assert spool.drain() == []


_label_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=80, deadline=None)
@given(labels=st.dictionaries(st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True),
                              _label_text, min_size=1, max_size=4),
       annotations=st.dictionaries(st.text(min_size=1, max_size=6), st.text(max_size=20),
                                   max_size=3),
       ends=st.one_of(st.none(), st.integers(0, 10_000)))
def test_alerts_come_out_as_they_went_in(labels: dict[str, str], annotations: dict[str, str],
                                         ends: int | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        spool = AlertSpool(directory)
        alert = Alert(labels=labels, annotations=annotations, starts_at=T0,
                      ends_at=None if ends is None else T0 + timedelta(seconds=ends),
                      generator_url="http://app/graph")
        spool.append([alert])
        (out,) = spool.drain()
        assert dict(out.labels) == labels
        assert dict(out.annotations) == annotations
        assert out.starts_at == alert.starts_at
        assert out.ends_at == alert.ends_at
        assert out.generator_url == alert.generator_url
