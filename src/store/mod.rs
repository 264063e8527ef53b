//! What the operations need from DynamoDB, free of any SDK type: one read to authenticate, and
//! one transaction (or one transactional read) per operation.

pub mod dynamodb;
pub mod schema;

use std::future::Future;
use std::time::SystemTime;

pub use crate::config::Limits;
use crate::domain::{
    ApprovedAttachment, AttachmentId, ClientTokenHash, Connection, DeclaredUpload, Effect,
    Fingerprint, Operation, StoredObject, TokenHash,
};

pub use dynamodb::DynamoDbStore;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The caller of a write: who they are, and what they asked, fixed once per request so that
/// every retry of it sends the very same transaction.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub token_hash: &'a TokenHash,
    pub connection: &'a Connection,
    pub client_token_hash: &'a ClientTokenHash,
    pub fingerprint: &'a Fingerprint,
    pub now: SystemTime,
    pub limits: Limits,
}

/// Everything one start writes.
#[derive(Debug, Clone, Copy)]
pub struct Start<'a> {
    pub caller: Caller<'a>,
    /// The id this request would create; a replay answers the earlier one.
    pub attachment_id: &'a AttachmentId,
    pub upload: &'a DeclaredUpload,
}

/// Everything one completion writes.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    pub caller: Caller<'a>,
    pub attachment_id: &'a AttachmentId,
    /// What S3 holds under the attachment's key.
    pub object: &'a StoredObject,
    /// The content type the record must hold, compared exactly: S3's (the store approves the
    /// record's own spelling when the two differ only in case).
    pub expected_content_type: &'a str,
    /// Why the file's content is not its declared type: the completion rejects it instead of
    /// approving it, in the same one transaction.
    pub rejection: Option<&'static str>,
}

/// What a start did, and the attachment it answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub attachment_id: AttachmentId,
    pub effect: Effect,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the connection no longer exists or has expired")]
    ConnectionGone,
    #[error(
        "the attachment does not exist, has expired, or belongs to another participant or contact"
    )]
    AttachmentNotFound,
    #[error("the attachment is not IN_PROGRESS")]
    NotInProgress,
    #[error("the attachment's object was never uploaded")]
    NotUploaded,
    #[error("the uploaded object does not match the declared size or content type")]
    UploadMismatch,
    /// The file's content is not its declared type: rejected (now, or by the request replayed).
    #[error("the file's content does not match its declared type")]
    ContentRejected,
    /// The ClientToken was already used, for this operation, with other parameters.
    #[error("the ClientToken was already used with other parameters")]
    ClientTokenReused(Operation),
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
    /// The call's time bound ended first: `DYNAMODB_TIMEOUT_MS` or the invocation's deadline.
    #[error("DynamoDB did not answer within the call's time bound")]
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

pub trait Store: Send + Sync {
    fn find_connection(
        &self,
        token_hash: &TokenHash,
    ) -> impl Future<Output = Result<Option<Connection>, StoreError>> + Send;

    /// Creates the attachment record, the idempotency record and the started-attachments count
    /// in one transaction (the connection re-checked), or tells why not.
    fn start(&self, start: &Start<'_>) -> impl Future<Output = Result<Started, StoreError>> + Send;

    /// Approves the attachment, counts it and records the idempotency item in one transaction
    /// (the connection re-checked), or tells why not; a completion with a `rejection` rejects
    /// it instead (not counted) and answers `ContentRejected`.
    fn complete(
        &self,
        completion: &Completion<'_>,
    ) -> impl Future<Output = Result<Effect, StoreError>> + Send;

    /// For a completion whose object S3 does not hold: reads the connection, the attachment and
    /// the caller's record together and answers a replay or the reason for the refusal
    /// (`NotUploaded` when nothing else applies). Never writes.
    fn replay_or_refuse(
        &self,
        caller: &Caller<'_>,
        attachment_id: &AttachmentId,
    ) -> impl Future<Output = Result<Effect, StoreError>> + Send;

    /// Reads the connection and the attachment together: an APPROVED attachment of the
    /// connection's contact, or `ConnectionGone` / `AttachmentNotFound`.
    fn approved_attachment(
        &self,
        token_hash: &TokenHash,
        attachment_id: &AttachmentId,
        now: SystemTime,
    ) -> impl Future<Output = Result<ApprovedAttachment, StoreError>> + Send;
}
