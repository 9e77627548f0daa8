"""One writer per run folder: a lock file holding the writer's pid and host.

Two processes training into one folder (`agents.train --resume R` while R still trains) would
interleave checkpoints and learning-curve rows. The writer holds an exclusive `flock` on
RUN/.lock for as long as it writes and records its pid, host and start time in it; a second writer
is refused with a message naming them. The file is removed when the writer ends. A lock left by a
process that died is stale: the kernel dropped its flock, so the next writer takes the lock over
(and says so on stderr). A writer that locked a file its holder was just removing tries again on
the file at the path (the inode check), so two writers never hold two different files.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import socket
import sys
from pathlib import Path
from types import TracebackType

from sim.cli import UsageError

LOCK = ".lock"


class RunLock:
    """`with RunLock(folder, flag):` the exclusive right to write `folder` (module docstring)."""

    def __init__(self, folder: str | Path, flag: str = "--out"):
        self.path = Path(folder) / LOCK
        self.flag = flag
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                who = (f"pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('started')}"
                       if holder else "another process")
                raise UsageError(self.flag, f"{self.path.parent} is being written by {who}; wait for it to "
                                            f"end (or stop it) before writing the same run folder") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # its holder removed that file as we locked it: lock the one at the path now
        stale = _read(fd)
        if stale:
            print(f"note: {self.path} was left by pid {stale.get('pid')} on {stale.get('host')}, which no "
                  f"longer holds it; taking it over", file=sys.stderr)
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me) + "\n").encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)  # the run folder holds only its own files again
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _read(fd: int) -> dict:
    """The holder recorded in an open lock file ({} when empty or unreadable)."""
    try:
        text = os.pread(fd, 4096, 0).decode(errors="replace").strip()
        data = json.loads(text) if text else {}
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
