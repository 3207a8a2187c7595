"""A compact on-disk layout for Whoosh posting blocks, and fast whole-term reads of it.

Whoosh's W3Codec stores each block of 128 postings as ``zlib(pickle((ids, weights, values)))``:
reading a term's ids and weights unpickles its positions too, and 9-byte pickled doubles, pickled
id deltas and pickled position lists make the postings file most of the index. ``CompactCodec``
keeps Whoosh's block framing (length, block info, data) and term infos, but writes the block info
as a fixed struct instead of a pickle, and the data as::

    header   <I 3s   first id; codes of the id deltas' dtype, the weights and the values section
    deltas   n-1 id deltas, uint8/16/32
    weights  none (all 1.0) | one float32 | half-units as uint8/16 | float32
    values   (raw deflate if smaller) lengths' dtype code, n lengths, the concatenated values

so ids and weights are numpy views of the block (``term_arrays``), and only phrases and
highlighting inflate the values. ``CompactPositions`` stores a posting's position deltas as plain
integers instead of a pickle, and only for the syllables that phrases and highlighting read.
"""

import functools
import itertools
import operator
import struct
import threading
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterator

import numpy as np
from whoosh import formats

from search.analysis import Analyzed, is_syllable
from search.termpool import TermPostings
from search.whoosh_private import (
    INT_SIZE,
    WHOOSH3_HEADER_MAGIC,
    BufferFile,
    CompoundStorage,
    FilterMatcher,
    TermNotFound,
    W3Codec,
    W3FieldWriter,
    W3LeafMatcher,
    W3PostingsWriter,
    W3Segment,
    byte_to_length,
    length_to_byte,
)

HEADER = struct.Struct("<I3s")
INFO = struct.Struct("<IIdBBB")  # postings, last id, max weight, compression, min/max length bytes
UINTS = {b"B": np.dtype("<u1"), b"H": np.dtype("<u2"), b"I": np.dtype("<u4")}
FLOAT32 = np.dtype("<f4")
ONES, CONSTANT, FLOATS = b"1", b"c", b"f"  # weight codes besides the half-unit UINTS
NO_VALUES, RAW, DEFLATED = b"-", b"r", b"z"
VALUES_LEVEL = 3  # 5k articles: level 1 makes the index 0.7% larger, 6 0.8% smaller for ~2% more commit CPU
# Shorter value sections are stored raw without trying: deflate never shrank one (1,000 VietNews
# articles: 0 of 19,778 blocks), and trying cost 7 % of writing a segment (2,000 articles).
DEFLATE_FROM = 8


def _uint_code(maximum: int) -> bytes:
    """The code of the smallest unsigned dtype that holds every number up to ``maximum``."""
    return b"B" if maximum <= 0xFF else b"H" if maximum <= 0xFFFF else b"I"


_TYPECODES = {code: code.decode() for code in UINTS}


def _uint_bytes(code: bytes, numbers) -> bytes:
    """Little-endian bytes of ``numbers`` as ``UINTS[code]`` (array's native order on every platform
    Whoosh runs on here; its "I" is 4 bytes there)."""
    return array(_TYPECODES[code], numbers).tobytes()


def _deflate(data: bytes, level: int) -> bytes:
    # Raw deflate: no zlib header and checksum, 6 bytes a block that the many short lists notice.
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


# --- writing -------------------------------------------------------------------------------------


# Plain Python, not numpy: most blocks hold a handful of postings (a rare term's), where numpy's
# per-call cost was most of the segment writing time.


def _encode_ids(ids: array) -> tuple[bytes, bytes]:
    deltas = [b - a for a, b in zip(ids, ids[1:], strict=False)]
    code = _uint_code(max(deltas, default=0))
    return code, _uint_bytes(code, deltas)


def _encode_weights(weights: array) -> tuple[bytes, bytes]:
    """Whoosh buffers weights as float32; term frequencies with 3x/1.5x boosts are half-units."""
    w = weights.tolist()
    if w.count(1.0) == len(w):
        return ONES, b""
    if w.count(w[0]) == len(w):
        return CONSTANT, array("f", w[:1]).tobytes()
    halves = [x * 2 for x in w]
    if all(h >= 0 and h.is_integer() for h in halves) and max(halves) <= 0xFFFF:
        code = _uint_code(int(max(halves)))
        return code, _uint_bytes(code, map(int, halves))
    return FLOATS, array("f", w).tobytes()


