//! What the service needs from storage, free of any SDK type.

pub mod dynamodb;

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::request::{AttachmentId, ClientTokenHash, RequestFingerprint, TokenHash};

pub use dynamodb::DynamoDbStore;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Whole seconds since the Unix epoch, as DynamoDB's TTL attributes count them.
pub fn epoch_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A participant's connection, as found by the hash of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub participant_id: String,
    pub contact_id: String,
    /// Epoch seconds; the connection is expired from this second on.
    pub expires_at: i64,
}

impl Connection {
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at > now
    }
}

/// Everything one completion writes, fixed once per request so that every retry of it
/// sends the very same transaction.
#[derive(Debug, Clone)]
pub struct Completion<'a> {
    pub token_hash: &'a TokenHash,
    pub connection: &'a Connection,
    pub attachment_id: &'a AttachmentId,
    pub client_token_hash: &'a ClientTokenHash,
    pub fingerprint: &'a RequestFingerprint,
    pub now: SystemTime,
    pub idempotency_ttl_seconds: u64,
    pub max_attachments_per_contact: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// This request flipped the attachment to APPROVED.
    Completed,
    /// An earlier request with the same ClientToken and parameters did; nothing changed.
    Replayed,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the connection no longer exists or has expired")]
    ConnectionGone,
    #[error("the attachment does not exist or belongs to another participant or contact")]
    AttachmentNotFound,
    #[error("the attachment is not IN_PROGRESS")]
    NotInProgress,
    #[error("the ClientToken was already used with other parameters")]
    ClientTokenReused,
    #[error("the contact's attachment quota is used up")]
    QuotaExceeded,
    /// A concurrent transaction held one of the items; the same transaction may be retried.
    #[error("the transaction collided with a concurrent one")]
    Contention,
    /// DynamoDB still throttled after the SDK's own retries.
    #[error("DynamoDB throttled the request")]
    Throttled,
    #[error("the table does not exist")]
    TableNotFound,
    #[error("DynamoDB did not answer before the invocation's deadline")]
    DeadlineExceeded,
    #[error("an item in DynamoDB is malformed: {0}")]
    MalformedItem(&'static str),
    #[error("the transaction was cancelled for reasons no rule explains: {0}")]
    UnexplainedCancellation(String),
    #[error("the DynamoDB request could not be built")]
    InvalidRequest(#[source] BoxError),
    #[error("DynamoDB call failed")]
    Unavailable(#[source] BoxError),
}

/// The store: one read to authenticate, one atomic write to complete.
pub trait Store: Send + Sync {
    fn find_connection(
        &self,
        token_hash: &TokenHash,
    ) -> impl Future<Output = Result<Option<Connection>, StoreError>> + Send;

    /// Completes the attachment, its quota count and its idempotency record in one transaction,
    /// or tells why not.
    fn complete(
        &self,
        completion: &Completion<'_>,
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;
}
