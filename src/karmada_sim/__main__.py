"""`python -m karmada_sim`: the simulator on its own, until the main CLI registers `sim`."""

from __future__ import annotations

import argparse

from karmada_sim.cli import configure_parser, run


def main() -> int:
    """Parse the command line and run the simulator."""
    parser = argparse.ArgumentParser(
        prog="python -m karmada_sim",
        description="A Kubernetes-API-compatible Karmada control plane with simulated members.",
    )
    configure_parser(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
