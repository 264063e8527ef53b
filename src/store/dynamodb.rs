//! The store on DynamoDB: a `GetItem` to authenticate, one `TransactWriteItems` per start or
//! completion, one `TransactGetItems` per download. Every cancellation is classified from the
//! reasons and old items DynamoDB returns, without another read. The layout is in [`schema`].

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Get, Put, ReturnValuesOnConditionCheckFailure,
    TransactGetItem, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

use super::{Caller, Completion, Start, Started, Store, StoreError};
use crate::domain::{
    epoch_seconds, epoch_seconds_after, ApprovedAttachment, AttachmentId, Connection, Operation,
    Outcome, TokenHash,
};
use crate::schema::{self, n, number, s, text, Item, Status, Tables};
use crate::schema::{
    ATTACHMENT_ID, ATTACHMENT_NAME, ATTACHMENT_SIZE, COMPLETED_AT, COMPLETED_COUNT, CONTACT_ID,
    CONTENT_TYPE, ETAG, EXPIRES_AT, IDEMPOTENCY_KEY, PARTICIPANT_ID, REQUEST_HASH, STARTED_COUNT,
    STATUS, TOKEN_HASH,
};

/// The position of each item in a write transaction; `CancellationReasons` come in this order.
const CONNECTION_ITEM: usize = 0;
const ATTACHMENT_ITEM: usize = 1;
const IDEMPOTENCY_ITEM: usize = 2;
const QUOTA_ITEM: usize = 3;
const WRITE_ITEMS: usize = 4;

#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: Client,
    tables: Tables,
}

