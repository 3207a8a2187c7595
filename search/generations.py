"""Index directory layout: immutable generations, an atomic pointer to the current one, a write lock.

::

    DIR/CURRENT                  name of the current generation (replaced with os.replace)
    DIR/generations/g000007/     a complete Whoosh index
    DIR/generations/g000008.building/   a rebuild in progress (never read)
    DIR/write.lock               flock'ed by the one writer; holds its pid
    DIR/generations/g000007/FORMAT      the on-disk format version it was written in

Durability: every file of a new generation and its directory are fsync'd before the generation is
renamed into place, the ``generations`` directory after that rename, the pointer before it replaces
the old one and the index directory after; a crash at any moment leaves the old or the new state.

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

from search.errors import (
    IndexCorruptError,
    IndexFormatError,
    IndexLockedError,
    IndexShrinkError,
    IndexUnreadableError,
)

POINTER = "CURRENT"
LOCK = "write.lock"
BUILDING = ".building"
FORMAT = "FORMAT"
# The on-disk format of a generation: bump it whenever a vnsearch could not read what an older one
# wrote (schema, codec, stored fields), so that opening says so instead of failing deep in Whoosh.
FORMAT_VERSION = 2  # 2: the story signature column (search.stories)
REBUILD = "rebuild it with 'vnsearch reindex'"


def generations_dir(root: Path) -> Path:
    return root / "generations"


def current(root: Path) -> str | None:
    """The current generation's name, None for an index never built; broken pointers raise, and
    so do permissions that keep us from reading the index (``IndexUnreadableError``)."""
    try:
        return _current(root)
    except PermissionError as exc:
        raise IndexUnreadableError(f"cannot read the index at {root}: {exc}") from exc


def _current(root: Path) -> str | None:
    pointer = root / POINTER
    try:
        if root.exists() and not root.is_dir():
            raise IndexCorruptError(f"the index path {root} is a file, not an index directory")
        name = pointer.read_text(encoding="utf-8").strip()
    except PermissionError as exc:
        raise IndexUnreadableError(f"cannot read the index at {root}: {exc}") from exc
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
    except PermissionError as exc:
        raise IndexUnreadableError(f"cannot read the index at {root}: {exc}") from exc
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
    fsync_dir(root)  # the generations directory's entry, on the first build
    os.replace(tmp, root / POINTER)
    fsync_dir(root)


def publish(root: Path, building: Path, name: str) -> None:
    """Rename a finished build to ``name`` and make it current, each step durable before the next:
    the pointer never names a generation whose files a crash could lose."""
    fsync_tree(building)
    final = building.with_name(name)
    os.rename(building, final)
    fsync_dir(final.parent)
    switch(root, name)


def fsync_tree(path: Path) -> None:
    """fsync every file below ``path``, then each directory (its entries), deepest first."""
    for dirpath, _dirs, files in os.walk(path, topdown=False):
        for file in files:
            fd = os.open(os.path.join(dirpath, file), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def write_format(path: Path) -> None:
    """Record the format a new generation is written in (made durable with the generation)."""
    (path / FORMAT).write_text(f"{FORMAT_VERSION}\n", encoding="ascii")


def check_format(path: Path) -> None:
    """Refuse a generation written in another format, naming both versions and the way out."""
    try:
        found = (path / FORMAT).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        found = "none"
    except PermissionError as exc:
        raise IndexUnreadableError(f"cannot read the index generation {path}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        found = f"unreadable ({exc})"
    if found != str(FORMAT_VERSION):
        raise IndexFormatError(
            f"the index generation {path} has on-disk format version {found}, but this vnsearch "
            f"reads version {FORMAT_VERSION}: {REBUILD}"
        )


def check_shrink(root: Path, articles: int, min_share: float, allow_empty: bool) -> None:
    """Refuse to replace the current generation with an empty one, or one with fewer than
    ``min_share`` of its articles (a wrong source directory must not empty a live index)."""
    if articles == 0:
        if allow_empty:
            return
        raise IndexShrinkError(
            f"refusing to make an empty generation current in {root}: the source held no article "
            "that could be indexed; the current generation stays (--allow-empty to do it anyway)"
        )
    held = _current_count(root)
    if held and articles < held * min_share:
        raise IndexShrinkError(
            f"refusing to replace the current generation of {held:,} articles in {root} with one of "
            f"{articles:,} (fewer than {min_share:.0%} of them); the current generation stays "
            "(--allow-shrink to do it anyway)"
        )


def _current_count(root: Path) -> int:
    """Articles in the current generation; 0 when there is none or it cannot be read (a rebuild
    is what repairs it)."""
    from whoosh import index as whoosh_index  # only writers need it here

    try:
        name = current(root)
        if name is None:
            return 0
        with whoosh_index.open_dir(str(generations_dir(root) / name)).reader() as reader:
            return reader.doc_count()
    except Exception:
        return 0


def remove_orphans(path: Path, live: set[str]) -> None:
    """Delete what a killed writer left in a live generation: files its table of contents does
    not name, temporary directories (we hold the lock; readers only open named files)."""
    keep = live | {FORMAT, "MAIN_WRITELOCK"}
    for entry in path.iterdir():
        if entry.name in keep:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


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


def fsync_dir(path: Path) -> None:
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
