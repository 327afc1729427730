//! hashicorp/time 0.13.0 as pure logic: `time_offset`, `time_rotating`,
//! `time_static` and `time_sleep`, planned and applied against an injected
//! [`Clock`] so that plans are deterministic and can be made "as if" at
//! another moment.
//!
//! Each resource module has typed configuration and state, and functions
//! that follow the provider's lifecycle: `validate`, `plan` (the
//! framework's planning plus the resource's own plan modification, with
//! Terraform core's rule that a replacement path only counts when its
//! planned value differs from the prior one), `create`/`update`, `read`
//! and `import`. A plan that requires replacement is planned again by the
//! caller with no prior state, as Terraform does.

pub mod calendar;
pub mod notes;
pub mod provider;
pub mod time_offset;
pub mod time_rotating;
pub mod time_sleep;
pub mod time_static;

use std::collections::BTreeMap;

pub use calendar::{TimeParts, Timestamp};
pub use provider::{TimeFactory, TimeProvider};

/// The run's single source of "now" (shared with `timestamp()`).
pub use meshform_lang::{Clock, FixedClock, SystemClock};

/// A problem with a time resource's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    #[error("{attribute} value {value:?} is not an RFC 3339 timestamp: {reason}")]
    InvalidTimestamp {
        attribute: String,
        value: String,
        reason: String,
    },
    #[error(
        "{attribute} value {value:?} must be a number immediately followed by ms (milliseconds), \
         s (seconds), m (minutes), or h (hours), for example \"30s\""
    )]
    InvalidDuration { attribute: String, value: String },
    #[error("at least one of {} must be configured", .attributes.join(", "))]
    MissingOneOf { attributes: Vec<&'static str> },
    #[error("{attribute} must be at least {minimum}, got {value}")]
    TooSmall {
        attribute: &'static str,
        minimum: i64,
        value: i64,
    },
    #[error("unexpected format of import ID {id:?}, expected {expected}")]
    ImportId { id: String, expected: &'static str },
    #[error("the computed timestamp is out of range")]
    OutOfRange,
}

impl TimeError {
    /// The attribute the error is about, when there is one.
    pub fn attribute(&self) -> Option<&str> {
        match self {
            TimeError::InvalidTimestamp { attribute, .. }
            | TimeError::InvalidDuration { attribute, .. } => Some(attribute),
            TimeError::TooSmall { attribute, .. } => Some(attribute),
            _ => None,
        }
    }
}

/// A value that may be null, not known until apply, or known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MaybeKnown<T> {
    #[default]
    Null,
    Unknown,
    Known(T),
}

impl<T> MaybeKnown<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            MaybeKnown::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, MaybeKnown::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, MaybeKnown::Unknown)
    }

    pub fn from_option(v: Option<T>) -> Self {
        v.map_or(MaybeKnown::Null, MaybeKnown::Known)
    }
}

/// The `triggers` map of every time resource.
pub type Triggers = MaybeKnown<BTreeMap<String, String>>;

/// Computed values shared by the timestamp resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeValues {
    /// The RFC 3339 text of the resource's result timestamp.
    pub rfc3339: String,
    pub parts: TimeParts,
}

impl TimeValues {
    pub fn of(t: &Timestamp) -> TimeValues {
        TimeValues {
            rfc3339: calendar::format_rfc3339(t),
            parts: TimeParts::of(t),
        }
    }
}

/// The moment `clock` reads, as a timestamp in UTC.
pub(crate) fn now(clock: &dyn Clock) -> Timestamp {
    clock.now().fixed_offset()
}

/// Framework `RequiresReplace` on `triggers`, after Terraform core's
/// filter: a changed or unknown planned value against a known prior one.
pub(crate) fn triggers_replace(prior: &Triggers, planned: &Triggers) -> bool {
    planned.is_unknown() || prior != planned
}
