"""Command-line entry point: ``mlcourse <command>`` (also ``python -m mlcourse``).

Each command lives in its own module, imported only when that command runs, so
``mlcourse doctor`` stays fast and a broken optional module cannot break the others.
A command module provides ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "doctor": ("mlcourse.doctor", "check this installation; paste the output into a bug report"),
    "telemetry": ("mlcourse.telemetry_cli", "generate the Lumen Isles data or print its report"),
    "release": ("mlcourse.authoring", "build notebooks/ (or a student edition) from solutions/"),
    "grade": ("mlcourse.grading.cli", "grade a folder or zip of submitted notebooks"),
    "gradescope-bundle": ("mlcourse.grading.gradescope", "write a Gradescope autograder zip"),
    "assignment": ("mlcourse.assignment", "build an assignment of your own (docs/assignments.md)"),
    "mutants": ("mlcourse.mutants", "mutation-test the checkers (make mutants)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlcourse",
        description="The Lumen Isles course's commands (also `python -m mlcourse COMMAND`).",
        epilog="`mlcourse COMMAND --help` describes one command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the command line, not a call from Python: seed out of the environ
        from mlcourse._seedenv import reexec_without_seed

        reexec_without_seed()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        parser = build_parser()
        if argv and argv[0] not in {"-h", "--help"}:
            parser.print_usage(sys.stderr)
            print(
                f"mlcourse: unknown command {argv[0]!r}; choose one of {', '.join(COMMANDS)}",
                file=sys.stderr,
            )
            return 2
        parser.print_help()
        return 0
    name, rest = argv[0], argv[1:]
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"mlcourse {name}", description=help_text)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    return int(module.run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