def _encode_values(values: list[bytes], count: int, level: int) -> tuple[bytes, bytes]:
    if not values:
        return NO_VALUES, b""
    if len(values) != count:
        raise ValueError("a posting block needs a value for every posting or for none")
    lengths = [len(v) for v in values]
    code = _uint_code(max(lengths))
    section = code + _uint_bytes(code, lengths) + b"".join(values)
    packed = _deflate(section, level) if level and len(section) >= DEFLATE_FROM else section
    return (DEFLATED, packed) if len(packed) < len(section) else (RAW, section)


class CompactPostingsWriter(W3PostingsWriter):
    """W3PostingsWriter whose blocks hold the compact layout instead of a compressed pickle."""

    def add_postings(self, ids: list[int], weights: list[float], values: list[bytes], lengths: list[int]):
        """A term's postings a block at a time: what ``add_posting`` does for one, without a call
        and its type checks per posting."""
        for i in range(0, len(ids), self._blocklimit):
            if self._ids:  # a term starts with an empty block and fills whole ones
                self._write_block()
            chunk = slice(i, i + self._blocklimit)
            self._ids.extend(ids[chunk])
            self._weights.extend(weights[chunk])
            self._values.extend(filter(None, values[chunk]))
            self._maxweight = max(self._maxweight, max(weights[chunk]))
            if known := list(filter(None, lengths[chunk])):
                self._minlength = min(known) if self._minlength is None else min(self._minlength, *known)
                self._maxlength = max(self._maxlength, *known)

    def _write_block(self, last: bool = False) -> None:
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        count = len(self._ids)
        id_code, ids = _encode_ids(self._ids)
        weight_code, weights = _encode_weights(self._weights)
        value_code, values = _encode_values(self._values, count, self._compression)
        header = HEADER.pack(self._ids[0], id_code + weight_code + value_code)
        self._write_framed(header + ids + weights + values, last)

    def _write_framed(self, data: bytes, last: bool) -> None:
        """Whoosh's framing (length, block info, data) with the info as a fixed struct, not a pickle:
        every block a query or a skip visits starts by reading it."""
        infobytes = INFO.pack(
            len(self._ids),
            self._ids[-1],
            self._maxweight,
            self._compression,
            length_to_byte(self._minlength),
            length_to_byte(self._maxlength),
        )
        length = len(infobytes) + len(data)
        self._postfile.write_int(-length if last else length)  # negative: the term's last block
        self._postfile.write(infobytes)
        self._postfile.write(data)
        self._blockcount += 1
        self._new_block()


# --- reading -------------------------------------------------------------------------------------


def _weights_size(code: bytes, count: int) -> int:
    if code == ONES:
        return 0
    if code == CONSTANT:
        return FLOAT32.itemsize
    return count * (FLOAT32 if code == FLOATS else UINTS[code]).itemsize


