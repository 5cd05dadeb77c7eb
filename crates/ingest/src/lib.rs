//! Ingest: CSV / JSONL / gzip / Parquet activity exports into the canonical table, validating every row.
