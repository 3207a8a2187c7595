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
highlighting inflate the values. ``CompactCharacters`` stores each posting's (position, start,
length) deltas as plain 16- or 32-bit integers instead of a pickle.
"""

import itertools
import struct
import zlib
from array import array

import numpy as np
from whoosh import formats
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3LeafMatcher, W3PostingsWriter, W3Segment
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length, length_to_byte

HEADER = struct.Struct("<I3s")
INFO = struct.Struct("<IIdBBB")  # postings, last id, max weight, compression, min/max length bytes
UINTS = {b"B": np.dtype("<u1"), b"H": np.dtype("<u2"), b"I": np.dtype("<u4")}
FLOAT32 = np.dtype("<f4")
ONES, CONSTANT, FLOATS = b"1", b"c", b"f"  # weight codes besides the half-unit UINTS
NO_VALUES, RAW, DEFLATED = b"-", b"r", b"z"
VALUES_LEVEL = 3  # 5k articles: level 1 makes the index 0.7% larger, 6 0.8% smaller for ~2% more commit CPU


def _uint_code(maximum: int) -> bytes:
    """The code of the smallest unsigned dtype that holds every number up to ``maximum``."""
    return next(code for code, dtype in UINTS.items() if maximum <= np.iinfo(dtype).max)


def _deflate(data: bytes, level: int) -> bytes:
    # Raw deflate: no zlib header and checksum, 6 bytes a block that the many short lists notice.
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


# --- writing -------------------------------------------------------------------------------------


def _encode_ids(ids: array) -> tuple[bytes, bytes]:
    deltas = np.diff(np.frombuffer(ids, dtype=np.uint32))
    code = _uint_code(int(deltas.max(initial=0)))
    return code, deltas.astype(UINTS[code]).tobytes()


def _encode_weights(weights: array) -> tuple[bytes, bytes]:
    """Whoosh buffers weights as float32; term frequencies with 3x/1.5x boosts are half-units."""
    w = np.frombuffer(weights, dtype=np.float32)
    if (w == 1.0).all():
        return ONES, b""
    if (w == w[0]).all():
        return CONSTANT, w[:1].astype(FLOAT32).tobytes()
    halves = w.astype(np.float64) * 2
    if (halves >= 0).all() and (halves == np.rint(halves)).all() and halves.max() <= 0xFFFF:
        code = _uint_code(int(halves.max()))
        return code, halves.astype(UINTS[code]).tobytes()
    return FLOATS, w.astype(FLOAT32).tobytes()


def _encode_values(values: list[bytes], count: int, level: int) -> tuple[bytes, bytes]:
    if not values:
        return NO_VALUES, b""
    if len(values) != count:
        raise ValueError("a posting block needs a value for every posting or for none")
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=count)
    code = _uint_code(int(lengths.max()))
    section = code + lengths.astype(UINTS[code]).tobytes() + b"".join(values)
    packed = _deflate(section, level) if level else section
    return (DEFLATED, packed) if len(packed) < len(section) else (RAW, section)


class CompactPostingsWriter(W3PostingsWriter):
    """W3PostingsWriter whose blocks hold the compact layout instead of a compressed pickle."""

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
        section = self._values
        if self._value_code == DEFLATED:
            section = zlib.decompress(section, -15)
        len_dtype = UINTS[section[:1]]
        lengths = np.frombuffer(section, len_dtype, self.count, 1)
        bounds = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64))) + 1 + lengths.nbytes
        return tuple(section[s:e] for s, e in itertools.pairwise(bounds.tolist()))


class CompactLeafMatcher(W3LeafMatcher):
    """W3LeafMatcher over compact blocks: ids and weights never touch the values section."""

    def _block(self) -> Block:
        if self._data is None:
            self._read_data()
        return self._data

    def _goto(self, position: int) -> None:
        """Whoosh's ``_goto`` for the struct block info (see ``CompactPostingsWriter._write_framed``)."""
        self._data = self._ids = self._weights = self._values = None
        self._i = 0
        length = self._postfile.get_int(position)
        self._lastblock = length < 0  # negative: the term's last block
        self._nextoffset = position + _INT_SIZE + abs(length)
        info = INFO.unpack(self._postfile.get(position + _INT_SIZE, INFO.size))
        self._blocklength, self._maxid, self._maxweight, self._compression, low, high = info
        self._minlength, self._maxlength = byte_to_length(low), byte_to_length(high)
        self._dataoffset = position + _INT_SIZE + INFO.size

    def _read_data(self) -> None:
        size = self._nextoffset - self._dataoffset
        self._data = Block(self._postfile.get(self._dataoffset, size), self._blocklength)

    def _read_ids(self) -> None:
        self._ids = self._block().ids().tolist()

    def _read_weights(self) -> None:
        self._weights = self._block().weights().tolist()

    def _read_values(self) -> None:
        self._values = self._block().values()

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All the term's (ids, weights) from its first block on, values left compressed."""
        self.reset()
        steps, weights, last = [], [], 0
        while not self._atend:
            block = self._block()
            steps += ((block.first - last,), block.deltas)  # one cumsum for the whole term
            weights.append(block.weights())
            last = self._maxid
            self._next_block()
        return np.cumsum(np.concatenate(steps, dtype=np.int64)), np.concatenate(weights)


class CompactCodec(W3Codec):
    """W3Codec writing term postings as compact blocks (term vectors stay W3: Whoosh reads them
    with its own W3LeafMatcher). Segments pickle their codec, so readers need no setup."""

    def __init__(self, blocklimit: int = 128, compression: int = VALUES_LEVEL, inlinelimit: int = 1):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def new_segment(self, storage, indexname):
        return CompactSegment(self, indexname)

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
    """The file methods StructFile and pickle use, over a memoryview, without copying it."""

    __slots__ = ("_buf", "_pos")

    def __init__(self, buf: memoryview):
        self._buf, self._pos = buf, 0

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


# --- posting values ------------------------------------------------------------------------------


class CompactCharacters(formats.Characters):
    """Characters whose value is a type code and the (position, start, length) deltas by column
    as uint16 (``H``, when all fit) or int32 (``i``): cheaper to build in the indexing workers and
    to decode when highlighting than a pickle, a third smaller, and the columns deflate better.
    """

    def encode(self, poslist) -> bytes:
        posdeltas, startdeltas, lengths = [], [], []
        posbase = charbase = 0
        for pos, start, end in poslist:
            posdeltas.append(pos - posbase)
            startdeltas.append(start - charbase)
            lengths.append(end - start)
            posbase, charbase = pos, end
        numbers = posdeltas + startdeltas + lengths
        code = "H" if min(numbers) >= 0 and max(numbers) <= 0xFFFF else "i"
        return code.encode() + array(code, numbers).tobytes()

    def _columns(self, value: bytes) -> tuple[array, array, array]:
        numbers = array(value[:1].decode(), value[1:])
        n = len(numbers) // 3
        return numbers[:n], numbers[n : 2 * n], numbers[2 * n :]

    def decode_frequency(self, value: bytes) -> int:
        return (len(value) - 1) // (3 * array(value[:1].decode()).itemsize)

    def decode_positions(self, value: bytes) -> list[int]:
        return list(itertools.accumulate(self._columns(value)[0]))

    def decode_characters(self, value: bytes) -> list[tuple[int, int, int]]:
        chars = []
        pos = end = 0
        for posdelta, startdelta, length in zip(*self._columns(value), strict=True):
            pos += posdelta
            start = end + startdelta
            end = start + length
            chars.append((pos, start, end))
        return chars
