"""A recording stand-in for kubectl, run as a script by the deploy.sh tests.

It appends every call (argv and stdin) as one JSON line to $FAKE_KUBECTL_LOG, keeps the objects
that `apply -f -` receives in $FAKE_KUBECTL_STATE, renders `kustomize` and `apply -k` with the
real kubectl ($REAL_KUBECTL) so image overrides are checked for real, and answers the read
calls deploy.sh makes the way a cluster would. Anything else exits 2, so an unexpected call
fails the test. $FAKE_KUBECTL_UNREACHABLE=1 makes every call that needs a server fail.
"""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

STATE = Path(os.environ["FAKE_KUBECTL_STATE"])
LOG = Path(os.environ["FAKE_KUBECTL_LOG"])
NODE_IP = "10.1.2.3"


def load_state() -> dict[str, Any]:
    if STATE.exists():
        state: dict[str, Any] = json.loads(STATE.read_text())
        return state
    return {"namespaces": [], "secrets": {}}


def save_state(state: dict[str, Any]) -> None:
    STATE.write_text(json.dumps(state))


def option(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def fail(message: str, code: int = 1) -> None:
    print(message, file=sys.stderr)
    sys.exit(code)


def render_create(args: list[str]) -> dict[str, Any]:
    """The object `kubectl create ... --dry-run=client -o yaml` prints."""
    if args[1] == "namespace":
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args[2]}}
    if args[1:3] != ["secret", "generic"]:
        fail(f"fake kubectl: unexpected create {args}", 2)
    data: dict[str, str] = {}
    for arg in args:
        if arg.startswith("--from-file="):
            key, _, path = arg.removeprefix("--from-file=").partition("=")
            data[key] = base64.b64encode(Path(path).read_bytes()).decode()
        elif arg.startswith("--from-literal="):
            key, _, value = arg.removeprefix("--from-literal=").partition("=")
            data[key] = base64.b64encode(value.encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": args[3], "namespace": option(args, "-n")},
        "data": data,
    }


def kustomize(directory: str) -> str:
    result = subprocess.run(
        [os.environ["REAL_KUBECTL"], "kustomize", directory],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        fail(result.stderr)
    return result.stdout


def main() -> None:
    args = sys.argv[1:]
    stdin = sys.stdin.read() if option(args, "-f") == "-" else ""
    entry: dict[str, Any] = {"argv": args, "stdin": stdin}
    if "--context" in args:
        index = args.index("--context")
        args = args[:index] + args[index + 2 :]
    namespace = option(args, "-n")
    if "-n" in args:
        index = args.index("-n")
        args = args[:index] + args[index + 2 :]
    verb = args[0] if args else ""
    if verb == "kustomize" or (verb == "apply" and "-k" in args):
        directory = args[1] if verb == "kustomize" else args[args.index("-k") + 1]
        entry["rendered"] = kustomize(directory)
    with LOG.open("a") as log:
        log.write(json.dumps(entry) + "\n")

    server_verbs = {"version", "get", "apply", "rollout"}
    if verb in server_verbs and os.environ.get("FAKE_KUBECTL_UNREACHABLE") == "1":
        fail("The connection to the server 127.0.0.1:6443 was refused")
    state = load_state()
    if verb == "version":
        print("Client Version: v1.32.0\nServer Version: v1.32.0")
    elif verb == "kustomize":
        print(entry["rendered"], end="")
    elif verb == "create":
        if "--dry-run=client" not in args or option(args, "-o") != "yaml":
            fail(f"fake kubectl: create must be client-side dry-run: {args}", 2)
        print(yaml.safe_dump(render_create(args)), end="")
    elif verb == "apply" and option(args, "-f") == "-":
        for document in yaml.safe_load_all(stdin):
            if document["kind"] == "Namespace":
                if document["metadata"]["name"] not in state["namespaces"]:
                    state["namespaces"].append(document["metadata"]["name"])
            elif document["kind"] == "Secret":
                state["secrets"][document["metadata"]["name"]] = document["data"]
        save_state(state)
        print("configured")
    elif verb == "apply" and "-k" in args:
        print("deployment.apps/ml-platform-backend configured")
    elif verb == "rollout" and args[1] == "status":
        print(f"{args[2]} successfully rolled out")
    elif args[:2] == ["get", "namespace"]:
        if args[2] not in state["namespaces"]:
            fail(f'Error from server (NotFound): namespaces "{args[2]}" not found')
        print(args[2])
    elif args[:2] == ["get", "secret"]:
        data = state["secrets"].get(args[2]) if namespace == "ml-platform" else None
        if data is None:
            fail(f'Error from server (NotFound): secrets "{args[2]}" not found')
        key = (option(args, "-o") or "").removeprefix("jsonpath={.data.").removesuffix("}")
        print(data.get(key, ""), end="")
    elif args[:2] == ["get", "nodes"]:
        print(NODE_IP if "InternalIP" in (option(args, "-o") or "") else "", end="")
    elif args[:2] == ["get", "pods"]:
        print("NAME READY STATUS")
    else:
        fail(f"fake kubectl: unexpected call {args}", 2)


if __name__ == "__main__":
    main()
