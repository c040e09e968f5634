//! COCO domain types shared by every crate. Nothing here does I/O.
//!
//! - [`contract`]: the data contract (entities, columns, keys, references, rules).

pub mod contract;

pub use contract::{ColumnType, ENTITIES, Entity, MergeMode};
