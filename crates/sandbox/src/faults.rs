//! Fault injection for the Konnect server: latency, 5xx errors, 429 bursts
//! with `Retry-After`, and dropped connections, drawn from a seeded generator
//! so a test run is repeatable.

use std::sync::Mutex;
use std::time::Duration;

/// 429 bursts: a request starts a burst with probability `rate`; the burst
/// answers `burst` consecutive requests (this one included) with 429.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ThrottleConfig {
    /// Probability (0..=1) that a request starts a burst.
    pub rate: f64,
    /// Number of consecutive 429 responses in a burst (at least 1).
    pub burst: u32,
    /// Seconds sent in the `Retry-After` header.
    pub retry_after_seconds: u32,
}

/// Faults injected into Konnect responses.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    /// Delay added before every response, in milliseconds.
    pub latency_ms: u64,
    /// Probability (0..=1) of answering with a 5xx instead of handling the request.
    pub error_rate: f64,
    /// 429 bursts, when set.
    pub throttle: Option<ThrottleConfig>,
    /// Probability (0..=1) of closing the connection without any response.
    pub drop_rate: f64,
    /// Seed of the generator deciding which requests fail.
    pub seed: u64,
}

/// What to do with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Handle,
    ServerError(u16),
    Throttle { retry_after_seconds: u32 },
    Drop,
}

struct State {
    config: FaultConfig,
    rng: fastrand::Rng,
    burst_left: u32,
}

pub struct Faults {
    state: Mutex<State>,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        Faults {
            state: Mutex::new(State {
                rng: fastrand::Rng::with_seed(config.seed),
                config,
                burst_left: 0,
            }),
        }
    }

    pub fn config(&self) -> FaultConfig {
        self.state
            .lock()
            .map(|s| s.config.clone())
            .unwrap_or_default()
    }

    pub fn set(&self, config: FaultConfig) {
        if let Ok(mut s) = self.state.lock() {
            s.rng = fastrand::Rng::with_seed(config.seed);
            s.config = config;
            s.burst_left = 0;
        }
    }

    /// The latency to add and the decision for the next request.
    pub fn decide(&self) -> (Duration, Decision) {
        let Ok(mut s) = self.state.lock() else {
            return (Duration::ZERO, Decision::Handle);
        };
        let latency = Duration::from_millis(s.config.latency_ms);
        if s.burst_left > 0 {
            s.burst_left -= 1;
            let retry_after_seconds = s
                .config
                .throttle
                .as_ref()
                .map_or(1, |t| t.retry_after_seconds);
            return (
                latency,
                Decision::Throttle {
                    retry_after_seconds,
                },
            );
        }
        if s.config.drop_rate > 0.0 && s.rng.f64() < s.config.drop_rate {
            return (latency, Decision::Drop);
        }
        if let Some(t) = s.config.throttle.clone() {
            if t.rate > 0.0 && s.rng.f64() < t.rate {
                s.burst_left = t.burst.max(1) - 1;
                return (
                    latency,
                    Decision::Throttle {
                        retry_after_seconds: t.retry_after_seconds,
                    },
                );
            }
        }
        if s.config.error_rate > 0.0 && s.rng.f64() < s.config.error_rate {
            let status = [500, 502, 503][s.rng.usize(0..3)];
            return (latency, Decision::ServerError(status));
        }
        (latency, Decision::Handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_throttles_consecutive_requests() {
        let faults = Faults::new(FaultConfig {
            throttle: Some(ThrottleConfig {
                rate: 1.0,
                burst: 3,
                retry_after_seconds: 2,
            }),
            ..FaultConfig::default()
        });
        for _ in 0..3 {
            assert_eq!(
                faults.decide().1,
                Decision::Throttle {
                    retry_after_seconds: 2
                }
            );
        }
    }

    #[test]
    fn no_faults_by_default() {
        let faults = Faults::new(FaultConfig::default());
        assert!((0..100).all(|_| faults.decide().1 == Decision::Handle));
    }

    #[test]
    fn error_rate_is_roughly_honoured() {
        let faults = Faults::new(FaultConfig {
            error_rate: 0.3,
            seed: 7,
            ..FaultConfig::default()
        });
        let errors = (0..1000)
            .filter(|_| matches!(faults.decide().1, Decision::ServerError(_)))
            .count();
        assert!((200..400).contains(&errors), "{errors} errors");
    }
}
