//! The service every operation runs on: the store, the object storage, the connection cache and
//! the settings, the one retry loop for transactions that collided, and the three operations as
//! its methods ([`start`], [`complete`], [`get`]) on plain inputs that the API parsed. What they
//! answer is an [`Answer`] or the one error type, [`ApiError`].

mod complete;
mod connections;
mod get;
mod meter;
mod start;

use std::future::Future;
use std::time::{Duration, SystemTime};

pub use self::complete::CompleteRequest;
use self::connections::Connections;
pub use self::get::GetRequest;
pub use self::meter::Meter;
pub use self::start::StartRequest;
pub use crate::config::{RetryPolicy, Settings};
use crate::domain::TokenHash;
use crate::domain::{AttachmentId, ClientTokenHash, Connection, Effect, Fingerprint, PresignedUrl};
use crate::error::ApiError;
use crate::objects::Objects;
use crate::store::{Caller, Store, StoreError};

/// What every write request carries: who asks, and the idempotency of what they ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRequest {
    pub token_hash: TokenHash,
    pub client_token_hash: ClientTokenHash,
    /// What a replay under the same ClientToken must match.
    pub fingerprint: Fingerprint,
}

/// A successful answer of one of the operations.
#[derive(Debug)]
pub enum Answer {
    Started {
        attachment_id: AttachmentId,
        upload: PresignedUrl,
        effect: Effect,
    },
    Completed(Effect),
    Attachment {
        download: PresignedUrl,
        size: u64,
    },
}

impl Answer {
    pub fn replayed(&self) -> bool {
        matches!(
            self,
            Self::Started {
                effect: Effect::Replayed,
                ..
            } | Self::Completed(Effect::Replayed)
        )
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
    store: S,
    objects: O,
    settings: Settings,
    connections: Connections,
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

    /// The caller's connection: from the cache, or one `GetItem`.
    async fn authenticate(
        &self,
        token_hash: &TokenHash,
        now: SystemTime,
        meter: &mut Meter,
    ) -> Result<Connection, ApiError> {
        self.connections
            .authenticate(&self.store, token_hash, now, meter)
            .await
    }

    /// Who writes, as every write's transaction re-checks it.
    fn caller<'a>(
        &self,
        request: &'a WriteRequest,
        connection: &'a Connection,
        now: SystemTime,
    ) -> Caller<'a> {
        Caller {
            token_hash: &request.token_hash,
            connection,
            client_token_hash: &request.client_token_hash,
            fingerprint: &request.fingerprint,
            now,
            limits: self.settings.limits,
        }
    }

    /// Sends `call` again while DynamoDB reports contention, within the retry policy and the
    /// request's deadline. Only contention is retried: every other answer is final.
    async fn retrying<T, F, Fut>(&self, meter: &mut Meter, mut call: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let retry = self.settings.retry;
        let mut attempt = 1;
        loop {
            match meter.dynamodb(call()).await {
                Err(StoreError::Contention) if attempt < retry.max_attempts => {
                    let delay = retry.delay(attempt);
                    if !meter.allows(delay) {
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
        let policy = Settings::default().retry;
        for attempt in 0..40 {
            assert!(policy.delay(attempt) <= policy.max_delay);
        }
        assert!(policy.delay(1) <= policy.base_delay * 2);
    }
}
