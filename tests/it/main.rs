//! Integration tests, built as one binary so that the suite links once.
//!
//! Run one group with `cargo test --test it GROUP::`, for example
//! `cargo test --test it hostile::`.

mod authjs_vectors;
mod cli;
mod common;
mod compare;
mod corpus;
mod hostile;
mod hybrids;
mod interrupt;
mod limits;
mod load;
mod output_files;
mod scaffold;
mod session_tokens;
mod stores;
mod strategies;
mod sweep;
mod table;
mod thresholds;
mod token_cli;