class Block:
    """One posting block's sections, located in its bytes and decoded only when asked for."""

    __slots__ = ("count", "first", "deltas", "_weight_code", "_weights", "_value_code", "_values")

    def __init__(self, buf: bytes, count: int):
        self.count = count
        self.first, codes = HEADER.unpack_from(buf)
        id_dtype = UINTS[codes[:1]]
        self.deltas = np.frombuffer(buf, id_dtype, count - 1, HEADER.size)
        start = HEADER.size + (count - 1) * id_dtype.itemsize
        self._weight_code, self._value_code = codes[1:2], codes[2:]
        end = start + _weights_size(self._weight_code, count)
        self._weights, self._values = buf[start:end], buf[end:]

    def ids(self) -> np.ndarray:
        return np.cumsum(np.concatenate(((self.first,), self.deltas), dtype=np.int64))

    def weights(self) -> np.ndarray:
        code, count = self._weight_code, self.count
        if code == ONES:
            return np.ones(count)
        if code == CONSTANT:
            return np.full(count, np.frombuffer(self._weights, FLOAT32)[0], dtype=np.float64)
        if code == FLOATS:
            return np.frombuffer(self._weights, FLOAT32).astype(np.float64)
        return np.frombuffer(self._weights, UINTS[code]) * 0.5

    def values(self) -> tuple:
        """The postings' encoded values (None each for value-less formats, as Whoosh gives them)."""
        if self._value_code == NO_VALUES:
            return (None,) * self.count
        section, bounds = self._sections()
        return tuple(section[s:e] for s, e in itertools.pairwise(bounds.tolist()))

    def positions(self, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into ``held``, position) of every position of the postings at ``held``, decoded
        together: a phrase check reads thousands of postings, too many for a call each."""
        if self._value_code == NO_VALUES or not len(held):
            return np.empty(0, np.int64), np.empty(0, np.int64)
        section, bounds = self._sections()
        raw = np.frombuffer(section, np.uint8)
        starts, ends = bounds[held], bounds[held + 1]
        owners, positions = [], []
        for code, size in ((b"B", 1), (b"H", 2), (b"I", 4)):
            chosen = np.flatnonzero((raw[np.minimum(starts, len(raw) - 1)] == code[0]) & (ends > starts))
            if len(chosen):
                counts = (ends[chosen] - starts[chosen] - 1) // size
                owner, found = _decode_runs(raw, starts[chosen] + 1, counts, size)
                owners.append(chosen[owner])
                positions.append(found)
        if not owners:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        owner, found = np.concatenate(owners), np.concatenate(positions)
        order = np.argsort(owner, kind="stable")  # by posting, each posting's positions ascending
        return owner[order], found[order]

    def _sections(self) -> tuple[bytes, np.ndarray]:
        """The values section and the start of each posting's value in it (and the end of the last)."""
        section = self._values
        if self._value_code == DEFLATED:
            section = zlib.decompress(section, -15)
        len_dtype = UINTS[section[:1]]
        lengths = np.frombuffer(section, len_dtype, self.count, 1)
        bounds = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64))) + 1 + lengths.nbytes
        return section, bounds


def _decode_runs(raw: np.ndarray, starts: np.ndarray, counts: np.ndarray, size: int) -> tuple:
    """Runs of little-endian unsigned deltas (``counts[i]`` of ``size`` bytes from ``starts[i]``),
    each summed into its positions: (run index, position) for every number."""
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    offsets = starts[owner] + (np.arange(len(owner)) - first[owner]) * size
    deltas = np.zeros(len(owner), dtype=np.int64)
    for byte in range(size):
        deltas |= raw[offsets + byte].astype(np.int64) << (8 * byte)
    running = np.cumsum(deltas)
    before = np.concatenate(([0], running))[first]  # the sum of earlier runs, taken off each run
    return owner, running - before[owner]


class CompactLeafMatcher(W3LeafMatcher):
    """W3LeafMatcher over compact blocks: ids and weights never touch the values section."""

    def current_block(self) -> Block:
        if self._data is None:
            self._read_data()
        return self._data

    def _goto(self, position: int) -> None:
        """Whoosh's ``_goto`` for the struct block info (see ``CompactPostingsWriter._write_framed``)."""
        self._data = self._ids = self._weights = self._values = None
        self._i = 0
        length = self._postfile.get_int(position)
        self._lastblock = length < 0  # negative: the term's last block
        self._nextoffset = position + INT_SIZE + abs(length)
        info = INFO.unpack(self._postfile.get(position + INT_SIZE, INFO.size))
        self._blocklength, self._maxid, self._maxweight, self._compression, low, high = info
        self._minlength, self._maxlength = byte_to_length(low), byte_to_length(high)
        self._dataoffset = position + INT_SIZE + INFO.size

    def _read_data(self) -> None:
        size = self._nextoffset - self._dataoffset
        self._data = Block(self._postfile.get(self._dataoffset, size), self._blocklength)

    def _read_ids(self) -> None:
        self._ids = self.current_block().ids().tolist()

    def _read_weights(self) -> None:
        self._weights = self.current_block().weights().tolist()

    def _read_values(self) -> None:
        self._values = self.current_block().values()

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All the term's (ids, weights) from its first block on, values left compressed."""
        self.reset()
        steps, weights, last = [], [], 0
        while not self._atend:
            block = self.current_block()
            steps += ((block.first - last,), block.deltas)  # one cumsum for the whole term
            weights.append(block.weights())
            last = self._maxid
            self._next_block()
        return np.cumsum(np.concatenate(steps, dtype=np.int64)), np.concatenate(weights)