impl DynamoDbStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    /// Opens (TLS included) the connection to DynamoDB during init, where Lambda runs the process
    /// at full CPU, so that the first billed request does not pay for it. The key cannot exist:
    /// it is the hash of an empty token, which validation never lets through. Uses only the
    /// `GetItem` permission the function has anyway. (Warming the transactions' pipelines too was
    /// measured: one more round trip in every init, for ~0.5 ms of CPU moved out of the first
    /// request; see BENCHMARKS.md.)
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.find_connection(&TokenHash::of("")).await.map(drop)
    }

    /// The condition that the caller's connection is still live and still theirs.
    fn connection_check(&self, caller: &Caller<'_>) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.tables.connections)
            .key(TOKEN_HASH, s(caller.token_hash.as_str()))
            .condition_expression("#e > :now AND #p = :p AND #c = :c")
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_names("#p", PARTICIPANT_ID)
            .expression_attribute_names("#c", CONTACT_ID)
            .expression_attribute_values(":now", n(epoch_seconds(caller.now)))
            .expression_attribute_values(":p", s(&caller.connection.participant_id))
            .expression_attribute_values(":c", s(&caller.connection.contact_id))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The caller's idempotency record, written only if absent or expired (an expired record
    /// counts as absent even before TTL deletes it); the old one comes back on failure.
    fn idempotency_record(
        &self,
        operation: Operation,
        caller: &Caller<'_>,
        attachment_id: Option<&AttachmentId>,
    ) -> Result<TransactWriteItem, StoreError> {
        let key = schema::idempotency_key(
            operation,
            &caller.connection.participant_id,
            caller.client_token_hash,
        );
        let expires_at = epoch_seconds_after(caller.now, caller.limits.idempotency_ttl_seconds);
        let mut put = Put::builder()
            .table_name(&self.tables.idempotency)
            .item(IDEMPOTENCY_KEY, s(&key))
            .item(REQUEST_HASH, s(caller.fingerprint.as_str()))
            .item(EXPIRES_AT, n(expires_at))
            .condition_expression("attribute_not_exists(#k) OR #e <= :now")
            .expression_attribute_names("#k", IDEMPOTENCY_KEY)
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_values(":now", n(epoch_seconds(caller.now)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(id) = attachment_id {
            put = put.item(ATTACHMENT_ID, s(id.as_str()));
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build_error)?)
            .build())
    }

    /// One more on a contact's counter, below the quota.
    fn count(
        &self,
        key: String,
        counter: &str,
        caller: &Caller<'_>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.tables.idempotency)
            .key(IDEMPOTENCY_KEY, s(&key))
            .update_expression("ADD #n :one")
            .condition_expression("attribute_not_exists(#n) OR #n < :max")
            .expression_attribute_names("#n", counter)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(caller.limits.max_attachments_per_contact))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The four items of a start's transaction, in the order of the `*_ITEM` indices.
    pub fn start_transaction(
        &self,
        start: &Start<'_>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let caller = &start.caller;
        let expires_at =
            epoch_seconds_after(caller.now, caller.limits.pending_attachment_ttl_seconds);
        let attachment = Put::builder()
            .table_name(&self.tables.attachments)
            .set_item(Some(schema::pending_attachment_item(
                start.attachment_id.as_str(),
                caller.connection,
                start.upload,
                caller.now,
                expires_at,
            )))
            // A fresh UUID never collides; if it did, nothing would be overwritten.
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", ATTACHMENT_ID)
            .build()
            .map_err(build_error)?;
        Ok(vec![
            self.connection_check(caller)?,
            TransactWriteItem::builder().put(attachment).build(),
            self.idempotency_record(
                Operation::StartAttachmentUpload,
                caller,
                Some(start.attachment_id),
            )?,
            self.count(
                schema::started_quota_key(&caller.connection.contact_id),
                STARTED_COUNT,
                caller,
            )?,
        ])
    }

    /// The four items of a completion's transaction, in the order of the `*_ITEM` indices.
    /// Public so that the benchmarks can send the very same items bare, as the baseline of the
    /// handler's overhead.
    pub fn complete_transaction(
        &self,
        c: &Completion<'_>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let caller = &c.caller;
        let attachment = Update::builder()
            .table_name(&self.tables.attachments)
            .key(ATTACHMENT_ID, s(c.attachment_id.as_str()))
            // A record written by another service may lack the declared size or type: S3's
            // are recorded, so that GetAttachment always has them.
            .update_expression(
                "SET #s = :approved, #at = :at, #etag = :etag, \
                 #size = if_not_exists(#size, :size), #ct = if_not_exists(#ct, :ct) REMOVE #x",
            )
            .condition_expression(
                "#s = :in_progress AND #p = :p AND #c = :c \
                 AND (attribute_not_exists(#x) OR #x > :now) \
                 AND (attribute_not_exists(#size) OR #size = :size) \
                 AND (attribute_not_exists(#ct) OR #ct = :ct)",
            )
            .expression_attribute_names("#s", STATUS)
            .expression_attribute_names("#at", COMPLETED_AT)
            .expression_attribute_names("#etag", ETAG)
            .expression_attribute_names("#size", ATTACHMENT_SIZE)
            .expression_attribute_names("#ct", CONTENT_TYPE)
            .expression_attribute_names("#x", EXPIRES_AT)
            .expression_attribute_names("#p", PARTICIPANT_ID)
            .expression_attribute_names("#c", CONTACT_ID)
            .expression_attribute_values(":approved", s(Status::Approved.as_str()))
            .expression_attribute_values(":in_progress", s(Status::InProgress.as_str()))
            .expression_attribute_values(":at", s(&schema::rfc3339(caller.now)))
            .expression_attribute_values(":etag", s(&c.object.etag))
            .expression_attribute_values(":size", n(c.object.size))
            .expression_attribute_values(":ct", s(c.expected_content_type))
            .expression_attribute_values(":now", n(epoch_seconds(caller.now)))
            .expression_attribute_values(":p", s(&caller.connection.participant_id))
            .expression_attribute_values(":c", s(&caller.connection.contact_id))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)?;
        Ok(vec![
            self.connection_check(caller)?,
            TransactWriteItem::builder().update(attachment).build(),
            self.idempotency_record(Operation::CompleteAttachmentUpload, caller, None)?,
            self.count(
                schema::completed_quota_key(&caller.connection.contact_id),
                COMPLETED_COUNT,
                caller,
            )?,
        ])
    }

    async fn write(&self, items: Vec<TransactWriteItem>) -> Result<(), WriteFailure> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => Err(
                    WriteFailure::Cancelled(cancelled.cancellation_reasons.unwrap_or_default()),
                ),
                other => Err(WriteFailure::Other(classify_sdk_error(other))),
            },
            Err(other) => Err(WriteFailure::Other(classify_failure(other))),
        }
    }

    /// Reads items together, consistently: `None` for each that does not exist.
    async fn read(&self, gets: Vec<Get>) -> Result<Vec<Option<Item>>, StoreError> {
        let count = gets.len();
        let items = gets
            .into_iter()
            .map(|get| TransactGetItem::builder().get(get).build())
            .collect();
        match self
            .client
            .transact_get_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(output) => {
                let responses = output.responses.unwrap_or_default();
                if responses.len() != count {
                    return Err(StoreError::MalformedItem("TransactGetItems responses"));
                }
                Ok(responses.into_iter().map(|r| r.item).collect())
            }
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                TransactGetItemsError::TransactionCanceledException(cancelled) => {
                    let reasons = cancelled.cancellation_reasons.unwrap_or_default();
                    Err(reasons
                        .iter()
                        .find_map(|r| transient_error(r.code()))
                        .unwrap_or_else(|| StoreError::UnexplainedCancellation(codes(&reasons))))
                }
                other => Err(classify_sdk_error(other)),
            },
            Err(other) => Err(classify_failure(other)),
        }
    }

    fn get(&self, table: &str, key_name: &str, key: &str) -> Result<Get, StoreError> {
        Get::builder()
            .table_name(table)
            .key(key_name, s(key))
            .build()
            .map_err(build_error)
    }
}

