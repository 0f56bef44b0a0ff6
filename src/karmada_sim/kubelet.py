"""The kubelet's `$(VAR)` expansion of container env values, command and args.

Rules of k8s.io/kubernetes third_party/forked/golang/expansion (documented in "Define
dependent environment variables"): `$(NAME)` becomes NAME's value when NAME is defined
earlier (else it stays as written), `$$` is a literal `$`, any other `$` stays, and an
unclosed `$(` stays while the rest of the text is still expanded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def expand(text: str, env: Mapping[str, str]) -> str:
    """`text` as the container sees it, given the variables defined before it."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "$" or index + 1 == len(text):
            out.append(char)
            index += 1
            continue
        following = text[index + 1]
        if following == "$":
            out.append("$")
            index += 2
        elif following == "(":
            close = text.find(")", index + 2)
            if close == -1:
                # An unclosed reference stays as written; what follows is still scanned.
                out.append("$(")
                index += 2
                continue
            name = text[index + 2 : close]
            out.append(env[name] if name in env else text[index : close + 1])
            index = close + 1
        else:
            out.append("$")
            index += 1
    return "".join(out)


def container_env(container: Mapping[str, Any]) -> dict[str, str]:
    """A container's plain env as its process sees it (each value expanded in order)."""
    seen: dict[str, str] = {}
    for entry in container.get("env") or []:
        if "value" in entry:
            seen[entry["name"]] = expand(str(entry["value"]), seen)
    return seen
