"""Kubernetes liveness/readiness/startup probes matching the configured health paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from ..config import HealthSettings

__all__ = ["k8s_probes", "k8s_probes_yaml"]


def k8s_probes(health: HealthSettings, port: int | str = 8000,
               scheme: str = "HTTP") -> dict[str, Any]:
    """The three probe stanzas of a container spec, as data."""
    probes = health.probes

    def http(path: str) -> dict[str, Any]:
        return {"path": path, "port": port, "scheme": scheme}

    return {
        "livenessProbe": {
            "httpGet": http(health.live_path),
            "initialDelaySeconds": int(probes.live_initial_delay),
            "periodSeconds": int(probes.live_period),
            "timeoutSeconds": int(probes.timeout),
            "failureThreshold": probes.failure_threshold,
        },
        "readinessProbe": {
            "httpGet": http(health.ready_path),
            "initialDelaySeconds": int(probes.ready_initial_delay),
            "periodSeconds": int(probes.ready_period),
            "timeoutSeconds": int(probes.timeout),
            "failureThreshold": probes.failure_threshold,
        },
        "startupProbe": {
            "httpGet": http(health.startup_path),
            "periodSeconds": int(probes.startup_period),
            "timeoutSeconds": int(probes.timeout),
            "failureThreshold": probes.startup_failure_threshold,
        },
    }


def k8s_probes_yaml(health: HealthSettings, port: int | str = 8000,
                    scheme: str = "HTTP") -> str:
    """YAML to paste under a container in a Deployment's pod template."""
    return yaml.safe_dump(k8s_probes(health, port, scheme), sort_keys=False)
