//! COCO actions: what turns insights into work and messages.
//!
//! Pure modules (no I/O, no clock — the date is an input): alert rules and their
//! evaluation, de-duplication and cool-down, routing, playbooks and tasks, intervention
//! outcomes, the daily priority list and message rendering. The one module that does
//! I/O is [`notify`]: the transports that deliver a rendered message (Slack incoming
//! webhooks, signed webhooks, SMTP). The outbox that makes delivery at-least-once lives
//! in the store; the loop that drains it in `coco-engine`.

pub mod channels;
pub mod context;
pub mod notify;
pub mod outcomes;
pub mod playbooks;
pub mod render;
pub mod routing;
pub mod rules;
pub mod state;
pub mod today;
