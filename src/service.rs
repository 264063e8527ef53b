//! The domain service: authenticate the connection, then complete the attachment in one
//! transaction, retrying only what DynamoDB says is safe to retry.

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use lru::LruCache;

use crate::error::{ApiError, ConflictReason};
use crate::request::{CompleteRequest, TokenHash};
use crate::store::dynamodb::epoch_seconds;
use crate::store::{Completion, Connection, Outcome, Store, StoreError};

/// How many connections a warm container remembers (about 200 bytes each).
const CONNECTION_CACHE_CAPACITY: NonZeroUsize = match NonZeroUsize::new(4096) {
    Some(capacity) => capacity,
    None => unreachable!(),
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub idempotency_ttl_seconds: u64,
    pub max_attachments_per_contact: u32,
    pub retry: RetryPolicy,
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

/// What one request did: its result and how many DynamoDB calls it took.
#[derive(Debug)]
pub struct Report {
    pub result: Result<Outcome, ApiError>,
    pub dynamodb_calls: u32,
}

pub struct Service<S> {
    store: S,
    settings: Settings,
    /// Token hash → connection. Safe to trust until `ExpiresAt` because the transaction
    /// re-checks the connection; a refusal there evicts it.
    connections: Mutex<LruCache<TokenHash, Connection>>,
}

impl<S: Store> Service<S> {
    pub fn new(store: S, settings: Settings) -> Self {
        Self {
            store,
            settings,
            connections: Mutex::new(LruCache::new(CONNECTION_CACHE_CAPACITY)),
        }
    }

    pub async fn complete(&self, request: &CompleteRequest, now: SystemTime) -> Report {
        let mut dynamodb_calls = 0;
        let result = self.run(request, now, &mut dynamodb_calls).await;
        Report {
            result,
            dynamodb_calls,
        }
    }

    async fn run(
        &self,
        request: &CompleteRequest,
        now: SystemTime,
        calls: &mut u32,
    ) -> Result<Outcome, ApiError> {
        let connection = self.authenticate(&request.token_hash, now, calls).await?;
        let completion = Completion {
            token_hash: &request.token_hash,
            connection: &connection,
            attachment_id: &request.attachment_id,
            client_token_hash: &request.client_token_hash,
            fingerprint: &request.fingerprint,
            now,
            idempotency_ttl_seconds: self.settings.idempotency_ttl_seconds,
            max_attachments_per_contact: self.settings.max_attachments_per_contact,
        };
        let result = self.complete_with_retries(&completion, calls).await;
        if matches!(result, Err(StoreError::ConnectionGone)) {
            self.cache().pop(&request.token_hash);
        }
        result.map_err(api_error)
    }

    async fn authenticate(
        &self,
        token_hash: &TokenHash,
        now: SystemTime,
        calls: &mut u32,
    ) -> Result<Connection, ApiError> {
        let now = epoch_seconds(now);
        if let Some(connection) = self.cached(token_hash, now) {
            return Ok(connection);
        }
        *calls += 1;
        match self.store.find_connection(token_hash).await {
            Ok(Some(connection)) if connection.is_live(now) => {
                self.cache().put(token_hash.clone(), connection.clone());
                Ok(connection)
            }
            Ok(_) => Err(ApiError::AccessDenied),
            Err(error) => Err(api_error(error)),
        }
    }

    fn cached(&self, token_hash: &TokenHash, now: i64) -> Option<Connection> {
        let mut cache = self.cache();
        match cache.get(token_hash) {
            Some(connection) if connection.is_live(now) => Some(connection.clone()),
            Some(_) => {
                cache.pop(token_hash);
                None
            }
            None => None,
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, LruCache<TokenHash, Connection>> {
        // The cache holds no invariant a panic could break: a poisoned lock is still usable.
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn complete_with_retries(
        &self,
        completion: &Completion<'_>,
        calls: &mut u32,
    ) -> Result<Outcome, StoreError> {
        let retry = self.settings.retry;
        let mut attempt = 1;
        loop {
            *calls += 1;
            match self.store.complete(completion).await {
                Err(StoreError::Contention) if attempt < retry.max_attempts => {
                    tokio::time::sleep(retry.delay(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

/// The one mapping from what the store says to what the caller hears.
fn api_error(error: StoreError) -> ApiError {
    match error {
        StoreError::ConnectionGone | StoreError::AttachmentNotFound => ApiError::AccessDenied,
        StoreError::NotInProgress => ApiError::Conflict(ConflictReason::NotInProgress),
        StoreError::ClientTokenReused => ApiError::Conflict(ConflictReason::ClientTokenReused),
        StoreError::QuotaExceeded => ApiError::QuotaExceeded,
        StoreError::Contention | StoreError::Throttled => ApiError::Throttling,
        error @ (StoreError::MalformedItem(_) | StoreError::Unavailable(_)) => {
            ApiError::internal(error)
        }
    }
}