enum WriteFailure {
    Cancelled(Vec<CancellationReason>),
    Other(StoreError),
}

impl Store for DynamoDbStore {
    async fn find_connection(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<Connection>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.connections)
            .key(TOKEN_HASH, s(token_hash.as_str()))
            // A connection created a moment ago must not be refused.
            .consistent_read(true)
            .projection_expression("#p, #c, #e")
            .expression_attribute_names("#p", PARTICIPANT_ID)
            .expression_attribute_names("#c", CONTACT_ID)
            .expression_attribute_names("#e", EXPIRES_AT)
            .send()
            .await
            .map_err(classify_failure)?;
        output.item.as_ref().map(connection_from_item).transpose()
    }

    async fn start(&self, start: &Start<'_>) -> Result<Started, StoreError> {
        match self.write(self.start_transaction(start)?).await {
            Ok(()) => Ok(Started {
                attachment_id: start.attachment_id.clone(),
                outcome: Outcome::Done,
            }),
            Err(WriteFailure::Cancelled(reasons)) => classify_start_cancellation(&reasons, start),
            Err(WriteFailure::Other(error)) => Err(error),
        }
    }

    async fn complete(&self, completion: &Completion<'_>) -> Result<Outcome, StoreError> {
        match self.write(self.complete_transaction(completion)?).await {
            Ok(()) => Ok(Outcome::Done),
            Err(WriteFailure::Cancelled(reasons)) => {
                classify_completion_cancellation(&reasons, completion)
            }
            Err(WriteFailure::Other(error)) => Err(error),
        }
    }

    async fn replay_or_refuse(
        &self,
        caller: &Caller<'_>,
        attachment_id: &AttachmentId,
    ) -> Result<Outcome, StoreError> {
        let key = schema::idempotency_key(
            Operation::CompleteAttachmentUpload,
            &caller.connection.participant_id,
            caller.client_token_hash,
        );
        let items = self
            .read(vec![
                self.get(
                    &self.tables.connections,
                    TOKEN_HASH,
                    caller.token_hash.as_str(),
                )?,
                self.get(
                    &self.tables.attachments,
                    ATTACHMENT_ID,
                    attachment_id.as_str(),
                )?,
                self.get(&self.tables.idempotency, IDEMPOTENCY_KEY, &key)?,
            ])
            .await?;
        let [connection, attachment, record] = <[Option<Item>; 3]>::try_from(items)
            .map_err(|_| StoreError::MalformedItem("TransactGetItems responses"))?;
        let now = epoch_seconds(caller.now);
        if !is_callers_live_connection(connection.as_ref(), caller.connection, now) {
            return Err(StoreError::ConnectionGone);
        }
        if !owned_and_not_expired(attachment.as_ref(), caller.connection, now) {
            return Err(StoreError::AttachmentNotFound);
        }
        if number(record.as_ref(), EXPIRES_AT).is_some_and(|expires| expires > now) {
            return replay_or_reused(record.as_ref(), caller);
        }
        if text(attachment.as_ref(), STATUS) != Some(Status::InProgress.as_str()) {
            return Err(StoreError::NotInProgress);
        }
        Err(StoreError::NotUploaded)
    }

    async fn approved_attachment(
        &self,
        token_hash: &TokenHash,
        attachment_id: &AttachmentId,
        now: std::time::SystemTime,
    ) -> Result<ApprovedAttachment, StoreError> {
        let items = self
            .read(vec![
                self.get(&self.tables.connections, TOKEN_HASH, token_hash.as_str())?,
                self.get(
                    &self.tables.attachments,
                    ATTACHMENT_ID,
                    attachment_id.as_str(),
                )?,
            ])
            .await?;
        let [connection, attachment] = <[Option<Item>; 2]>::try_from(items)
            .map_err(|_| StoreError::MalformedItem("TransactGetItems responses"))?;
        let connection = match connection.as_ref().map(connection_from_item).transpose()? {
            Some(connection) if connection.is_live(epoch_seconds(now)) => connection,
            _ => return Err(StoreError::ConnectionGone),
        };
        let attachment = attachment.as_ref();
        // Any participant of the contact may read it, once approved.
        if text(attachment, CONTACT_ID) != Some(connection.contact_id.as_str())
            || text(attachment, STATUS) != Some(Status::Approved.as_str())
        {
            return Err(StoreError::AttachmentNotFound);
        }
        Ok(ApprovedAttachment {
            contact_id: connection.contact_id,
            // A name is what the download is saved as; a record without one is saved as its id.
            name: text(attachment, ATTACHMENT_NAME)
                .unwrap_or(attachment_id.as_str())
                .to_owned(),
            content_type: text(attachment, CONTENT_TYPE)
                .ok_or(StoreError::MalformedItem(CONTENT_TYPE))?
                .to_owned(),
            size: number(attachment, ATTACHMENT_SIZE)
                .and_then(|size| u64::try_from(size).ok())
                .ok_or(StoreError::MalformedItem(ATTACHMENT_SIZE))?,
        })
    }
}

