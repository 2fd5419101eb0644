"""Notification data: what templates see and what the webhook sends (Alertmanager's
``template.Data``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..rules._alert import ZERO_TIME, Alert, format_time

__all__ = ["KV", "AlertList", "NotifyContext", "TemplateAlert", "TemplateData", "build_data"]


@dataclass(frozen=True, slots=True)
class NotifyContext:
    """What the dispatcher hands the pipeline along with the alerts of one flush."""

    now: datetime
    group_key: str
    group_labels: Mapping[str, str]
    receiver: str
    repeat_interval: float
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    external_url: str = ""
    deadline: float = 300.0


class Pairs(list[dict[str, str]]):
    """``KV.SortedPairs`` result: ``{Name, Value}`` items with ``Names``/``Values``."""

    def Names(self) -> list[str]:
        return [p["Name"] for p in self]

    def Values(self) -> list[str]:
        return [p["Value"] for p in self]


class KV(dict[str, str]):
    """Label or annotation map with the helper methods Alertmanager templates call."""

    def SortedPairs(self) -> Pairs:
        return Pairs({"Name": k, "Value": self[k]} for k in sorted(self))

    def Names(self) -> list[str]:
        return sorted(self)

    def Values(self) -> list[str]:
        return [self[k] for k in sorted(self)]

    def Remove(self, names: Iterable[str]) -> KV:
        drop = set(names)
        return KV({k: v for k, v in self.items() if k not in drop})


class TemplateAlert(dict[str, Any]):
    """One alert as templates see it (``.Status``, ``.Labels``, ``.StartsAt``, ...)."""


class AlertList(list[TemplateAlert]):
    def Firing(self) -> AlertList:
        return AlertList(a for a in self if a["Status"] == "firing")

    def Resolved(self) -> AlertList:
        return AlertList(a for a in self if a["Status"] == "resolved")


class TemplateData(dict[str, Any]):
    """``.Receiver``, ``.Status``, ``.Alerts``, ``.GroupLabels``, ``.CommonLabels``, ..."""

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of Alertmanager's ``template.Data`` (webhook v4 body)."""
        return {
            "receiver": self["Receiver"],
            "status": self["Status"],
            "alerts": [
                {
                    "status": a["Status"],
                    "labels": dict(sorted(a["Labels"].items())),
                    "annotations": dict(sorted(a["Annotations"].items())),
                    "startsAt": format_time(a["StartsAt"]),
                    "endsAt": format_time(a["EndsAt"]),
                    "generatorURL": a["GeneratorURL"],
                    "fingerprint": a["Fingerprint"],
                }
                for a in self["Alerts"]
            ],
            "groupLabels": dict(sorted(self["GroupLabels"].items())),
            "commonLabels": dict(sorted(self["CommonLabels"].items())),
            "commonAnnotations": dict(sorted(self["CommonAnnotations"].items())),
            "externalURL": self["ExternalURL"],
        }


def _common(maps: Sequence[Mapping[str, str]]) -> KV:
    if not maps:
        return KV()
    common = dict(maps[0])
    for m in maps[1:]:
        if not common:
            break
        common = {k: v for k, v in common.items() if m.get(k) == v}
    return KV(common)


def build_data(ctx: NotifyContext, alerts: Sequence[Alert]) -> TemplateData:
    """Alertmanager's ``Template.Data``: the receiver name is regexp-quoted, as upstream."""
    items = AlertList()
    for a in alerts:
        items.append(TemplateAlert(
            Status=a.status(ctx.now),
            Labels=KV(a.labels),
            Annotations=KV(a.annotations),
            StartsAt=a.starts_at,
            EndsAt=a.ends_at if a.ends_at is not None else ZERO_TIME,
            GeneratorURL=a.generator_url,
            Fingerprint=a.fingerprint_hex,
        ))
    status = "firing" if any(a["Status"] == "firing" for a in items) else "resolved"
    return TemplateData(
        Receiver=re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", ctx.receiver),
        Status=status,
        Alerts=items,
        GroupLabels=KV(ctx.group_labels),
        CommonLabels=_common([a.labels for a in alerts]),
        CommonAnnotations=_common([a.annotations for a in alerts]),
        ExternalURL=ctx.external_url,
    )
