from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.exceptions import NotifyConfigError
from watchkeeper.notify import load_config, parse_config

from .conftest import CORPUS


@pytest.mark.skipif(not CORPUS.is_dir(), reason="conformance corpus ../shared absent")
@pytest.mark.parametrize("name", ["conf.good.yml", "conf.http-config.good.yml", "simple.yml"])
def test_upstream_corpus_parses(name: str) -> None:
    cfg = load_config(CORPUS / name)
    assert cfg.route.receiver
    assert cfg.receivers


GOOD = """\
route:
  receiver: a
receivers:
  - name: a
"""


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (GOOD.replace("receiver: a", "receiver: nope"), 2, 'undefined receiver "nope" used'),
        (GOOD + "  - name: a\n", 5, 'notification config name "a" is not unique'),
        (GOOD.replace("  receiver: a\n", "  receiver: a\n  bogus: 1\n"), 3,
         "field bogus not found"),
        (GOOD.replace("  receiver: a\n", "  receiver: a\n  group_wait: 5x\n"), 3,
         "group_wait: not a valid duration"),
        (GOOD.replace("  receiver: a\n", "  receiver: a\n  routes:\n    - matchers: "
                      "['foo=~\"(\"']\n"), 4, "matchers: invalid regular expression"),
        (GOOD.replace("  receiver: a\n", "  receiver: a\n  group_by: [a, '...']\n"), 3,
         "cannot have wildcard group_by"),
        (GOOD.replace("  receiver: a\n", "  receiver: a\n  routes:\n    - receiver: a\n"
                      "      mute_time_intervals: [night]\n"), 5,
         'undefined time interval "night" used in route'),
        (GOOD.replace("  receiver: a\n", "  receiver: a\n  repeat_interval: 0s\n"), 3,
         "repeat_interval cannot be zero"),
        ("route:\n  receiver: a\n  continue: true\nreceivers:\n  - name: a\n", 2,
         "cannot have continue in root route"),
        ("route:\n  group_by: [x]\nreceivers:\n  - name: a\n", 2,
         "root route must specify a default receiver"),
        ("receivers:\n  - name: a\n", 1, "no route provided"),
        (GOOD + "    webhook_configs:\n      - send_resolved: true\n", 6,
         "one of url or url_file must be configured"),
        (GOOD + "    email_configs:\n      - to: x@example.org\n", 6,
         "no global SMTP smarthost set"),
        ("route:\n  receiver: a\n   bad: [\n", 3, "invalid YAML"),
        (GOOD + "time_intervals:\n  - name: t\n    time_intervals:\n"
         "      - times: [{start_time: '10:00', end_time: '09:00'}]\n", 8,
         "start time cannot be equal or greater than end time"),
    ],
)
def test_errors_name_file_line_and_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(NotifyConfigError) as info:
        parse_config(text, "am.yml")
    err = info.value
    assert problem in err.problem
    assert (err.file, err.line) == ("am.yml", line)
    assert str(err).startswith(f"am.yml:{line}: ")


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotifyConfigError, match="cannot read file"):
        load_config(tmp_path / "nope.yml")


def test_defaults_and_globals() -> None:
    cfg = parse_config(GOOD.replace("  - name: a\n", "  - name: a\n    slack_configs:\n"
                                    "      - channel: '#x'\n")
                       + "global:\n  slack_api_url: http://h/x\n  resolve_timeout: 1m\n")
    slack = cfg.receivers["a"].integrations[0]
    assert slack.kind == "slack"
    assert slack.settings["api_url"] == "http://h/x"
    assert slack.send_resolved is False
    assert cfg.global_.resolve_timeout == 60.0
