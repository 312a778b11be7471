"""Connecting to Ray: a running cluster (``address``) or a local one.

Objects larger than Ray's inline limit (protected templates shipped to a shard, never raw
embeddings: those are returned inline, 1 KiB each) go through the shared-memory object store.
Spilling that store to disk is switched off for a local cluster started here, so that nothing
biometric is written at rest; on a cluster of your own, set
``automatic_object_spilling_enabled: false`` in its system config (docs/operations.md).
"""

from __future__ import annotations

from typing import Any

from facegate.errors import ConfigError


def ray_module() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "this needs Ray, which is not installed",
            advice="pip install 'facegate[ray]' (Ray is an optional extra).",
        ) from None
    return ray


def connect(address: str | None = None, *, num_cpus: int | None = None) -> Any:
    """Ray, initialised (once per process): joined to ``address`` or a new local cluster."""
    ray = ray_module()
    if ray.is_initialized():
        return ray
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(
            num_cpus=num_cpus,
            include_dashboard=False,
            log_to_driver=False,
            _system_config={"automatic_object_spilling_enabled": False},
        )
    return ray
