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
        ("content_hash", pa.string()),  # sha256 of the cleaned text, 16 hex digits
        ("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)

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
