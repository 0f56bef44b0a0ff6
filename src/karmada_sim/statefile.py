"""The simulator's optional state file: the Karmada control plane's objects and every store's
resourceVersion counter, so a restarted simulator keeps its state and never hands out a
resourceVersion a client may already hold.

Written atomically (a temporary file beside it, flushed to disk, then renamed over it), so
a kill at any moment leaves either the previous complete file or the new one. Member
clusters keep only their counters: their workloads come back from Karmada's Works, as when
a member cluster loses its state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from karmada_sim.resources import by_kind
from karmada_sim.store import Snapshot

FORMAT = "karmada-sim-state/v1"


@dataclass(frozen=True)
class State:
    """What the file holds: Karmada's snapshot and each member's resourceVersion counter."""

    karmada: Snapshot
    member_versions: dict[str, int]


def write(path: Path, state: State) -> None:
    """Replace the file at `path` with `state`, atomically."""
    document = {
        "format": FORMAT,
        "karmada": {
            "resourceVersion": state.karmada.resource_version,
            "objects": [obj for _, obj in state.karmada.objects],
        },
        "members": {name: {"resourceVersion": rv} for name, rv in state.member_versions.items()},
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(orjson.dumps(document))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read(path: Path) -> State | None:
    """The state in `path`, or None when there is no file yet; ValueError when it is not a
    state file this version can read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        document: dict[str, Any] = orjson.loads(raw)
        if document.get("format") != FORMAT:
            raise ValueError(f"unknown format {document.get('format')!r}")
        karmada = document["karmada"]
        objects = []
        for obj in karmada["objects"]:
            res = by_kind(obj["apiVersion"], obj["kind"])
            if res is None:
                raise ValueError(f"unknown kind {obj['apiVersion']}/{obj['kind']}")
            objects.append((res, obj))
        members = {
            str(name): int(value["resourceVersion"]) for name, value in document["members"].items()
        }
        return State(Snapshot(int(karmada["resourceVersion"]), tuple(objects)), members)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable simulator state file: {exc}") from exc