/// Names why a start was cancelled. Precedence follows the contract: the connection, then the
/// caller's own record (a replay comes before the quota), then transient collisions and the quota.
pub fn classify_start_cancellation(
    reasons: &[CancellationReason],
    start: &Start<'_>,
) -> Result<Started, StoreError> {
    if reasons.len() != WRITE_ITEMS {
        return Err(StoreError::UnexplainedCancellation(codes(reasons)));
    }
    let failed = |index: usize| reasons[index].code() == Some("ConditionalCheckFailed");
    if failed(CONNECTION_ITEM) {
        return Err(StoreError::ConnectionGone);
    }
    if failed(IDEMPOTENCY_ITEM) {
        let record = reasons[IDEMPOTENCY_ITEM].item();
        replay_or_reused(record, &start.caller)?;
        let id = text(record, ATTACHMENT_ID).ok_or(StoreError::MalformedItem(ATTACHMENT_ID))?;
        return Ok(Started {
            attachment_id: AttachmentId::new(id),
            outcome: Outcome::Replayed,
        });
    }
    if let Some(transient) = reasons.iter().find_map(|r| transient_error(r.code())) {
        return Err(transient);
    }
    if failed(QUOTA_ITEM) {
        return Err(StoreError::QuotaExceeded);
    }
    Err(StoreError::UnexplainedCancellation(codes(reasons)))
}