class CompactFieldWriter(W3FieldWriter):
    def add_postings(self, schema, lengths, items):
        """Whoosh's loop over sorted (field, term, docnum, weight, value) postings, handing each
        term's postings over at once, with each field's document lengths read in one pass (per
        posting calls and column lookups were most of writing a segment). No field here has a
        spelling graph, the one thing Whoosh's loop does besides."""
        lengths = _LengthsOnce(lengths) if lengths else None
        terms = items.terms() if isinstance(items, TermPostings) else _by_term(items)
        for fieldname, in_field in itertools.groupby(terms, key=operator.itemgetter(0)):
            self.start_field(fieldname, schema[fieldname])
            for _f, btext, ids, weights, values in in_field:
                if ids[0] < 0:
                    raise ValueError(f"field {fieldname!r} has a spelling graph: CompactCodec writes none")
                self.start_term(btext)
                sizes = lengths.of(ids, fieldname) if lengths else [0] * len(ids)
                self._postwriter.add_postings(ids, weights, values, sizes)
                self.finish_term()
            self.finish_field()


def _by_term(items) -> Iterator[tuple[str, bytes, list, list, list]]:
    """Sorted (field, term, docnum, weight, value) postings as (field, term, docnums, weights,
    values) a term at a time (Whoosh's own pool, as merges and incremental writers use)."""
    for (fieldname, btext), postings in itertools.groupby(items, key=operator.itemgetter(0, 1)):
        _f, _t, ids, weights, values = zip(*postings, strict=True)
        yield fieldname, btext, list(ids), list(weights), list(values)


class _LengthsOnce:
    """A per-document reader's ``doc_field_length``, each field's column read in one pass."""

    def __init__(self, lengths):
        self._lengths, self._tables = lengths, {}

    def of(self, docnums, fieldname: str) -> list[int]:
        """The field's length in each of ``docnums``."""
        table = self._tables.get(fieldname)
        if table is None:
            read = self._lengths.doc_field_length
            table = [read(d, fieldname, 0) for d in range(self._lengths.doc_count_all())]
            self._tables[fieldname] = table
        return [table[d] for d in docnums]


class CompactCodec(W3Codec):
    """W3Codec writing term postings as compact blocks (term vectors stay W3: Whoosh reads them
    with its own W3LeafMatcher). Segments pickle their codec, so readers need no setup."""

    def __init__(self, blocklimit: int = 128, compression: int = VALUES_LEVEL, inlinelimit: int = 1):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def new_segment(self, storage, indexname):
        return CompactSegment(self, indexname)

    def field_writer(self, storage, segment):
        return CompactFieldWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        if byteids:
            return super().postings_writer(dbfile, byteids=True)
        return CompactPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return CompactLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


# --- reading the segment file in place -----------------------------------------------------------


class CompactSegment(W3Segment):
    """A segment whose compound file is read through the memory map, never copied.

    Whoosh wraps each part of a mapped compound file in ``BytesIO``, which copies it: every
    searcher process held its own copy of the postings (600 MB of private memory per web worker at
    201k articles). Reading the map in place leaves one copy, in the page cache, shared by all.
    """

    def open_compound_file(self, storage):
        return _MappedCompound(storage.open_file(self.make_filename(self.COMPOUND_EXT)), use_mmap=True)


class _MappedCompound(CompoundStorage):
    def open_file(self, name, *args, **kwargs):
        if not self._source:  # no memory map on this platform: Whoosh's own reading
            return super().open_file(name, *args, **kwargs)
        offset, length = self.range(name)
        return _MappedFile(memoryview(self._source)[offset : offset + length], name=name)


class _MappedFile(BufferFile):
    """Whoosh's BufferFile over a memoryview, with a cursor instead of a BytesIO copy."""

    def __init__(self, buf, name=None, onclose=None):
        super().__init__(b"", name=name, onclose=onclose)
        self._buf, self.file = buf, _Cursor(buf)

    def subset(self, position, length, name=None):
        return _MappedFile(self._buf[position : position + length], name=name or self._name)


