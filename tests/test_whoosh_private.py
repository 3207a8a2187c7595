"""The contract with Whoosh's internals, against the pinned whoosh-reloaded.

What is pinned down: every private Whoosh name vnsearch uses is declared in ``search.whoosh_private``
and still exists, on real objects of a real index, in the installed Whoosh; ``search/codec.py``,
``search/writing.py`` and ``search/matching.py`` reach Whoosh's internals only through it; the classes
pickled into an index are exactly the declared stable ones and import from their paths.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import pickle
import pickletools
from pathlib import Path

import pytest
from factories import article

import search
from search import codec, generations, whoosh_private
from search.whoosh_private import W3PostingsWriter

ROOT = Path(__file__).resolve().parents[1]
GUARDED = ["search/codec.py", "search/writing.py", "search/matching.py"]
PUBLIC_WHOOSH = {"whoosh", "whoosh.formats", "whoosh.query", "whoosh.index"}


@pytest.fixture(scope="module")
def whoosh_ix(tmp_path_factory):
    """A real generation with a term in enough documents to get compact blocks, opened by Whoosh."""
    root = tmp_path_factory.mktemp("ix")
    ix = search.Index(root, workers=1)
    with ix.new_generation() as gen:
        gen.add_many([article(f"a{i}", f"Tin {i}", "Khoa học và đời sống.") for i in range(300)])
    from whoosh import index as whoosh_index

    return whoosh_index.open_dir(str(generations.generations_dir(root) / ix.generation))


def test_the_installed_whoosh_is_the_pinned_one() -> None:
    version = importlib.metadata.version("whoosh-reloaded")
    assert tuple(int(p) for p in version.split(".")[:3]) == whoosh_private.WHOOSH_VERSION


def test_the_leaf_matcher_attributes_exist_on_a_real_matcher(whoosh_ix) -> None:
    with whoosh_ix.reader() as reader:
        leaf = reader.leaf_readers()[0][0] if not reader.is_atomic() else reader
        matcher = leaf.postings("text", b"khoa")
        matcher = matcher.child if isinstance(matcher, whoosh_private.FilterMatcher) else matcher
        assert isinstance(matcher, codec.CompactLeafMatcher)
        missing = [a for a in whoosh_private.LEAF_MATCHER_ATTRS if not hasattr(matcher, a)]
        assert not missing
        assert whoosh_private.field_length_bytes(leaf, "text").shape == (300,)


def test_the_writer_codec_and_file_attributes_exist_on_real_objects(whoosh_ix, tmp_path) -> None:
    compact = codec.CompactCodec()
    assert not [a for a in whoosh_private.CODEC_ATTRS if not hasattr(compact, a)]
    from whoosh.filedb.filestore import FileStorage

    storage = FileStorage(str(tmp_path)).create()
    postings = storage.create_file("postings")
    writer = compact.postings_writer(postings)
    assert isinstance(writer, W3PostingsWriter)
    writer.start_postings(whoosh_ix.schema["text"].format, whoosh_private.W3Codec().field_writer)
    assert not [a for a in whoosh_private.POSTINGS_WRITER_ATTRS if not hasattr(writer, a)]
    postings.close()
    segment = whoosh_ix._segments()[0]
    compound = segment.open_compound_file(whoosh_ix.storage)
    assert not [a for a in whoosh_private.COMPOUND_ATTRS if not hasattr(compound, a)]
    buffer = whoosh_private.BufferFile(b"x")
    assert not [a for a in whoosh_private.BUFFER_FILE_ATTRS if not hasattr(buffer, a)]
    field_writer = compact.field_writer(whoosh_ix.storage, compact.new_segment(whoosh_ix.storage, "MAIN"))
    assert not [a for a in whoosh_private.FIELD_WRITER_ATTRS if not hasattr(field_writer, a)]
    field_writer.close()
    compound.close()


def test_live_files_are_the_table_of_contents_and_the_segments_files(whoosh_ix) -> None:
    live = whoosh_private.live_files(whoosh_ix)
    assert any(name.endswith(".toc") for name in live) and any(name.endswith(".seg") for name in live)
    assert live <= set(whoosh_ix.storage.list())


def imported_whoosh_modules(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("whoosh"):
            found |= {node.module} if node.module != "whoosh" else {f"whoosh.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("whoosh")}
    return found


def own_attributes(tree: ast.Module) -> set[str]:
    """Underscore attributes a module's own classes define (assigned on self, or in __slots__)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__slots__" for t in node.targets):
            names |= {elt.value for elt in node.value.elts}
    return names


@pytest.mark.parametrize("module", GUARDED)
def test_whoosh_internals_are_reached_only_through_whoosh_private(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    assert imported_whoosh_modules(tree) <= {"whoosh.formats", "whoosh.query", "whoosh.index"}
    declared = set().union(
        whoosh_private.POSTINGS_WRITER_ATTRS,
        whoosh_private.LEAF_MATCHER_ATTRS,
        whoosh_private.FIELD_WRITER_ATTRS,
        whoosh_private.CODEC_ATTRS,
        whoosh_private.COMPOUND_ATTRS,
        whoosh_private.BUFFER_FILE_ATTRS,
    )
    own = own_attributes(tree) - declared
    private = {
        (node.lineno, getattr(node.value, "id", "?"), node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
    }
    undeclared = [
        (line, obj, attr)
        for line, obj, attr in private
        if attr not in declared and not (obj == "self" and attr in own) and (obj, attr) != ("os", "_exit")
    ]
    assert not undeclared, f"{module}: private names outside search/whoosh_private.py: {sorted(undeclared)}"


def pickled_globals(obj: object) -> set[str]:
    return {
        arg.replace(" ", ".")
        for op, arg, _pos in pickletools.genops(pickle.dumps(obj, 2))
        if op.name == "GLOBAL"
    }


def test_the_classes_pickled_into_an_index_are_the_declared_stable_ones(whoosh_ix) -> None:
    named = pickled_globals(whoosh_ix.schema) | pickled_globals(whoosh_ix._segments())
    stdlib = ("__builtin__.", "copyreg.", "collections.", "_codecs.")  # _codecs.encode: pickled bytes
    ours = {name for name in named if not name.startswith(("whoosh.", *stdlib))}
    assert ours == whoosh_private.STABLE_PICKLED, "a renamed class makes every existing index unreadable"
    for name in whoosh_private.STABLE_PICKLED:
        module, _, cls = name.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), cls), type), name
