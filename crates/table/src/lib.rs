//! The canonical activity table on disk: Arrow schema, Parquet writer and streaming reader.
