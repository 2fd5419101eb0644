"""``check-config`` accepts and rejects the same files as ``amtool check-config``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from watchkeeper.cli._notify import run

from ._servers import AMTOOL

pytestmark = pytest.mark.skipif(AMTOOL is None, reason="amtool not installed")

BASE = """\
global:
  resolve_timeout: 5m
route:
  receiver: a
  group_by: [alertname]
  routes:
    - matchers: ['team="x"']
      receiver: b
receivers:
  - name: a
    webhook_configs: [{url: "http://127.0.0.1:1/hook"}]
  - name: b
"""

VARIANTS = {
    "good": BASE,
    "undefined-receiver": BASE.replace("receiver: b", "receiver: zz"),
    "duplicate-receiver": BASE + "  - name: a\n",
    "wildcard-and-labels": BASE.replace("[alertname]", "[alertname, '...']"),
    "wildcard": BASE.replace("[alertname]", "['...']"),
    "dup-group-by": BASE.replace("[alertname]", "[alertname, alertname]"),
    "bad-group-by-name": BASE.replace("[alertname]", "[1abc]"),
    "bad-matcher": BASE.replace("'team=\"x\"'", "'team=\"x'"),
    "bad-regex-matcher": BASE.replace("'team=\"x\"'", "'team=~\"(\"'"),
    "match-legacy": BASE.replace("- matchers: ['team=\"x\"']", "- match: {team: x}"),
    "match-re-bad": BASE.replace("- matchers: ['team=\"x\"']", "- match_re: {team: '('}"),
    "match-bad-label": BASE.replace("- matchers: ['team=\"x\"']", "- match: {1team: x}"),
    "zero-group-interval": BASE.replace("  group_by:", "  group_interval: 0s\n  group_by:"),
    "bad-duration": BASE.replace("  group_by:", "  group_wait: 5x\n  group_by:"),
    "continue-root": BASE.replace("  group_by:", "  continue: true\n  group_by:"),
    "root-matchers": BASE.replace("  group_by:", "  matchers: [a=b]\n  group_by:"),
    "unknown-field": BASE.replace("  group_by:", "  colour: red\n  group_by:"),
    "unknown-top": BASE + "bogus: 1\n",
    "no-route": BASE.split("route:", maxsplit=1)[0] + "receivers:\n  - name: a\n",
    "no-root-receiver": BASE.replace("  receiver: a\n  group_by", "  group_by"),
    "webhook-no-url": BASE.replace('{url: "http://127.0.0.1:1/hook"}', "{send_resolved: true}"),
    "email-no-smarthost": BASE + "    email_configs: [{to: x@example.org}]\n",
    "email-global-smarthost": BASE.replace(
        "global:\n", "global:\n  smtp_smarthost: 'localhost:25'\n  smtp_from: a@b.c\n")
    + "    email_configs: [{to: x@example.org}]\n",
    "slack-no-url": BASE + "    slack_configs: [{channel: '#x'}]\n",
    "pagerduty-no-key": BASE + "    pagerduty_configs: [{severity: critical}]\n",
    "pagerduty-ok": BASE + "    pagerduty_configs: [{routing_key: abc}]\n",
    "telegram-no-chat": BASE + "    telegram_configs: [{bot_token: 'x:y'}]\n",
    "inhibit-ok": BASE + "inhibit_rules:\n  - source_matchers: [a=b]\n"
                         "    target_matchers: [c=d]\n    equal: [x]\n",
    "inhibit-bad-matcher": BASE + "inhibit_rules:\n  - source_matchers: ['a=\"b']\n",
    "time-interval-ok": BASE.replace("      receiver: b", "      receiver: b\n"
                                     "      mute_time_intervals: [night]")
    + "time_intervals:\n  - name: night\n    time_intervals:\n"
      "      - times: [{start_time: '00:00', end_time: '06:00'}]\n"
      "        weekdays: ['monday:friday']\n        days_of_month: ['-3:-1']\n"
      "        months: ['jan:mar', '12']\n        location: 'Europe/Berlin'\n",
    "time-interval-undefined": BASE.replace("      receiver: b", "      receiver: b\n"
                                            "      mute_time_intervals: [night]"),
    "time-interval-bad-day": BASE + "time_intervals:\n  - name: n\n    time_intervals:\n"
                                    "      - weekdays: ['funday']\n",
    "time-interval-bad-time": BASE + "time_intervals:\n  - name: n\n    time_intervals:\n"
                                     "      - times: [{start_time: '25:00', end_time: '26:00'}]\n",
    "time-interval-dup": BASE + "time_intervals:\n  - name: n\n    time_intervals: []\n"
                                "  - name: n\n    time_intervals: []\n",
    "legacy-mute-intervals": BASE + "mute_time_intervals:\n  - name: n\n"
                                    "    time_intervals: [{years: ['2020:2022']}]\n",
    "root-mute": BASE.replace("  group_by:", "  mute_time_intervals: [n]\n  group_by:")
    + "time_intervals:\n  - name: n\n    time_intervals: []\n",
    "yaml-error": BASE + "  - name: [\n",
    "bad-resolve-timeout": BASE.replace("5m", "five"),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_same_verdict_as_amtool(name: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{name}.yml"
    path.write_text(VARIANTS[name])
    assert AMTOOL is not None
    amtool = subprocess.run([AMTOOL, "check-config", str(path)], capture_output=True,
                            text=True, timeout=20, check=False)
    ours = run(["check-config", str(path)])
    out = capsys.readouterr().out
    assert (ours == 0) == (amtool.returncode == 0), (amtool.stdout, out)
    if ours:
        assert f"FAILED: {path}:" in out  # file and line named
