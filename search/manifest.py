"""A generation's manifest: every file it holds, with its size and SHA-256.

Why: replicas receive generations as plain file copies (rsync, scp, any copy), and a copy can be
partial (interrupted), still in progress (rsync's ``.name.XXXXXX`` temporaries) or corrupt (a bad
disk, a truncated transfer). ``vnsearch activate`` checks the copy against the manifest its writer
made before a replica serves it, as Solr's index replication checks segment checksums.

::

    DIR/generations/g000007/MANIFEST.json
    {"manifest": 1, "generation": "g000007", "format": 1, "articles": 201787,
     "files": {"FORMAT": {"size": 2, "sha256": "..."}, "_MAIN_1.toc": {...}, ...}}

Whoosh never rewrites a file it has written (a commit adds new ones and a new table of contents),
so an incremental commit re-hashes only the files it added: a file listed before with the same
size keeps its hash.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from search.errors import GenerationCopyError

NAME = "MANIFEST.json"
VERSION = 1
CHUNK = 1 << 20
# Whoosh's lock file in a generation: no index data, made again by the next writer that needs it.
NOT_DATA = frozenset({"MAIN_WRITELOCK"})


def write(path: Path, generation: str, format_version: int, articles: int) -> dict:
    """Hash every file of the generation at ``path`` and write its manifest atomically (durable once
    the caller fsyncs the directory); returns the manifest."""
    old = _files_or_empty(path)
    files = {}
    for rel, size in _listing(path).items():
        known = old.get(rel)
        digest = known["sha256"] if known and known.get("size") == size else sha256(path / rel)
        files[rel] = {"size": size, "sha256": digest}
    manifest = {
        "manifest": VERSION,
        "generation": generation,
        "format": format_version,
        "articles": articles,
        "files": files,
    }
    tmp = path / (NAME + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path / NAME)
    return manifest


def read(path: Path) -> dict:
    """The manifest of the generation at ``path``; a missing or unreadable one is refused."""
    try:
        manifest = json.loads((path / NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GenerationCopyError(
            f"{path} has no {NAME}: the copy is incomplete (copy the whole generation directory), "
            "or it was written by a vnsearch older than manifests (rebuild it with 'vnsearch reindex')"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise GenerationCopyError(f"cannot read {path / NAME}: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise GenerationCopyError(f"{path / NAME} is not a vnsearch manifest")
    if manifest.get("manifest") != VERSION:
        raise GenerationCopyError(
            f"{path / NAME} has manifest version {manifest.get('manifest')!r}; this vnsearch reads {VERSION}"
        )
    return manifest


def verify(path: Path) -> dict:
    """Check that ``path`` holds exactly the files its manifest lists, each of its size and SHA-256.

    Sizes are compared first (cheap: a partial copy fails at once), then every hash. Raises
    ``GenerationCopyError`` naming every file that is missing, extra, short or different."""
    manifest = read(path)
    listed: dict = manifest["files"]
    present = _listing(path)
    problems = [f"missing {rel}" for rel in sorted(set(listed) - set(present))]
    extra = sorted(set(present) - set(listed))
    problems += [f"unexpected {rel} (a copy still in progress?)" for rel in extra]
    problems += [
        f"{rel} has {present[rel]:,} bytes, the manifest says {entry['size']:,}"
        for rel, entry in sorted(listed.items())
        if rel in present and present[rel] != entry["size"]
    ]
    if not problems:
        problems = [
            f"{rel} differs from the manifest (SHA-256)"
            for rel, entry in sorted(listed.items())
            if sha256(path / rel) != entry["sha256"]
        ]
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise GenerationCopyError(f"{path} does not match its manifest: {shown}")
    return manifest


def sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _listing(path: Path) -> dict[str, int]:
    """Every file below ``path`` (relative name → size), the manifest and its temporary excepted."""
    files = {}
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            full = Path(dirpath) / name
            rel = full.relative_to(path).as_posix()
            if rel not in (NAME, NAME + ".tmp") and rel not in NOT_DATA:
                files[rel] = full.stat().st_size
    return files


def _files_or_empty(path: Path) -> dict:
    try:
        return read(path)["files"]
    except GenerationCopyError:
        return {}
