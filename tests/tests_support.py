"""Small helpers shared by test modules."""

from __future__ import annotations

import socket

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: karmada, cluster: {server: "https://127.0.0.1:5443"}}]
contexts: [{name: karmada, context: {cluster: karmada, user: admin}}]
current-context: karmada
users: [{name: admin, user: {}}]
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
