"""The ``relance`` command line. Each area registers its own sub-commands (``register(subparsers)``).

Contract (DESIGN.md): exit 0 on success, 2 on bad input with a one-line reason naming the file, line or
record; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from relance.errors import PolicyError, RelanceError

# Modules that contribute sub-commands; each exposes ``register(subparsers)`` and sets ``func`` defaults.
COMMAND_MODULES = (
    "relance.policy.cli",
    "relance.law.cli",
    "relance.ops.cli",
    "relance.gdpr_cli",
    "relance.bank.cli",
)
# Sub-commands of the development package (relance_dev, installed by `make venv`, never in the layer):
# registered when it is importable.
DEV_COMMAND_MODULES = ("relance_dev.simulate.cli",)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep its message to one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="relance", description="Recovery of unpaid invoices (France).")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for name in DEV_COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name.partition(".")[0]:
                raise  # the dev package is there but broken (or lacks a dependency): say so
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PolicyError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return 2
    except RelanceError as exc:
        print(f"relance: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `relance ... | head` closed the pipe: not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
