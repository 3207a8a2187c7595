"""Stories: the same article republished, lightly edited, grouped under one key.

At index time each article gets a MinHash signature of its 3-syllable shingles, kept in a
fixed-width column. Per generation, on its first search, the signatures are cut into bands;
articles sharing a band are candidates, a candidate pair whose signatures agree on at least
``SIMILARITY`` of their values is a near-duplicate pair, and connected pairs form a story.

The MinHash is datasketch's "affine32" scheme (a MurmurHash3 finalizer, then ``a * h + b`` modulo
2**32 per permutation) written out in numpy: importing datasketch loads scipy (3 s and tens of MB
in every worker process, which ``search`` keeps out), for twenty lines of arithmetic.

Chosen by measurement on VMDS (628 articles in 199 event clusters from many outlets; the exact
Jaccard of 3-syllable shingles): articles of different clusters never reach 0.11, copies of an
article with 10 % of its syllables replaced, deleted or inserted never fall under 0.57, while
independent reports of one event mostly stay under 0.3. ``benchmarks/stories.py`` measures the
result (pair precision on VMDS, synthetic copies grouped, indexing cost).
"""

import zlib
from collections.abc import Sequence

import numpy as np

SHINGLE = 3  # syllables per shingle
NUM_PERM = 128  # signature values; 16 bits kept of each
BAND_ROWS = 2  # values per LSH band: a pair at similarity 0.4 shares a band with p > 0.9999
SIMILARITY = 0.4  # share of equal signature values that makes a near-duplicate pair
MIN_SHINGLES = 20  # shorter texts (a caption, a one-sentence brief) get no signature: no story
SIGNATURE_BYTES = NUM_PERM * 2
NO_SIGNATURE = bytes(SIGNATURE_BYTES)
_CHUNK = 4096  # shingles hashed at once: a 5 MB article costs no more memory than a short one
_PAIRS_AT_ONCE = 1 << 16  # candidate pairs compared at once (32 MB of signatures)

# Part of the on-disk format (generations.FORMAT_VERSION): other permutations, other signatures.
_RANDOM = np.random.default_rng(20261203)
_A = _RANDOM.integers(0, 2**32, NUM_PERM, dtype=np.uint64).astype(np.uint32) | np.uint32(1)  # odd
_B = _RANDOM.integers(0, 2**32, NUM_PERM, dtype=np.uint64).astype(np.uint32)


def signature(syllables: Sequence[str]) -> bytes:
    """The article's signature from its syllable keys in order (``NO_SIGNATURE`` when too short)."""
    if len(syllables) < MIN_SHINGLES + SHINGLE - 1:
        return NO_SIGNATURE
    hashes = np.fromiter((zlib.crc32(s.encode()) for s in syllables), np.uint32, len(syllables))
    mixed = hashes[: len(hashes) - SHINGLE + 1].copy()
    for i in range(1, SHINGLE):  # a shingle's hash from its syllables' hashes, order-sensitive
        mixed = mixed * np.uint32(0x01000193) ^ hashes[i : len(hashes) - SHINGLE + 1 + i]
    mixed = _fmix32(mixed)
    sketch = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    for start in range(0, len(mixed), _CHUNK):
        permuted = np.multiply.outer(mixed[start : start + _CHUNK], _A) + _B  # wraps: modulo 2**32
        np.minimum(sketch, permuted.min(axis=0), out=sketch)
    return (sketch & np.uint32(0xFFFF)).astype("<u2").tobytes()


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer: spreads similar inputs over all 32 bits (a bijection)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def labels(signatures: np.ndarray, live: np.ndarray) -> np.ndarray:
    """A story label for each article (the smallest docnum of its story; its own without one).

    ``signatures``: (articles, NUM_PERM) uint16; rows of zeros have no signature. Memory stays
    bounded: candidate pairs are checked ``_PAIRS_AT_ONCE`` at a time.
    """
    usable = np.flatnonzero(live & signatures.any(axis=1))
    codes = _candidates(signatures, usable)
    needed = int(np.ceil(SIMILARITY * NUM_PERM))
    near = []
    for start in range(0, len(codes), _PAIRS_AT_ONCE):
        chunk = codes[start : start + _PAIRS_AT_ONCE]
        first, second = chunk >> 32, chunk & 0xFFFFFFFF
        agree = np.count_nonzero(signatures[first] == signatures[second], axis=1)
        near.append(chunk[agree >= needed])
    pairs = np.concatenate(near) if near else np.empty(0, np.int64)
    return _components(len(signatures), pairs >> 32, pairs & 0xFFFFFFFF).astype(np.int32)


def _candidates(signatures: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Pairs that share a band, each once, coded ``low << 32 | high``: neighbours in each band's
    sorted order, and each article with the first of its run (so a run of true copies is linked
    even with strangers among it)."""
    found = []
    for band in range(0, NUM_PERM, BAND_ROWS):
        rows = signatures[usable, band : band + BAND_ROWS].astype(np.uint32)
        key = rows[:, 0] << np.uint32(16) | rows[:, 1]
        order = np.argsort(key)
        ranked, docs = key[order], usable[order]
        same = ranked[1:] == ranked[:-1]
        if not same.any():
            continue
        found.append(_code(docs[:-1][same], docs[1:][same]))
        run_start = np.maximum.accumulate(np.where(np.r_[True, ~same], np.arange(len(docs)), 0))
        firsts = docs[run_start]
        linked = firsts != docs
        found.append(_code(firsts[linked], docs[linked]))
    return np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)


def _code(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.astype(np.int64), b.astype(np.int64)
    return np.minimum(a, b) << 32 | np.maximum(a, b)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest member of each article's connected component, given edges ``a[i]``–``b[i]``
    (union-find in numpy: link each edge's roots to the smaller one, then jump pointers until
    every edge's ends share a root)."""
    root = np.arange(n)
    while True:
        ra, rb = root[a], root[b]
        if (ra == rb).all():
            return root
        low = np.minimum(ra, rb)
        np.minimum.at(root, ra, low)
        np.minimum.at(root, rb, low)
        while not np.array_equal(jumped := root[root], root):
            root = jumped
