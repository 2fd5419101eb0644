# ruff: noqa: E501 - template text keeps its own line structure
"""Default notification templates, under Alertmanager's template names.

The text is watchkeeper's own; where it matters for parity (Slack title/fallback,
PagerDuty summary and details, Telegram message) the rendered output is the same as
Alertmanager 0.25's, checked by tests/notify/test_differential.py. The product name in
``__alertmanager`` is "watchkeeper".
"""

from __future__ import annotations

__all__ = ["DEFAULT_TEMPLATES"]

DEFAULT_TEMPLATES = r"""
{{ define "__alertmanager" }}watchkeeper{{ end }}
{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }}

{{ define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }}
{{ define "__description" }}{{ end }}

{{ define "__text_alert_list" }}{{ range . }}Labels:
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Annotations:
{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Source: {{ .GeneratorURL }}
{{ end }}{{ end }}

{{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "slack.default.fallback" }}{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}{{ end }}
{{ define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "slack.default.text" }}{{ end }}

{{ define "pagerduty.default.description" }}{{ template "__subject" . }}{{ end }}
{{ define "pagerduty.default.client" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "pagerduty.default.clientURL" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "pagerduty.default.instances" }}{{ template "__text_alert_list" . }}{{ end }}

{{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{ define "email.default.text" }}{{ template "__subject" . }}
{{ if gt (len .Alerts.Firing) 0 }}
Firing alerts:
{{ template "__text_alert_list" .Alerts.Firing }}{{ end }}{{ if gt (len .Alerts.Resolved) 0 }}
Resolved alerts:
{{ template "__text_alert_list" .Alerts.Resolved }}{{ end }}{{ end }}
{{ define "email.default.html" }}<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>{{ template "__subject" . }}</title></head>
<body>
<h2>{{ .Alerts | len }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} for {{ range .GroupLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}</h2>
{{ if gt (len .Alerts.Firing) 0 }}<h3>[{{ .Alerts.Firing | len }}] Firing</h3>
<ul>{{ range .Alerts.Firing }}<li>{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}{{ range .Annotations.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}<a href="{{ .GeneratorURL }}">Source</a></li>{{ end }}</ul>{{ end }}
{{ if gt (len .Alerts.Resolved) 0 }}<h3>[{{ .Alerts.Resolved | len }}] Resolved</h3>
<ul>{{ range .Alerts.Resolved }}<li>{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}<a href="{{ .GeneratorURL }}">Source</a></li>{{ end }}</ul>{{ end }}
<p><a href="{{ template "__alertmanagerURL" . }}">Sent by {{ template "__alertmanager" . }}</a></p>
</body></html>{{ end }}

{{ define "telegram.default.message" }}
{{ if gt (len .Alerts.Firing) 0 }}
Alerts Firing:
{{ template "__text_alert_list" .Alerts.Firing }}
{{ end }}
{{ if gt (len .Alerts.Resolved) 0 }}
Alerts Resolved:
{{ template "__text_alert_list" .Alerts.Resolved }}
{{ end }}
{{ end }}

{{ define "msteams.default.summary" }}{{ template "__subject" . }}{{ end }}
{{ define "msteams.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "msteams.default.text" }}{{ if gt (len .Alerts.Firing) 0 }}# Alerts Firing:
{{ template "__text_alert_list" .Alerts.Firing }}{{ end }}{{ if gt (len .Alerts.Resolved) 0 }}# Alerts Resolved:
{{ template "__text_alert_list" .Alerts.Resolved }}{{ end }}{{ end }}
"""
