//! COCO drafts (issue 9, in progress): documents a CSM would otherwise write by hand —
//! outreach, QBR decks, plans, reports — written from a documented *facts* object per
//! document type, never from free database access. Every number in a draft must come from
//! its facts and carry a citation; [`grounding::check`] enforces that before a draft is
//! shown, for template drafts and LLM rewrites alike.
//!
//! Built so far: the facts model ([`facts`]) and the grounding checker ([`grounding`]).
//! Templates, document types and surfaces come next.

pub mod facts;
pub mod grounding;
