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

/// An error and its sources on one line, e.g. `error sending request: client error
/// (Connect): tcp connect error: Connection refused (os error 111)`; a source repeating
/// its parent's text is shown once.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}
