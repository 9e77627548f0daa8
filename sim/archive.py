"""Reading .npz archives from files nobody vouches for, within a stated memory bound.

`np.load` trusts an archive: a 1 MB zip of zeros can declare a gigabyte, and an .npy header
can declare any shape, which numpy allocates before it reads a byte. `read_npz` first reads
only the zip's directory and each member's .npy header (a few hundred bytes each), and refuses
the archive when the declared sizes exceed `max_bytes`, a header claims more data than its
member holds, or an array holds Python objects; `check` sees every (shape, dtype) and may
refuse too. Only then are the arrays read, and zipfile never returns more than a member's
declared size. Every problem is an `ArchiveError` whose message says what is wrong; callers
wrap it in their own error type, with the file's name.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np

MAX_HEADER = 10_000  # bytes of one .npy header (numpy's own default limit)

Headers = dict[str, tuple[tuple[int, ...], np.dtype]]


class ArchiveError(ValueError):
    """An archive cannot be read safely: the message says why (without the file's name)."""


def zip_members(archive: zipfile.ZipFile, max_bytes: int) -> list[zipfile.ZipInfo]:
    """The members of an open zip, refused when together they declare more than max_bytes."""
    members = archive.infolist()
    total = sum(m.file_size for m in members)
    if total > max_bytes:
        raise ArchiveError(f"its members unpack to {total:,} bytes, more than the {max_bytes:,} allowed "
                           f"(a zip bomb, or not a file of this kind)")
    return members


def _header(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype]:
    with archive.open(member) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=MAX_HEADER)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=MAX_HEADER)
        else:
            raise ArchiveError(f"member {member.filename!r}: .npy format version {version} is not read here")
    if dtype.hasobject:
        raise ArchiveError(f"member {member.filename!r} holds Python objects (a pickle), which are "
                           "never loaded")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if nbytes > member.file_size:
        raise ArchiveError(f"member {member.filename!r} declares {nbytes:,} bytes of {dtype} {shape} but "
                           f"holds {member.file_size:,}")
    return tuple(int(n) for n in shape), dtype


def _open(source: str | Path | bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)


_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError, NotImplementedError,
            RuntimeError)


def read_headers(source: str | Path | bytes, max_bytes: int) -> Headers:
    """{name: (shape, dtype)} of every member of an .npz, read from the headers only."""
    try:
        with _open(source) as archive:
            members = zip_members(archive, max_bytes)
            odd = sorted(m.filename for m in members if not m.filename.endswith(".npy"))
            if odd:
                raise ArchiveError(f"member(s) {odd} are not .npy arrays")
            return {m.filename[:-4]: _header(archive, m) for m in members}
    except ArchiveError:
        raise
    except _CORRUPT as err:
        raise ArchiveError(f"truncated or corrupt ({type(err).__name__}: {err})") from None


def read_npz(source: str | Path | bytes, max_bytes: int, check: Callable[[Headers], None] | None = None,
             only: Collection[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of an .npz (a path or its bytes), by name without ".npy", read within max_bytes.

    check(headers): called with {name: (shape, dtype)} before any array data is read; it raises
    to refuse the archive (its own error passes through unchanged). only: read just these members.
    """
    headers = read_headers(source, max_bytes)
    if check is not None:
        check(headers)
    try:
        with _open(source) as archive:
            out = {}
            for name in headers if only is None else [n for n in headers if n in only]:
                with archive.open(f"{name}.npy") as fh:
                    out[name] = np.lib.format.read_array(fh, allow_pickle=False, max_header_size=MAX_HEADER)
            return out
    except _CORRUPT as err:
        raise ArchiveError(f"truncated or corrupt ({type(err).__name__}: {err})") from None
