"""What every command line of the project shares: one-line errors (`UsageError`), exit status 2,
integer flags, new run folders and the versions a run folder records.

A bad flag ends a command with one line on stderr ("error: --flag: what is wrong (see --help)")
and exit status 2, never argparse's usage block; `main(argv)` functions return their exit status
so that tests call them directly (`parse` turns argparse's SystemExit into that status).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.metadata
import json
import math
import multiprocessing
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worlds.loader import WorldFileError, load_world

if TYPE_CHECKING:
    from worlds.loader import World

EXIT_USAGE = 2
REPO_ROOT = Path(__file__).resolve().parents[1]
# packages whose versions are recorded when the project's own metadata cannot list them
FALLBACK_PACKAGES = ("numpy", "scipy", "rich", "gymnasium", "pettingzoo", "stable-baselines3",
                     "sb3-contrib", "torch", "mesa", "pygame", "imageio", "tensorboard", "tqdm")


class UsageError(ValueError):
    """A bad flag, argument or file, found before any work: the command prints "error: FLAG: message"
    in one line and exits with status 2. The one error type every command and API function raises
    for its arguments (a ValueError, so library callers may catch either)."""

    def __init__(self, flag: str, message: str):
        self.flag = flag
        super().__init__(f"{flag}: {message}" if flag else message)


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line ("error: --flag: ... (see --help)") and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = re.sub(r"^argument (?:\S+/)?(\S+): ", r"\1: ", message)
        self.exit(EXIT_USAGE, f"error: {message} (see --help)\n")


def int_at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer >= low (and <= high when given; underscores allowed: 8_000_000)."""
    def parse_int(text: str) -> int:
        expected = f"an integer >= {low}" + (f" and <= {high:,}" if high is not None else "")
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value
    return parse_int


def positive_number(text: str) -> float:
    """An argparse type: a finite number > 0 (frames or ticks per second; nan and inf are refused)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The parsed arguments, or the exit status when parsing ended the command (--help: 0; a bad flag,
    already reported in one line: 2). argv None reads sys.argv."""
    try:
        return parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 0


