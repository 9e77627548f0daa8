"""What every command line of the project shares: one-line errors, exit status 2, integer flags.

A bad flag ends a command with one line on stderr ("error: --flag: what is wrong (see --help)")
and exit status 2, never argparse's usage block; `main(argv)` functions return their exit status
so that tests call them directly (`parse` turns argparse's SystemExit into that status).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line ("error: --flag: ... (see --help)") and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = re.sub(r"^argument (?:\S+/)?(\S+): ", r"\1: ", message)
        self.exit(EXIT_USAGE, f"error: {message} (see --help)\n")


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= low (underscores allowed: 8_000_000)."""
    def parse_int(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value
    return parse_int


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The parsed arguments, or the exit status when parsing ended the command (--help: 0; a bad flag,
    already reported in one line: 2). argv None reads sys.argv."""
    try:
        return parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 0
