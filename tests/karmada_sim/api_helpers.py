"""Clients for a running simulator: the official kubernetes client, configured for its URL."""

from __future__ import annotations

from kubernetes import client

from karmada_sim.server import PROXY_PATH


def api_client(url: str, *, cluster: str | None = None) -> client.ApiClient:
    """An ApiClient for the Karmada API, or a member's through the cluster proxy."""
    config = client.Configuration()
    config.host = url + (PROXY_PATH.format(name=cluster) if cluster else "")
    config.api_key = {"authorization": "Bearer test"}
    # Fail fast instead of retrying: faults are injected on purpose in some tests.
    config.retries = False
    return client.ApiClient(config)