def slug(text: str, empty: str = "run") -> str:
    """A name made safe for a folder: runs of other characters become one '-'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or empty


class OutFolderError(ValueError):
    """A run folder that cannot be used (--out): the message says why."""


def new_run_folder(out: str | Path | None, name: str, hint: str = "") -> Path:
    """A new or empty run folder, created and checked writable now (so a bad --out fails before any
    work). Default: runs/NAME-YYYYmmdd-HHMMSS (with -2, -3, ... when two runs start in one second).
    `hint` is added to the message for a folder that is not empty."""
    if out is None:
        base = Path("runs") / f"{name}-{_dt.datetime.now():%Y%m%d-%H%M%S}"
        path, n = base, 1
        while path.exists():
            n += 1
            path = base.with_name(f"{base.name}-{n}")
    else:
        path = Path(out)
    try:
        if path.exists() and not path.is_dir():
            raise OutFolderError(f"{path} exists and is not a folder")
        if path.is_dir() and any(path.iterdir()):
            raise OutFolderError(f"{path} exists and is not empty; choose a new folder{hint}")
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise OutFolderError(f"cannot write to {path} ({err.strerror or err})") from None
    return path


def shown_path(path: str | Path) -> str:
    """A path as reports and commands print it: relative to the working directory when inside it
    (runs/..., so a committed report names no machine's folders), else as it is."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def versions() -> dict[str, Any]:
    """Python, the platform, this project and every package it requires, and the git commit (with
    whether the work tree had uncommitted changes): what a run folder needs to be rerun."""
    out: dict[str, Any] = {"python": sys.version.split()[0], "platform": sys.platform}
    names = ["hungry-fisher", "numpy"]
    try:
        requires = importlib.metadata.requires("hungry-fisher") or []
        names += [re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r]
    except importlib.metadata.PackageNotFoundError:
        names += list(FALLBACK_PACKAGES)
    for name in dict.fromkeys(names):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    try:
        git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                             timeout=5)
        if git.returncode == 0:
            out["git_commit"] = git.stdout.strip()
            dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                                   capture_output=True, text=True, timeout=5)
            out["git_dirty"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def cli(main: Callable[[], int]) -> None:
    """A command's `if __name__ == "__main__"` body: run `main` on sys.argv and exit with its status,
    quietly when a reader closes the pipe (`... --json | head`)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        code = 1
    raise SystemExit(code)


def load_world_arg(spec: str, flag: str = "--world") -> World:
    """The world a command-line argument names (a name, folder, world.toml or generated:SEED), or a
    UsageError naming `flag` and what is wrong with it."""
    try:
        return load_world(spec)
    except WorldFileError as err:
        raise UsageError(flag, str(err)) from None
    except (ValueError, OSError) as err:
        raise UsageError(flag, f"{spec!r}: {err}") from None


def _writable_ancestor(path: Path) -> Path | None:
    """The nearest existing folder above `path` when it can be written in, else None."""
    for parent in [path.parent, *path.parent.parents]:
        if parent.exists():
            return parent if parent.is_dir() and os.access(parent, os.W_OK | os.X_OK) else None
    return None


def output_file(path: str | Path, flag: str, force: bool = False) -> Path:
    """A file a command will write, checked before any work: a file already there is kept unless
    --force (`force`), and a place that cannot be written is refused now, not after minutes of work."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(flag, f"{path} is a folder; expected a file name")
    if path.exists() and not force:
        raise UsageError(flag, f"{path} exists; choose another name or pass --force to overwrite it")
    if _writable_ancestor(path) is None:
        raise UsageError(flag, f"cannot write {path}: no writable folder to put it in")
    return path


def output_folder(path: str | Path, flag: str, force: bool = False) -> Path:
    """A folder a command will fill, checked before any work: a folder with files in it is kept
    unless --force (`force`); a file there, or a place that cannot be written, is refused now."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(flag, f"{path} exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise UsageError(flag, f"{path} exists and is not empty; choose a new folder or pass --force to "
                               f"overwrite its files")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(flag, f"cannot write to {path}")
    elif _writable_ancestor(path) is None:
        raise UsageError(flag, f"cannot create {path}: no writable folder to put it in")
    return path


def existing_files(paths: Sequence[str], flag: str) -> list[Path]:
    """Input files that must exist, checked before any work."""
    out = []
    for p in paths:
        if not Path(p).is_file():
            raise UsageError(flag, f"{p}: no such file")
        out.append(Path(p))
    return out


def run_command(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
                body: Callable[[argparse.Namespace, list[str]], int]) -> int:
    """A command's `main`: parse argv (None: sys.argv) and return body(args, argv)'s status. A bad flag,
    or a UsageError raised by body before its work, ends in one line on stderr and status 2; Ctrl+C in
    status 130."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(parser, argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args
    try:
        return body(args, argv)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def read_toml(path: Path, error: type[Exception]) -> dict[str, Any]:
    """A TOML file's data; a file that cannot be read or parsed raises `error` with one line naming it."""
    try:
        return tomllib.loads(path.read_text())
    except OSError as err:
        raise error(f"{path}: cannot be read ({err.strerror or err})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise error(f"{path}: not valid TOML ({err})") from None


def emit(result: Any, out: Path | None, as_json: bool, render: Callable[[Any], str]) -> None:
    """A command's result: written as JSON to `out` (checked earlier by `output_file`) when given, and
    printed, as JSON (--json) or as `render` makes it."""
    text = json.dumps(result, indent=1, default=float)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    print(text if as_json else render(result))


def local_executor(workers: int | None = None) -> ProcessPoolExecutor:
    """A spawn-context process pool for a command's independent work (default: one process per core);
    spawn, because mesa forces it anyway and a forked torch is unsafe."""
    n = workers or max(1, os.cpu_count() or 1)
    return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