/// Names why a completion was cancelled. Precedence follows the contract: the connection, then
/// the attachment's owner, then replay, conflicts and quota.
pub fn classify_completion_cancellation(
    reasons: &[CancellationReason],
    completion: &Completion<'_>,
) -> Result<Outcome, StoreError> {
    if reasons.len() != WRITE_ITEMS {
        return Err(StoreError::UnexplainedCancellation(codes(reasons)));
    }
    let caller = &completion.caller;
    let now = epoch_seconds(caller.now);
    let failed = |index: usize| reasons[index].code() == Some("ConditionalCheckFailed");
    let attachment = reasons[ATTACHMENT_ITEM].item();
    if failed(CONNECTION_ITEM) {
        return Err(StoreError::ConnectionGone);
    }
    if failed(ATTACHMENT_ITEM) && !owned_and_not_expired(attachment, caller.connection, now) {
        return Err(StoreError::AttachmentNotFound);
    }
    // The caller's own record decides, whatever else collided: retrying cannot change it.
    if failed(IDEMPOTENCY_ITEM) {
        return replay_or_reused(reasons[IDEMPOTENCY_ITEM].item(), caller);
    }
    if let Some(transient) = reasons.iter().find_map(|r| transient_error(r.code())) {
        return Err(transient);
    }
    if failed(ATTACHMENT_ITEM) {
        return Err(attachment_refusal(attachment, completion));
    }
    if failed(QUOTA_ITEM) {
        return Err(StoreError::QuotaExceeded);
    }
    Err(StoreError::UnexplainedCancellation(codes(reasons)))
}

/// Why an attachment of the caller's, still live, refused to be approved.
fn attachment_refusal(attachment: Option<&Item>, completion: &Completion<'_>) -> StoreError {
    if text(attachment, STATUS) != Some(Status::InProgress.as_str()) {
        return StoreError::NotInProgress;
    }
    let object = completion.object;
    let size_matches = number(attachment, ATTACHMENT_SIZE)
        .is_none_or(|declared| u64::try_from(declared).is_ok_and(|d| d == object.size));
    match text(attachment, CONTENT_TYPE) {
        _ if !size_matches => StoreError::UploadMismatch,
        Some(declared) if declared != completion.expected_content_type => {
            if declared.eq_ignore_ascii_case(&object.content_type) {
                StoreError::ContentTypeCase(declared.to_owned())
            } else {
                StoreError::UploadMismatch
            }
        }
        // Everything matched when DynamoDB looked: the item changed under us.
        _ => StoreError::Contention,
    }
}

/// A replay if the caller's record holds the same parameters, a reused ClientToken otherwise.
fn replay_or_reused(record: Option<&Item>, caller: &Caller<'_>) -> Result<Outcome, StoreError> {
    if text(record, REQUEST_HASH) == Some(caller.fingerprint.as_str()) {
        Ok(Outcome::Replayed)
    } else {
        Err(StoreError::ClientTokenReused)
    }
}

/// The attachment exists, is the caller's (participant and contact), and is not a pending
/// record past its expiry.
fn owned_and_not_expired(item: Option<&Item>, connection: &Connection, now: i64) -> bool {
    let owned = text(item, PARTICIPANT_ID) == Some(connection.participant_id.as_str())
        && text(item, CONTACT_ID) == Some(connection.contact_id.as_str());
    let pending_expired = text(item, STATUS) == Some(Status::InProgress.as_str())
        && number(item, EXPIRES_AT).is_some_and(|expires| expires <= now);
    owned && !pending_expired
}

fn is_callers_live_connection(item: Option<&Item>, caller: &Connection, now: i64) -> bool {
    item.and_then(|item| connection_from_item(item).ok())
        .is_some_and(|found| {
            found.is_live(now)
                && found.participant_id == caller.participant_id
                && found.contact_id == caller.contact_id
        })
}

/// The reasons' codes, for the log of a cancellation nobody expected.
fn codes(reasons: &[CancellationReason]) -> String {
    reasons
        .iter()
        .map(|r| r.code().unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(",")
}

fn transient_error(code: Option<&str>) -> Option<StoreError> {
    // Throttling inside a transaction is retried like a conflict: the SDK does not retry
    // a cancelled transaction by itself.
    match code? {
        "TransactionConflict"
        | "ThrottlingError"
        | "ProvisionedThroughputExceeded"
        | "RequestLimitExceeded" => Some(StoreError::Contention),
        _ => None,
    }
}

/// The error codes with which DynamoDB throttles a request (the SDK retries them itself).
pub const THROTTLING_CODES: [&str; 3] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
];

/// A failed call: its time bound ended (the SDK's operation timeout), or DynamoDB's answer.
fn classify_failure<E>(error: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match error {
        SdkError::TimeoutError(_) => StoreError::DeadlineExceeded,
        SdkError::ServiceError(e) => classify_sdk_error(e.into_err()),
        other => StoreError::Unavailable(other.into()),
    }
}

