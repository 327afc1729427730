//! Counts of the Konnect server's API requests: how many arrived and how
//! many were in flight at once at the peak, so tests and benchmarks can see
//! how much concurrency a client really used.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// What `GET /_sandbox/traffic` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct TrafficStats {
    /// API requests since the start or the last reset.
    pub requests: u64,
    /// Most requests in flight at the same moment.
    pub peak_in_flight: usize,
}

#[derive(Default)]
pub(crate) struct Traffic {
    requests: AtomicU64,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

/// One request in flight, until dropped.
pub(crate) struct InFlight<'a>(&'a Traffic);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Traffic {
    pub(crate) fn enter(&self) -> InFlight<'_> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }

    pub(crate) fn stats(&self) -> TrafficStats {
        TrafficStats {
            requests: self.requests.load(Ordering::SeqCst),
            peak_in_flight: self.peak_in_flight.load(Ordering::SeqCst),
        }
    }

    /// Starts counting afresh; requests in flight now still count toward
    /// the next peak.
    pub(crate) fn reset(&self) {
        self.requests.store(0, Ordering::SeqCst);
        self.peak_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}
