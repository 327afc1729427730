//! Where variable values come from (placeholder replaced below).