fn classify_sdk_error<E>(error: E) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match error.code() {
        Some(code) if THROTTLING_CODES.contains(&code) => StoreError::Throttled,
        Some("ResourceNotFoundException") => StoreError::TableNotFound,
        Some("TransactionConflictException") => StoreError::Contention,
        _ => StoreError::Unavailable(error.into()),
    }
}

fn connection_from_item(item: &Item) -> Result<Connection, StoreError> {
    let item = Some(item);
    let text = |name: &'static str| {
        text(item, name)
            .map(str::to_owned)
            .ok_or(StoreError::MalformedItem(name))
    };
    Ok(Connection {
        participant_id: text(PARTICIPANT_ID)?,
        contact_id: text(CONTACT_ID)?,
        expires_at: number(item, EXPIRES_AT).ok_or(StoreError::MalformedItem(EXPIRES_AT))?,
    })
}

fn build_error(error: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::InvalidRequest(error.into())
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::domain::{ClientTokenHash, DeclaredUpload, Fingerprint, StoredObject};
    use crate::store::Limits;

    struct Fixture {
        token_hash: TokenHash,
        connection: Connection,
        attachment_id: AttachmentId,
        client_token_hash: ClientTokenHash,
        fingerprint: Fingerprint,
        object: StoredObject,
        upload: DeclaredUpload,
    }

    impl Fixture {
        fn new() -> Self {
            let attachment_id = AttachmentId::new("a-1");
            Self {
                token_hash: TokenHash::of("token"),
                connection: Connection {
                    participant_id: "p-1".into(),
                    contact_id: "c-1".into(),
                    expires_at: i64::MAX,
                },
                fingerprint: Fingerprint::of_completion(&attachment_id),
                attachment_id,
                client_token_hash: ClientTokenHash::of("client"),
                object: StoredObject {
                    size: 5,
                    content_type: "text/plain".into(),
                    etag: "\"e\"".into(),
                },
                upload: DeclaredUpload {
                    name: "a.txt".into(),
                    size: 5,
                    content_type: "text/plain".into(),
                },
            }
        }

        fn caller(&self) -> Caller<'_> {
            Caller {
                token_hash: &self.token_hash,
                connection: &self.connection,
                client_token_hash: &self.client_token_hash,
                fingerprint: &self.fingerprint,
                now: SystemTime::now(),
                limits: Limits {
                    idempotency_ttl_seconds: 60,
                    max_attachments_per_contact: 10,
                    pending_attachment_ttl_seconds: 60,
                },
            }
        }

        fn completion(&self) -> Completion<'_> {
            Completion {
                caller: self.caller(),
                attachment_id: &self.attachment_id,
                object: &self.object,
                expected_content_type: "text/plain",
            }
        }

        fn start(&self) -> Start<'_> {
            Start {
                caller: self.caller(),
                attachment_id: &self.attachment_id,
                upload: &self.upload,
            }
        }
    }

    fn reason(code: &str, item: &[(&str, &str)]) -> CancellationReason {
        let item = (!item.is_empty()).then(|| {
            item.iter()
                .map(|(k, v)| ((*k).to_owned(), s(v)))
                .collect::<Item>()
        });
        CancellationReason::builder()
            .code(code)
            .set_item(item)
            .build()
    }

    const OK: &str = "None";
    const FAILED: &str = "ConditionalCheckFailed";

    fn classify(reasons: [CancellationReason; 4]) -> Result<Outcome, StoreError> {
        let fixture = Fixture::new();
        classify_completion_cancellation(&reasons, &fixture.completion())
    }

    fn own_attachment(status: Status) -> Vec<(&'static str, &'static str)> {
        vec![
            (PARTICIPANT_ID, "p-1"),
            (CONTACT_ID, "c-1"),
            (STATUS, status.as_str()),
        ]
    }

    fn own_record() -> String {
        Fingerprint::of_completion(&AttachmentId::new("a-1"))
            .as_str()
            .to_owned()
    }

    #[test]
    fn connection_failure_comes_first() {
        let result = classify([
            reason(FAILED, &[]),
            reason(FAILED, &[]),
            reason(FAILED, &[(REQUEST_HASH, &own_record())]),
            reason(FAILED, &[]),
        ]);
        assert!(matches!(result, Err(StoreError::ConnectionGone)));
    }

    #[test]
    fn missing_or_foreign_attachment_is_not_found_whatever_the_record() {
        let foreign = [(PARTICIPANT_ID, "p-2"), (CONTACT_ID, "c-1")];
        let other_contact = [(PARTICIPANT_ID, "p-1"), (CONTACT_ID, "c-2")];
        let expired = [
            (PARTICIPANT_ID, "p-1"),
            (CONTACT_ID, "c-1"),
            (STATUS, "IN_PROGRESS"),
        ];
        for attachment in [&[][..], &foreign[..], &other_contact[..]] {
            let result = classify([
                reason(OK, &[]),
                reason(FAILED, attachment),
                reason(FAILED, &[(REQUEST_HASH, &own_record())]),
                reason(OK, &[]),
            ]);
            assert!(
                matches!(result, Err(StoreError::AttachmentNotFound)),
                "{attachment:?}"
            );
        }
        let mut expired_reason = reason(FAILED, &expired);
        if let Some(item) = expired_reason.item.as_mut() {
            item.insert(EXPIRES_AT.into(), n(1));
        }
        let result = classify([
            reason(OK, &[]),
            expired_reason,
            reason(OK, &[]),
            reason(OK, &[]),
        ]);
        assert!(matches!(result, Err(StoreError::AttachmentNotFound)));
    }

    #[test]
    fn own_record_with_same_parameters_is_a_replay_even_at_the_quota() {
        let result = classify([
            reason(OK, &[]),
            reason(FAILED, &own_attachment(Status::Approved)),
            reason(FAILED, &[(REQUEST_HASH, &own_record())]),
            reason(FAILED, &[]),
        ]);
        assert!(matches!(result, Ok(Outcome::Replayed)));
    }

    #[test]
    fn own_record_with_other_parameters_is_a_reused_token() {
        let result = classify([
            reason(OK, &[]),
            reason(OK, &[]),
            reason(FAILED, &[(REQUEST_HASH, "other")]),
            reason(OK, &[]),
        ]);
        assert!(matches!(result, Err(StoreError::ClientTokenReused)));
    }

    #[test]
    fn approved_attachment_without_record_is_not_in_progress_before_quota() {
        let result = classify([
            reason(OK, &[]),
            reason(FAILED, &own_attachment(Status::Approved)),
            reason(OK, &[]),
            reason(FAILED, &[]),
        ]);
        assert!(matches!(result, Err(StoreError::NotInProgress)));
    }

    #[test]
    fn another_size_or_type_in_s3_is_a_mismatch_and_a_case_difference_is_named() {
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut item = own_attachment(Status::InProgress);
            item.extend_from_slice(extra);
            classify([
                reason(OK, &[]),
                reason(FAILED, &item),
                reason(OK, &[]),
                reason(OK, &[]),
            ])
        };
        let mut other_size = reason(FAILED, &own_attachment(Status::InProgress));
        if let Some(item) = other_size.item.as_mut() {
            item.insert(ATTACHMENT_SIZE.into(), n(6));
        }
        let result = classify([
            reason(OK, &[]),
            other_size,
            reason(OK, &[]),
            reason(OK, &[]),
        ]);
        assert!(matches!(result, Err(StoreError::UploadMismatch)));
        assert!(matches!(
            with(&[(CONTENT_TYPE, "image/png")]),
            Err(StoreError::UploadMismatch)
        ));
        assert!(
            matches!(with(&[(CONTENT_TYPE, "Text/Plain")]), Err(StoreError::ContentTypeCase(t)) if t == "Text/Plain")
        );
    }

    #[test]
    fn quota_alone_is_quota_exceeded() {
        let result = classify([
            reason(OK, &[]),
            reason(OK, &[]),
            reason(OK, &[]),
            reason(FAILED, &[]),
        ]);
        assert!(matches!(result, Err(StoreError::QuotaExceeded)));
    }

    #[test]
    fn conflicts_and_throttling_inside_the_transaction_are_contention() {
        for code in [
            "TransactionConflict",
            "ThrottlingError",
            "ProvisionedThroughputExceeded",
        ] {
            let result = classify([
                reason(OK, &[]),
                reason(code, &[]),
                reason(OK, &[]),
                reason(OK, &[]),
            ]);
            assert!(matches!(result, Err(StoreError::Contention)), "{code}");
        }
    }

    #[test]
    fn unexplained_cancellations_name_their_reasons() {
        let result = classify([
            reason(OK, &[]),
            reason("ValidationError", &[]),
            reason(OK, &[]),
            reason(OK, &[]),
        ]);
        assert!(
            matches!(result, Err(StoreError::UnexplainedCancellation(codes)) if codes == "None,ValidationError,None,None")
        );
        let fixture = Fixture::new();
        let short = classify_completion_cancellation(&[reason(FAILED, &[])], &fixture.completion());
        assert!(matches!(short, Err(StoreError::UnexplainedCancellation(_))));
    }

    #[test]
    fn the_callers_own_record_decides_even_when_another_item_collided() {
        let result = classify([
            reason(OK, &[]),
            reason(FAILED, &own_attachment(Status::Approved)),
            reason(FAILED, &[(REQUEST_HASH, &own_record())]),
            reason("TransactionConflict", &[]),
        ]);
        assert!(matches!(result, Ok(Outcome::Replayed)));
        let result = classify([
            reason(OK, &[]),
            reason("TransactionConflict", &[]),
            reason(FAILED, &[(REQUEST_HASH, "other")]),
            reason(OK, &[]),
        ]);
        assert!(matches!(result, Err(StoreError::ClientTokenReused)));
    }

    #[test]
    fn a_start_replay_answers_the_recorded_attachment_even_at_the_quota() {
        let fixture = Fixture::new();
        let start = fixture.start();
        let record = [
            (REQUEST_HASH, fixture.fingerprint.as_str()),
            (ATTACHMENT_ID, "earlier"),
        ];
        let reasons = [
            reason(OK, &[]),
            reason(OK, &[]),
            reason(FAILED, &record),
            reason(FAILED, &[]),
        ];
        let started = classify_start_cancellation(&reasons, &start).unwrap();
        assert_eq!(started.attachment_id.as_str(), "earlier");
        assert_eq!(started.outcome, Outcome::Replayed);
        let reused = [
            reason(OK, &[]),
            reason(OK, &[]),
            reason(
                FAILED,
                &[(REQUEST_HASH, "other"), (ATTACHMENT_ID, "earlier")],
            ),
            reason(OK, &[]),
        ];
        assert!(matches!(
            classify_start_cancellation(&reused, &start),
            Err(StoreError::ClientTokenReused)
        ));
        let quota = [
            reason(OK, &[]),
            reason(OK, &[]),
            reason(OK, &[]),
            reason(FAILED, &[]),
        ];
        assert!(matches!(
            classify_start_cancellation(&quota, &start),
            Err(StoreError::QuotaExceeded)
        ));
        let gone = [
            reason(FAILED, &[]),
            reason(OK, &[]),
            reason(FAILED, &record),
            reason(OK, &[]),
        ];
        assert!(matches!(
            classify_start_cancellation(&gone, &start),
            Err(StoreError::ConnectionGone)
        ));
    }

    #[test]
    fn connection_items_are_read_strictly() {
        let item = |expires: &str| {
            Item::from([
                (PARTICIPANT_ID.to_owned(), s("p")),
                (CONTACT_ID.to_owned(), s("c")),
                (EXPIRES_AT.to_owned(), n(expires)),
            ])
        };
        assert_eq!(
            connection_from_item(&item("1700000000.9"))
                .unwrap()
                .expires_at,
            1_700_000_000
        );
        assert!(matches!(
            connection_from_item(&item("soon")),
            Err(StoreError::MalformedItem(EXPIRES_AT))
        ));
        let mut no_contact = item("1");
        no_contact.remove(CONTACT_ID);
        assert!(matches!(
            connection_from_item(&no_contact),
            Err(StoreError::MalformedItem(CONTACT_ID))
        ));
    }
}
