//! COCO drafts (issue 9, in progress): documents a CSM would otherwise write by hand —
//! outreach, QBR decks, plans, reports — written from a documented *facts* object per
//! document type, never from free database access. Every number in a draft must come from
//! its facts and carry a citation; [`grounding::check`] enforces that before a draft is
//! shown, for template drafts and LLM rewrites alike.
//!
//! - [`facts`]: a draft's facts, each a value with its citation (source, date, record).
//! - [`grounding`]: the checker.
//! - [`document`]: locales and charts shared by the renderers.
//! - [`deck`] and [`pptx`]: a draft's Markdown as slides, written as Office Open XML.
//! - [`llm`]: the optional OpenAI-compatible rewrite, checked like a template draft.

pub mod deck;
pub mod document;
pub mod draft;
mod error;
pub mod facts;
pub mod grounding;
pub mod llm;
pub mod pptx;
pub mod templates;

pub use error::DraftError;
