"""How KubeRay and Ray read a RayJob: runtimeEnvYAML with YAML 1.1 rules, Ray's check of
`env_vars`, and the K8sJobMode submitter's bash script.

Upstream (read for the rules, not copied): ray-project/kuberay
ray-operator/controllers/ray/common/job.go (`getRuntimeEnvJson` uses sigs.k8s.io/yaml, i.e.
go-yaml v2 then encoding/json; `BuildJobSubmitCommand` splices `strconv.Quote(json)` and the
entrypoint into a command run by `/bin/bash -ce`), and ray python/ray/_private/runtime_env/
validation.py (`env_vars` must be Dict[str, str]).
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from karmada_sim import kubelet

# go-yaml v2's plain-scalar rules that PyYAML's YAML 1.1 resolver lacks.
_GO_BOOLS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON"), True),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF"), False),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
_BOOL_TAG = "tag:karmada-sim,go-bool"
_FLOAT_TAG = "tag:karmada-sim,go-float"
_INT_TAG = "tag:karmada-sim,go-int"


class _GoYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader plus the plain scalars go-yaml v2 also reads as bool/int/float."""


_GoYamlLoader.yaml_implicit_resolvers = {
    key: list(value) for key, value in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_GoYamlLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile("^(?:" + "|".join(_GO_BOOLS) + ")$"), list("yYnNoOtTfF")
)
_GoYamlLoader.add_implicit_resolver(_INT_TAG, re.compile(r"^[-+]?0[oO][0-7_]+$"), list("-+0"))
_GoYamlLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)
_GoYamlLoader.add_constructor(_BOOL_TAG, lambda loader, node: _GO_BOOLS[node.value])
_GoYamlLoader.add_constructor(_INT_TAG, lambda loader, node: int(node.value.replace("_", ""), 0))
_GoYamlLoader.add_constructor(_FLOAT_TAG, lambda loader, node: float(node.value))


def load_runtime_env(text: str) -> Any:
    """runtimeEnvYAML as KubeRay reads it (YAML 1.1 as go-yaml v2 resolves plain scalars):
    `1e-05` is a float, `y`/`n`/`on` are booleans, `0o17` an integer."""
    return yaml.load(text, Loader=_GoYamlLoader)


def env_vars_problem(runtime_env: Any) -> str | None:
    """Ray's refusal of the runtime env's `env_vars`, or None when they are all strings."""
    if not isinstance(runtime_env, dict) or "env_vars" not in runtime_env:
        return None
    env_vars = runtime_env["env_vars"]
    if not isinstance(env_vars, dict):
        return (
            f"runtime_env['env_vars'] must be of type Dict[str, str], got {_python_type(env_vars)}"
        )
    for key, value in env_vars.items():
        if not isinstance(key, str):
            return (
                "runtime_env['env_vars'] must be of type Dict[str, str], but the key "
                f"{key} is of type {_python_type(key)}"
            )
        if not isinstance(value, str):
            return (
                "runtime_env['env_vars'] must be of type Dict[str, str], but the value "
                f"{value} is of type {_python_type(value)}"
            )
    return None


def _python_type(value: Any) -> str:
    return f"<class '{type(value).__name__}'>"


def runtime_env_json(text: str) -> str:
    """What sigs.k8s.io/yaml's YAMLToJSON makes of runtimeEnvYAML: Go's encoding/json, with
    map keys sorted and <, >, & escaped."""
    encoded = json.dumps(
        load_runtime_env(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def go_quote(text: str) -> str:
    """Go's strconv.Quote: a double-quoted Go string literal (`$` and backticks untouched)."""
    escapes = {
        "\a": "\\a",
        "\b": "\\b",
        "\f": "\\f",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\v": "\\v",
        '"': '\\"',
        "\\": "\\\\",
    }
    out = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def submitter_script(spec: dict[str, Any], *, address: str, job_id: str) -> str:
    """The K8sJobMode submitter's script, joined with spaces as KubeRay joins it (without the
    dashboard health-wait loop that precedes it upstream)."""
    submit = ["ray", "job", "submit", "--address", address, "--no-wait"]
    runtime_env = spec.get("runtimeEnvYAML") or ""
    if runtime_env:
        submit += ["--runtime-env-json", go_quote(runtime_env_json(runtime_env))]
    metadata = spec.get("metadata") or {}
    if metadata:
        submit += ["--metadata-json", go_quote(json.dumps(metadata, separators=(",", ":")))]
    submit += ["--submission-id", job_id]
    command = [
        "if", "!", "ray", "job", "status", "--address", address, job_id, ">/dev/null", "2>&1",
        ";", "then", *submit, "--", str(spec.get("entrypoint") or "").strip(), ";", "fi", ";",
        "ray", "job", "logs", "--address", address, "--follow", job_id,
    ]  # fmt: skip
    return " ".join(command)


SUBMITTER_COMMAND = ("/bin/bash", "-ce", "--")


def driver_env(rayjob: dict[str, Any]) -> dict[str, str]:
    """The plain environment the Ray driver sees: the head container's env (after the
    kubelet's `$(VAR)` expansion) overlaid with the runtime env's `env_vars`."""
    spec = rayjob["spec"]
    head = spec["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    runtime = load_runtime_env(spec.get("runtimeEnvYAML") or "") or {}
    return kubelet.container_env(head) | dict(runtime.get("env_vars") or {})
