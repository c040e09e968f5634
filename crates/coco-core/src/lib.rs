//! COCO domain types shared by every crate. Nothing here does I/O.
//!
//! - [`contract`]: the data contract (entities, columns, keys, references, rules).
//! - [`direction`]: whether more of a metric is good or bad.
//! - [`fingerprint`]: stable ids of configuration for provenance.
//! - [`category`]: the areas metrics, health components and drivers belong to.
//! - [`access`]: roles and the permission table.

pub mod access;
pub mod category;
pub mod contract;
pub mod direction;
pub mod fingerprint;

pub use access::{Permission, Role};
pub use category::Category;
pub use contract::{ColumnType, ENTITIES, Entity, MergeMode};
pub use direction::Direction;
