"""Every private Whoosh name vnsearch relies on, in one room, checked against the pinned version.

Why: the compact codec, the segment writers and the array evaluator reach past Whoosh's public API
(``whoosh.codec.whoosh3`` internals, underscore attributes, a writer without its lock). A Whoosh
upgrade may move any of them; listing them here lets ``tests/test_whoosh_private.py`` say which one
moved, instead of a search failing somewhere deep in ``search/codec.py``, ``search/writing.py`` or
``search/matching.py``, which take them from here only.

It also declares which classes an index file names: Whoosh pickles the schema and the segments
(with their codec) into every generation's table of contents, so renaming or moving any class in
``STABLE_PICKLED`` makes every existing index unreadable. Keep them importable at these paths.
"""

from __future__ import annotations

import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3LeafMatcher,
    W3PostingsWriter,
    W3Segment,
)
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

WHOOSH_VERSION = (2, 7, 5)  # whoosh-reloaded, as pinned in pyproject.toml

INT_SIZE = _INT_SIZE

# Attributes (Whoosh's own, underscore-named) that search.codec's subclasses read or set.
POSTINGS_WRITER_ATTRS = (
    "_blocklimit", "_ids", "_weights", "_values", "_maxweight", "_minlength", "_maxlength",
    "_blockcount", "_postfile", "_terminfo", "_compression", "_write_block", "_new_block",
)  # fmt: skip
LEAF_MATCHER_ATTRS = (
    "_data", "_ids", "_weights", "_values", "_i", "_postfile", "_lastblock", "_nextoffset",
    "_blocklength", "_maxid", "_maxweight", "_compression", "_minlength", "_maxlength",
    "_dataoffset", "_atend", "_next_block", "_goto", "_read_data", "_read_ids", "_read_weights",
    "_read_values",
)  # fmt: skip
FIELD_WRITER_ATTRS = ("_postwriter",)
# SegmentWriter attributes: its posting pool (replaced by search.termpool.TermPool: Whoosh calls its
# iter_postings and cleanup, file_document its add_field), whether it got a document, and what
# file_document uses.
SEGMENT_WRITER_ATTRS = (
    "pool",
    "_added",
    "_finalize_segment",
    "_close_segment",
    "_check_state",
    "perdocwriter",
    "docnum",
)
CODEC_ATTRS = ("_blocklimit", "_compression", "_inlinelimit")
COMPOUND_ATTRS = ("_source",)
BUFFER_FILE_ATTRS = ("_name", "file")

# module.Class names pickled into each generation's table of contents (schema, segments, codec).
STABLE_PICKLED = frozenset(
    {
        "search.analysis.VietnameseTokenizer",
        "search.codec.CompactCodec",
        "search.codec.CompactPositions",
        "search.codec.CompactSegment",
        "search.schema.VietnameseText",
    }
)

__all__ = [
    "LENGTHS_COLUMN",
    "WHOOSH3_HEADER_MAGIC",
    "BufferFile",
    "CompoundStorage",
    "FileStorage",
    "FilterMatcher",
    "TermNotFound",
    "W3Codec",
    "W3FieldWriter",
    "W3LeafMatcher",
    "W3PostingsWriter",
    "W3Segment",
    "byte_to_length",
    "length_to_byte",
]


def segment_writer(ix: whoosh_index.Index, limitmb: int, codec: W3Codec, pool=None) -> SegmentWriter:
    """A writer for one worker's own segment: no Whoosh lock (the parent holds vnsearch's); with
    ``pool``, postings go there instead of Whoosh's sorting pool (``search.termpool.TermPool``)."""
    writer = SegmentWriter(ix, _lk=False, limitmb=limitmb, codec=codec)
    if pool is not None:
        writer.pool = pool
    return writer


def file_document(writer: SegmentWriter, fields: dict) -> None:
    """``SegmentWriter.add_document`` into a ``TermPool``, each field's postings handed over at once
    (``TermPool.add_field``): Whoosh's call per posting was most of filing a document. Same stored
    values, columns and field lengths as Whoosh's; what vnsearch never sends (``_boost`` and
    ``_stored_`` keys, spelling, term vectors) is refused rather than dropped."""
    writer._check_state()
    perdoc, schema, docnum = writer.perdocwriter, writer.schema, writer.docnum
    perdoc.start_doc(docnum)
    try:
        for name in sorted(fields):
            field, value = schema[name], fields[name]  # an unknown name is Whoosh's KeyError
            if value is None:
                continue
            if field.vector or field.separate_spelling():
                raise ValueError(f"field {name!r}: file_document writes no term vectors or spelling")
            length = writer.pool.add_field(name, docnum, field.index(value)) if field.indexed else 0
            perdoc.add_field(name, field, value if field.stored else None, length if field.scorable else 0)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
    except Exception:
        perdoc.cancel_doc()
        raise
    perdoc.finish_doc()
    writer._added = True
    writer.docnum += 1


def finish_segment(writer: SegmentWriter) -> object | None:
    """Write the segment and return it for the parent to list, as Whoosh's own multi-process
    writer does; None when the writer got no document."""
    return writer._finalize_segment() if writer._added else None


def close_segment(writer: SegmentWriter) -> None:
    """Close the files of a segment being written, leaving the temporary directory that other
    writers of the generation share (``cancel`` would delete it under them)."""
    writer._close_segment()


def list_segments(writer: SegmentWriter, segments: list) -> None:
    """Add segments that worker processes finished to what ``writer`` commits."""
    writer.segments = writer.segments + segments


def field_length_bytes(leaf, fieldname: str) -> np.ndarray | None:
    """The one-byte field length codes of a segment's documents (Whoosh has no public reader)."""
    perdoc = leaf._perdoc
    colname = f"_{fieldname}_len"
    if not perdoc.has_column(colname):
        return None
    creader = perdoc.column_reader(colname, LENGTHS_COLUMN)
    return np.fromiter(creader, dtype=np.uint8, count=leaf.doc_count_all())


def live_files(ix: whoosh_index.Index) -> set[str]:
    """Names of the files an index's table of contents uses (its TOC, its segments' files)."""
    names = {f"_{ix.indexname}_{ix.latest_generation()}.toc"}
    for segment in ix._segments():
        names.update(segment.list_files(ix.storage))
    return names
