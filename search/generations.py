"""Index directory layout: immutable generations, an atomic pointer to the current one, a write lock.

::

    DIR/CURRENT                  name of the current generation (replaced with os.replace)
    DIR/generations/g000007/     a complete Whoosh index
    DIR/generations/g000008.building/   a rebuild in progress (never read)
    DIR/write.lock               flock'ed by the one writer; holds its pid

A full rebuild writes a new generation beside the current one and switches the pointer with one
rename, so readers never see a half-built index. The lock is an ``flock``: the kernel drops it
when its holder dies, so a killed reindex never blocks the next one.
"""

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from search.errors import IndexCorruptError, IndexLockedError

POINTER = "CURRENT"
LOCK = "write.lock"
BUILDING = ".building"


def generations_dir(root: Path) -> Path:
    return root / "generations"


def current(root: Path) -> str | None:
    """The current generation's name, None for an index never built; broken pointers raise."""
    pointer = root / POINTER
    if root.exists() and not root.is_dir():
        raise IndexCorruptError(f"the index path {root} is a file, not an index directory")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        built = [p.name for p in _entries(root) if not p.name.endswith(BUILDING)]
        if built:
            raise IndexCorruptError(
                f"generation pointer {pointer} is missing although {generations_dir(root)} holds "
                f"{', '.join(sorted(built))}; rebuild with 'vnsearch reindex'"
            ) from None
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"cannot read generation pointer {pointer}: {exc}") from exc
    if not name or "/" in name or not (generations_dir(root) / name).is_dir():
        raise IndexCorruptError(
            f"generation pointer {pointer} names {name!r}, which is not a generation in "
            f"{generations_dir(root)}; rebuild with 'vnsearch reindex'"
        )
    return name


def pointer_stamp(root: Path) -> tuple[int, int] | None:
    """A cheap fingerprint of the pointer file: changes whenever a new generation is switched in."""
    try:
        st = os.stat(root / POINTER)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_ino, st.st_mtime_ns)


def next_name(root: Path) -> str:
    numbers = [int(p.name[1:7]) for p in _entries(root) if p.name[1:7].isdigit()]
    return f"g{max(numbers, default=0) + 1:06d}"


def switch(root: Path, name: str) -> None:
    """Make ``name`` current with one atomic rename, durable before it returns."""
    tmp = root / (POINTER + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / POINTER)
    _fsync_dir(root)


def remove_all_but(root: Path, keep: str | None) -> None:
    """Delete replaced generations and leftovers of interrupted builds (we hold the lock)."""
    for path in _entries(root):
        if path.name != keep:
            shutil.rmtree(path, ignore_errors=True)


def remove_unfinished(root: Path) -> None:
    """Delete ``*.building`` directories: interrupted or failed builds (we hold the lock)."""
    for path in _entries(root):
        if path.name.endswith(BUILDING):
            shutil.rmtree(path, ignore_errors=True)


def _entries(root: Path) -> list[Path]:
    gens = generations_dir(root)
    return [p for p in gens.iterdir() if p.is_dir()] if gens.is_dir() else []


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """Hold the index's single-writer lock; a second writer fails at once, naming the lock."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise IndexLockedError(
                f"the index {root} is being written by another process (pid {holder}); "
                f"lock file {path}. Wait for it to finish."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
