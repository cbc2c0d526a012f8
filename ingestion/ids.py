"""A document's id and content hash: one rule, for one record and for a column of them.

The id is the source's name and the record's own id (`twitter:1234`); a record without one gets its
cleaned text's hash instead (`twitter:h3f2a...`), so the same text gets the same id on every run.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HASHED = "h"  # marks an id made from the content hash


def content_hash(text: str) -> str:
    """sha256 of the cleaned text, 16 hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def make_doc_id(source: str, native_id: object, text_hash: str) -> str:
    """Stable id: the source plus the record's own id, else plus its content hash."""
    if native_id is None or (isinstance(native_id, str) and not native_id.strip()):
        return f"{source}:{HASHED}{text_hash}"
    if isinstance(native_id, float) and native_id.is_integer():
        native_id = int(native_id)
    return f"{source}:{str(native_id).strip()}"


def content_hashes(texts: pa.Array) -> pa.Array:
    """`content_hash` of every (non-null) text, hashed straight from the Arrow buffer."""
    texts = texts.cast(pa.string())
    if len(texts) == 0:
        return pa.array([], pa.string())
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)[texts.offset : texts.offset + len(texts) + 1]
    data = memoryview(texts.buffers()[2] or b"")
    bounds = offsets.tolist()
    sha256 = hashlib.sha256
    return pa.array(
        [sha256(data[a:b]).hexdigest()[:16] for a, b in zip(bounds[:-1], bounds[1:], strict=True)], pa.string()
    )


def make_doc_ids(source: str, native_ids: pa.Array | None, hashes: pa.Array) -> pa.Array:
    """`make_doc_id` of every row: `native_ids` are strings already stripped, null where a record has none."""
    prefix = f"{source}:"
    hashed = pc.binary_join_element_wise(prefix + HASHED, hashes, "")
    if native_ids is None:
        return hashed
    return pc.if_else(pc.is_valid(native_ids), pc.binary_join_element_wise(prefix, native_ids, ""), hashed)
