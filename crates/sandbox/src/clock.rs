//! The time the sandbox world lives on: the wall clock, or a simulated
//! moment that then moves forward at the wall clock's pace.
//!
//! A run planned `-at` a future moment must meet a Konnect that judges token
//! expiry at that moment too, so every time the servers read (expiry checks,
//! `created_at`, Kubernetes timestamps, zone token validity) comes from here.

use chrono::{DateTime, TimeDelta, Utc};

/// The sandbox's clock: a fixed offset from the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SandboxClock {
    offset: TimeDelta,
}

impl SandboxClock {
    /// The wall clock itself.
    pub fn wall() -> SandboxClock {
        SandboxClock::default()
    }

    /// A clock that reads `at` now and advances with real time from here.
    pub fn starting_at(at: DateTime<Utc>) -> SandboxClock {
        SandboxClock {
            offset: at - Utc::now(),
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// A clock `offset` ahead of the wall clock (behind when negative), as
    /// another process's [`SandboxClock::offset`] describes it.
    pub fn with_offset(offset: TimeDelta) -> SandboxClock {
        SandboxClock { offset }
    }

    /// How far the simulated time is ahead of the wall clock.
    pub fn offset(&self) -> TimeDelta {
        self.offset
    }

    /// Whether this clock is the wall clock (no simulated offset).
    pub fn is_wall(&self) -> bool {
        self.offset.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_started_at_a_moment_reads_that_moment_and_advances() {
        let at = DateTime::parse_from_rfc3339("2030-01-31T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = SandboxClock::starting_at(at);
        let read = clock.now();
        assert!(read >= at, "{read} is before {at}");
        assert!(
            read - at < TimeDelta::seconds(60),
            "{read} drifted from {at}"
        );
        assert!(!clock.is_wall());
        assert!(SandboxClock::wall().is_wall());
    }
}
