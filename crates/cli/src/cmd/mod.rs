pub mod demo;
pub mod ingest;
