pub mod demo;
pub mod explain;
pub mod features;
pub mod ingest;
pub mod merkle;
pub mod run;
pub mod simulate;
pub mod sybil;
