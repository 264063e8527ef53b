//! The service every operation runs on: the store, the object storage, the connection cache and
//! the settings, plus the one retry loop for transactions that collided. The operations
//! themselves live in [`crate::operations`], one module each.

use std::future::Future;
use std::time::Duration;

use crate::auth::Connections;
use crate::budget::Budget;
use crate::objects::Objects;
use crate::store::{Limits, Store, StoreError};

/// The contract's default list of `ALLOWED_CONTENT_TYPES`.
pub const DEFAULT_ALLOWED_CONTENT_TYPES: [&str; 16] = [
    "text/plain",
    "text/csv",
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/heic",
    "audio/wav",
    "video/mp4",
    "video/quicktime",
    "application/rtf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub limits: Limits,
    pub uploads: Uploads,
    pub retry: RetryPolicy,
}

/// What a start accepts and how long its URL lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploads {
    pub max_size_bytes: u64,
    /// Lowercase: a declared type is compared case-insensitively, then stored as sent.
    pub allowed_content_types: Vec<String>,
    pub url_ttl: Duration,
}

impl Uploads {
    pub fn allows(&self, content_type: &str) -> bool {
        self.allowed_content_types
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(content_type))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            limits: Limits {
                idempotency_ttl_seconds: 86_400,
                max_attachments_per_contact: 100,
                pending_attachment_ttl_seconds: 86_400,
            },
            uploads: Uploads {
                max_size_bytes: 20 * 1024 * 1024,
                allowed_content_types: DEFAULT_ALLOWED_CONTENT_TYPES
                    .iter()
                    .map(|t| (*t).to_owned())
                    .collect(),
                url_ttl: Duration::from_secs(300),
            },
            retry: RetryPolicy::default(),
        }
    }
}

/// Bounded, jittered retries of a transaction that collided with a concurrent one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(250),
        }
    }
}

impl RetryPolicy {
    /// "Full jitter": a uniform delay below an exponentially growing cap, so that colliding
    /// requests spread out instead of colliding again.
    fn delay(&self, attempt: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1 << attempt.min(16))
            .min(self.max_delay);
        cap.mul_f64(fastrand::f64())
    }
}

pub struct Service<S, O> {
    pub(crate) store: S,
    pub(crate) objects: O,
    pub(crate) settings: Settings,
    pub(crate) connections: Connections,
}

impl<S: Store, O: Objects> Service<S, O> {
    pub fn new(store: S, objects: O, settings: Settings) -> Self {
        Self {
            store,
            objects,
            settings,
            connections: Connections::default(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sends `call` again while DynamoDB reports contention, within the retry policy and the
    /// request's deadline. Only contention is retried: every other answer is final.
    pub(crate) async fn retrying<T, F, Fut>(
        &self,
        budget: &mut Budget,
        mut call: F,
    ) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let retry = self.settings.retry;
        let mut attempt = 1;
        loop {
            match budget.dynamodb(call()).await {
                Err(StoreError::Contention) if attempt < retry.max_attempts => {
                    let delay = retry.delay(attempt);
                    if !budget.allows(delay) {
                        return Err(StoreError::Contention);
                    }
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_stay_under_their_cap() {
        let policy = RetryPolicy::default();
        for attempt in 0..40 {
            assert!(policy.delay(attempt) <= policy.max_delay);
        }
        assert!(policy.delay(1) <= policy.base_delay * 2);
    }

    #[test]
    fn content_types_are_allowed_case_insensitively_and_only_whole() {
        let uploads = Settings::default().uploads;
        assert!(uploads.allows("text/plain"));
        assert!(uploads.allows("IMAGE/PNG"));
        assert!(!uploads.allows("text/plain; charset=utf-8"));
        assert!(!uploads.allows("text/html"));
        assert!(!uploads.allows(""));
    }
}