class _Cursor:
    """The file methods StructFile and pickle use, over a memoryview, without copying it.

    The position is per thread: the web worker runs requests in threads that share one searcher,
    and Whoosh reads with ``seek`` then ``read`` (a posting list's header, term infos), so a
    shared position let one thread read where another had just seeked ("Block tag error").
    """

    __slots__ = ("_buf", "_local")

    def __init__(self, buf: memoryview):
        self._buf, self._local = buf, threading.local()

    @property
    def _pos(self) -> int:
        return getattr(self._local, "pos", 0)

    @_pos.setter
    def _pos(self, value: int) -> None:
        self._local.pos = value

    def read(self, n: int = -1) -> bytes:
        end = len(self._buf) if n is None or n < 0 else min(len(self._buf), self._pos + n)
        start, self._pos = self._pos, end
        return self._buf[start:end].tobytes()

    def readline(self, limit: int = -1) -> bytes:
        rest = (
            self._buf[self._pos :].tobytes()
            if limit < 0
            else self._buf[self._pos : self._pos + limit].tobytes()
        )
        line = rest[: rest.find(b"\n") + 1 or len(rest)]
        self._pos += len(line)
        return line

    def seek(self, pos: int, whence: int = 0) -> int:
        self._pos = pos + (0, self._pos, len(self._buf))[whence]
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._buf = memoryview(b"")


# --- whole-term reads ----------------------------------------------------------------------------


