//! The domain service: authenticate the connection, then complete the attachment in one
//! transaction, retrying only what DynamoDB says is safe to retry.

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use lru::LruCache;

use crate::error::{ApiError, ConflictReason};
use crate::request::{CompleteRequest, TokenHash};
use crate::store::{epoch_seconds, Completion, Connection, Outcome, Store, StoreError};

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

impl Default for Settings {
    fn default() -> Self {
        Self {
            idempotency_ttl_seconds: 86_400,
            max_attachments_per_contact: 100,
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

/// What one request did: its result and how many DynamoDB calls it took.
#[derive(Debug)]
pub struct Report {
    pub result: Result<Outcome, ApiError>,
    pub dynamodb_calls: u32,
}

impl Report {
    /// A request answered before it reached DynamoDB.
    pub fn without_calls(result: Result<Outcome, ApiError>) -> Self {
        Self {
            result,
            dynamodb_calls: 0,
        }
    }
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

    /// Completes the request. With a `deadline` (the invocation's, less a margin to answer in),
    /// no DynamoDB call or retry runs past it.
    pub async fn complete(
        &self,
        request: &CompleteRequest,
        now: SystemTime,
        deadline: Option<Instant>,
    ) -> Report {
        let mut budget = Budget { deadline, calls: 0 };
        let result = self.run(request, now, &mut budget).await;
        Report {
            result,
            dynamodb_calls: budget.calls,
        }
    }

    async fn run(
        &self,
        request: &CompleteRequest,
        now: SystemTime,
        budget: &mut Budget,
    ) -> Result<Outcome, ApiError> {
        let connection = self.authenticate(&request.token_hash, now, budget).await?;
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
        let result = self.complete_with_retries(&completion, budget).await;
        if matches!(result, Err(StoreError::ConnectionGone)) {
            self.cache().pop(&request.token_hash);
        }
        result.map_err(api_error)
    }

    async fn authenticate(
        &self,
        token_hash: &TokenHash,
        now: SystemTime,
        budget: &mut Budget,
    ) -> Result<Connection, ApiError> {
        let now = epoch_seconds(now);
        if let Some(connection) = self.cached(token_hash, now) {
            return Ok(connection);
        }
        match budget.call(self.store.find_connection(token_hash)).await {
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
        budget: &mut Budget,
    ) -> Result<Outcome, StoreError> {
        let retry = self.settings.retry;
        let mut attempt = 1;
        loop {
            match budget.call(self.store.complete(completion)).await {
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

/// What one request may spend on DynamoDB, and what it has spent.
struct Budget {
    deadline: Option<Instant>,
    calls: u32,
}

impl Budget {
    async fn call<T>(
        &mut self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.calls += 1;
        match self.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.into(), call)
                .await
                .unwrap_or(Err(StoreError::DeadlineExceeded)),
            None => call.await,
        }
    }

    /// Whether a retry after `delay` would still start before the deadline.
    fn allows(&self, delay: Duration) -> bool {
        self.deadline
            .is_none_or(|deadline| Instant::now() + delay < deadline)
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
        error @ (StoreError::MalformedItem(_)
        | StoreError::UnexplainedCancellation(_)
        | StoreError::InvalidRequest(_)
        | StoreError::TableNotFound
        | StoreError::Unavailable(_)
        | StoreError::DeadlineExceeded) => ApiError::internal(error),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::request::{AttachmentId, ClientTokenHash, RequestFingerprint};

    /// A store that answers from a script and counts its calls.
    #[derive(Default)]
    struct Scripted {
        connection: Option<Connection>,
        completions: Mutex<VecDeque<Result<Outcome, StoreError>>>,
        lookups: AtomicU32,
        transactions: AtomicU32,
    }

    impl Store for Scripted {
        async fn find_connection(&self, _: &TokenHash) -> Result<Option<Connection>, StoreError> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            Ok(self.connection.clone())
        }

        async fn complete(&self, _: &Completion<'_>) -> Result<Outcome, StoreError> {
            self.transactions.fetch_add(1, Ordering::SeqCst);
            let next = self.completions.lock().unwrap().pop_front();
            next.unwrap_or(Ok(Outcome::Completed))
        }
    }

    fn service(
        connection_expires_at: i64,
        script: Vec<Result<Outcome, StoreError>>,
    ) -> Service<Scripted> {
        let store = Scripted {
            connection: Some(Connection {
                participant_id: "p".into(),
                contact_id: "c".into(),
                expires_at: connection_expires_at,
            }),
            completions: Mutex::new(script.into()),
            ..Scripted::default()
        };
        let retry = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        };
        Service::new(
            store,
            Settings {
                idempotency_ttl_seconds: 60,
                max_attachments_per_contact: 10,
                retry,
            },
        )
    }

    fn request() -> CompleteRequest {
        let attachment_id = AttachmentId::new("a");
        CompleteRequest {
            token_hash: TokenHash::of("t"),
            fingerprint: RequestFingerprint::of(&attachment_id),
            attachment_id,
            client_token_hash: ClientTokenHash::of("c"),
        }
    }

    const LATER: i64 = i64::MAX;

    #[tokio::test]
    async fn a_warm_connection_costs_one_call_a_cold_one_two() {
        let service = service(LATER, vec![]);
        let cold = service.complete(&request(), SystemTime::now(), None).await;
        let warm = service.complete(&request(), SystemTime::now(), None).await;
        assert!(matches!(cold.result, Ok(Outcome::Completed)));
        assert_eq!((cold.dynamodb_calls, warm.dynamodb_calls), (2, 1));
        assert_eq!(service.store.lookups.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn contention_is_retried_then_succeeds() {
        let service = service(
            LATER,
            vec![Err(StoreError::Contention), Err(StoreError::Contention)],
        );
        let report = service.complete(&request(), SystemTime::now(), None).await;
        assert!(matches!(report.result, Ok(Outcome::Completed)));
        assert_eq!(report.dynamodb_calls, 1 + 3);
    }

    #[tokio::test]
    async fn persistent_contention_is_bounded_and_answers_throttling() {
        let script = (0..10).map(|_| Err(StoreError::Contention)).collect();
        let service = service(LATER, script);
        let report = service.complete(&request(), SystemTime::now(), None).await;
        assert!(matches!(report.result, Err(ApiError::Throttling)));
        assert_eq!(service.store.transactions.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn other_failures_are_not_retried() {
        for (error, expected) in [
            (StoreError::Throttled, "ThrottlingException"),
            (StoreError::NotInProgress, "ConflictException"),
            (StoreError::QuotaExceeded, "ServiceQuotaExceededException"),
            (
                StoreError::Unavailable("down".into()),
                "InternalServerException",
            ),
        ] {
            let service = service(LATER, vec![Err(error)]);
            let report = service.complete(&request(), SystemTime::now(), None).await;
            assert_eq!(report.result.unwrap_err().name(), expected);
            assert_eq!(service.store.transactions.load(Ordering::SeqCst), 1);
        }
    }

    #[tokio::test]
    async fn a_refused_connection_leaves_the_cache() {
        let service = service(
            LATER,
            vec![Ok(Outcome::Completed), Err(StoreError::ConnectionGone)],
        );
        service.complete(&request(), SystemTime::now(), None).await;
        let refused = service.complete(&request(), SystemTime::now(), None).await;
        assert!(matches!(refused.result, Err(ApiError::AccessDenied)));
        service.complete(&request(), SystemTime::now(), None).await;
        assert_eq!(service.store.lookups.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_cache_never_outlives_the_connection() {
        let now = SystemTime::now();
        let expires_at = epoch_seconds(now) + 10;
        let service = service(expires_at, vec![]);
        assert!(service.complete(&request(), now, None).await.result.is_ok());
        let at_expiry = now + Duration::from_secs(10);
        let report = service.complete(&request(), at_expiry, None).await;
        assert!(matches!(report.result, Err(ApiError::AccessDenied)));
        assert_eq!(report.dynamodb_calls, 1, "looked up again, found expired");
    }

    #[test]
    fn retry_delays_stay_under_their_cap() {
        let policy = RetryPolicy::default();
        for attempt in 0..40 {
            assert!(policy.delay(attempt) <= policy.max_delay);
        }
        assert!(policy.delay(1) <= policy.base_delay * 2);
    }
}
