"""The Parquet schemas of ingested documents and of quarantined records."""

import pyarrow as pa

RAW_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),  # "<source>:<native id>", or "<source>:h<content hash>"
        ("source", pa.string()),
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("text", pa.string()),  # cleaned: NFC, whitespace collapsed
        ("title", pa.string()),
        ("author", pa.string()),
        ("url", pa.string()),
        ("lang", pa.string()),
        ("kind", pa.string()),  # what the record is where the source says: tweet, retweet, quote, reply, comment, ...
        ("ref_id", pa.string()),  # what it refers to: the retweeted, quoted or replied-to post, a comment's parent
        ("source_score", pa.float64()),  # the source's own sentiment score where it has one (GDELT's tone)
        ("content_hash", pa.string()),  # sha256 of the cleaned text, 16 hex digits
        ("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)

# How raw partitions are written: dictionaries and min/max statistics only for the columns where
# they pay (1.5x faster writes than for every column, files as small).
RAW_PARQUET = {
    "use_dictionary": ["source", "lang", "author", "kind"],
    "write_statistics": ["doc_id", "source", "published_at", "lang", "author", "ingested_at"],
}

# Cleaned rows on their way to a partition: `_order` is the record's place in the input, so the
# first of two duplicates is the one kept, whatever order the rows arrive in.
STAGE_SCHEMA = RAW_SCHEMA.append(pa.field("_order", pa.int64()))
_RECORD_BITS = 40  # records per input file: up to 2**40


def conform(table: pa.Table) -> pa.Table:
    """A stored partition in RAW_SCHEMA: columns added since it was written are filled with nulls."""
    for name in RAW_SCHEMA.names:
        if name not in table.column_names:
            table = table.append_column(RAW_SCHEMA.field(name), pa.nulls(table.num_rows, RAW_SCHEMA.field(name).type))
    return table.select(RAW_SCHEMA.names).cast(RAW_SCHEMA)


def order_key(file_index: int, record: int) -> int:
    """The record's place among all inputs of a run: input file first, then its record number."""
    return (file_index << _RECORD_BITS) + record


QUARANTINE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("input", pa.string()),  # the file the record came from
        ("record", pa.int64()),  # 0-based record number in that file
        ("reason", pa.string()),
        ("raw", pa.string()),  # the record as JSON
        ("quarantined_at", pa.timestamp("us", tz="UTC")),
    ]
)