def term_arrays(reader, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A term's (docnums int64 ascending, weights float64) for vectorised scoring.

    From compact blocks this costs a few numpy calls a block instead of unpickling every posting's
    positions; other postings (inlined, another codec) go through the matcher. Docnums are the
    reader's own (segment-local for a segment reader) and include deleted documents: the caller
    masks them once per segment instead of this filtering per term. A missing term gives empty
    arrays.
    """
    if reader.is_atomic():
        return _leaf_arrays(reader, fieldname, text)
    ids, weights = [np.empty(0, np.int64)], [np.empty(0)]
    for leaf, base in reader.leaf_readers():
        leaf_ids, leaf_weights = _leaf_arrays(leaf, fieldname, text)
        ids.append(leaf_ids + base)
        weights.append(leaf_weights)
    return np.concatenate(ids), np.concatenate(weights)


def _leaf_arrays(reader, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        matcher = reader.postings(fieldname, text)
    except TermNotFound:
        return np.empty(0, np.int64), np.empty(0)
    if isinstance(matcher, FilterMatcher):  # the segment's deletions: the caller masks them
        matcher = matcher.child
        matcher.reset()  # the filter has stepped past leading deleted documents
    if isinstance(matcher, CompactLeafMatcher):
        return matcher.arrays()
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


def term_positions(reader, fieldname: str, text: bytes, docnums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(docnum, position) of every occurrence of a term in the given documents (ascending docnums).

    A phrase check reads positions only for its candidates: compact blocks whose last id is below
    the next candidate are passed over unread, and a block's values are decoded once for all the
    candidates it holds. Docnums are the reader's own, as for ``term_arrays``.
    """
    if reader.is_atomic():
        return _leaf_positions(reader, fieldname, text, docnums)
    docs, positions = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for leaf, base in reader.leaf_readers():
        inside = docnums[(docnums >= base) & (docnums < base + leaf.doc_count_all())]
        if len(inside):
            leaf_docs, leaf_positions = _leaf_positions(leaf, fieldname, text, inside - base)
            docs.append(leaf_docs + base)
            positions.append(leaf_positions)
    return np.concatenate(docs), np.concatenate(positions)


def _leaf_positions(reader, fieldname: str, text: bytes, docnums: np.ndarray) -> tuple[np.ndarray, ...]:
    docs: list[np.ndarray] = [np.empty(0, np.int64)]
    positions: list[np.ndarray] = [np.empty(0, np.int64)]
    try:
        matcher = reader.postings(fieldname, text)
    except TermNotFound:
        return docs[0], positions[0]
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
        matcher.reset()
    if isinstance(matcher, CompactLeafMatcher):
        _compact_positions(matcher, docnums, docs, positions)
        return np.concatenate(docs), np.concatenate(positions)
    for docnum in docnums.tolist():
        if matcher.is_active() and matcher.id() < docnum:
            matcher.skip_to(docnum)
        if matcher.is_active() and matcher.id() == docnum:
            found = matcher.value_as("positions")
            docs.append(np.full(len(found), docnum, dtype=np.int64))
            positions.append(np.array(found, dtype=np.int64))
    return np.concatenate(docs), np.concatenate(positions)


def _compact_positions(matcher, docnums: np.ndarray, docs: list, positions: list) -> None:
    matcher.reset()
    i, first = 0, int(docnums[0]) if len(docnums) else 0
    while not matcher._atend and i < len(docnums):
        if matcher._maxid < first:  # a block before the next wanted document: only its header is read
            matcher._next_block()
            continue
        j = int(np.searchsorted(docnums, matcher._maxid, side="right"))
        if j > i:
            block = matcher.current_block()
            ids = block.ids()
            wanted = docnums[i:j]
            at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
            held = at[ids[at] == wanted]
            owners, found = block.positions(held)
            docs.append(ids[held][owners])
            positions.append(found)
            i = j
            first = int(docnums[i]) if i < len(docnums) else first
        matcher._next_block()


# --- posting values ------------------------------------------------------------------------------


class CompactPositions(formats.Positions):
    """Positions as a type code and plain 16- or 32-bit deltas (no pickle), kept only where they are
    read: a key of one alphanumeric run (a syllable, a compound's part) is what phrases line up and
    what highlighting marks. Word and compound tokens ("khoa_học", "tp.hcm") keep their weight but no
    positions: phrases are built from syllables, and their syllables are marked on their own.

    No character offsets: ``search.analysis.syllable_spans`` finds a position's characters in the
    stored text. Offsets in the postings of both the exact and the folded field were a quarter of
    the index (2,000 VietNews articles: 12.1 of 28.3 MB, against 6.0 for their positions).
    """

    def word_values(self, value, analyzer, **kwargs):
        if isinstance(value, Analyzed):
            return _analyzed_values(value, self.field_boost)
        positions, weights = defaultdict(list), defaultdict(float)
        for key, pos, boost in _keyed(value, analyzer, kwargs):
            positions[key].append(pos)
            weights[key] += boost
        return (
            (key, len(poslist), weights[key] * self.field_boost, self.encode(_kept(key, poslist)))
            for key, poslist in positions.items()
        )

    def encode(self, poslist) -> bytes:
        return pack_increasing(poslist)

    def decode_positions(self, value: bytes) -> list[int]:
        return unpack_increasing(value)

    def decode_frequency(self, value: bytes) -> int:
        """Positions kept (none for a word or compound token; its weight counts its occurrences)."""
        return (len(value) - 1) // UINTS[value[:1]].itemsize


def _analyzed_values(value: Analyzed, field_boost: float) -> list[tuple[str, int, float, bytes]]:
    """``word_values`` for tokens an indexing worker already made and grouped by key: no Whoosh
    Token objects (filing postings once cost as much as segmenting the text)."""
    return [
        (key, len(poslist), weight * field_boost, pack_increasing(_kept(key, poslist)))
        for key, (poslist, weight) in value.groups().items()
    ]


@functools.lru_cache(maxsize=1 << 16)
def _keeps_positions(key: str) -> bool:
    return is_syllable(key)


def _kept(key: str, poslist: list[int]) -> list[int]:
    """The positions a key's postings keep: a syllable's all, a word's or compound's none."""
    return poslist if _keeps_positions(key) else []


def _keyed(value, analyzer, kwargs) -> Iterator[tuple[str, int, float]]:
    """(key, position, boost) of each token of a plain string value."""
    kwargs = {**kwargs, "positions": True, "boosts": True}
    return ((t.text, t.pos, t.boost) for t in formats.tokens(value, analyzer, kwargs))


_SINGLE = [b"B" + bytes((n,)) for n in range(256)]


def pack_increasing(numbers: list[int]) -> bytes:
    """Non-decreasing integers as a type code and their deltas in the smallest unsigned type."""
    if len(numbers) <= 1:  # most postings: a word or a syllable once in the article
        if not numbers:
            return b"B"
        n = numbers[0]
        if n <= 0xFF:
            return _SINGLE[n]
        return b"H" + n.to_bytes(2, "little") if n <= 0xFFFF else b"I" + n.to_bytes(4, "little")
    deltas = [n - prev for prev, n in zip([0, *numbers], numbers, strict=False)]
    code = _uint_code(max(deltas, default=0))
    return code + _uint_bytes(code, deltas)


def unpack_increasing(value: bytes) -> list[int]:
    return increasing_array(value).tolist()


def increasing_array(value: bytes) -> np.ndarray:
    """``pack_increasing``'s numbers as an array: a 5 MB article's million starts in milliseconds."""
    return np.cumsum(np.frombuffer(value, UINTS[value[:1]], offset=1), dtype=np.int64)
