//! Every cancellation named from the reasons and old items DynamoDB returns, without another
//! read, and every other failure classified: throttling, a missing table, a time bound.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;

use super::transactions::{
    ATTACHMENT_ITEM, CONNECTION_ITEM, IDEMPOTENCY_ITEM, QUOTA_ITEM, WRITE_ITEMS,
};
use crate::domain::{epoch_seconds, AttachmentId, Connection, Effect, Operation};
use crate::store::schema::{number, text, Item, Status};
use crate::store::schema::{
    ATTACHMENT_ID, ATTACHMENT_SIZE, CONTACT_ID, CONTENT_TYPE, EXPIRES_AT, PARTICIPANT_ID,
    REJECTION, REQUEST_HASH, STATUS,
};
use crate::store::{Caller, Completion, Start, Started, StoreError};

/// Why a completion's transaction was cancelled.
#[derive(Debug)]
pub enum CompletionRefusal {
    Refused(StoreError),
    /// The record's content type differs from S3's in case only: the same type, which the
    /// store approves again as the record spells it.
    SpelledOtherwise(String),
}

impl From<StoreError> for CompletionRefusal {
    fn from(error: StoreError) -> Self {
        Self::Refused(error)
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
        replay_or_reused(record, &start.caller, Operation::StartAttachmentUpload)?;
        let id = text(record, ATTACHMENT_ID).ok_or(StoreError::MalformedItem(ATTACHMENT_ID))?;
        return Ok(Started {
            attachment_id: AttachmentId::new(id),
            effect: Effect::Replayed,
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
) -> Result<Effect, CompletionRefusal> {
    // A rejection does not count the file: it sends no quota item.
    let items = if completion.rejection.is_some() {
        QUOTA_ITEM
    } else {
        WRITE_ITEMS
    };
    if reasons.len() != items {
        return Err(StoreError::UnexplainedCancellation(codes(reasons)).into());
    }
    let caller = &completion.caller;
    let now = epoch_seconds(caller.now);
    let failed = |index: usize| reasons[index].code() == Some("ConditionalCheckFailed");
    let attachment = reasons[ATTACHMENT_ITEM].item();
    if failed(CONNECTION_ITEM) {
        return Err(StoreError::ConnectionGone.into());
    }
    if failed(ATTACHMENT_ITEM) && !owned_and_not_expired(attachment, caller.connection, now) {
        return Err(StoreError::AttachmentNotFound.into());
    }
    // The caller's own record decides, whatever else collided: retrying cannot change it.
    if failed(IDEMPOTENCY_ITEM) {
        return Ok(replay_or_reused(
            reasons[IDEMPOTENCY_ITEM].item(),
            caller,
            Operation::CompleteAttachmentUpload,
        )?);
    }
    if let Some(transient) = reasons.iter().find_map(|r| transient_error(r.code())) {
        return Err(transient.into());
    }
    if failed(ATTACHMENT_ITEM) {
        return Err(attachment_refusal(attachment, completion));
    }
    if reasons.len() > QUOTA_ITEM && failed(QUOTA_ITEM) {
        return Err(StoreError::QuotaExceeded.into());
    }
    Err(StoreError::UnexplainedCancellation(codes(reasons)).into())
}

/// Why an attachment of the caller's, still live, refused to be approved.
fn attachment_refusal(attachment: Option<&Item>, completion: &Completion<'_>) -> CompletionRefusal {
    if text(attachment, STATUS) != Some(Status::InProgress.as_str()) {
        return StoreError::NotInProgress.into();
    }
    let object = completion.object;
    let size_matches = number(attachment, ATTACHMENT_SIZE)
        .is_none_or(|declared| u64::try_from(declared).is_ok_and(|d| d == object.size));
    match text(attachment, CONTENT_TYPE) {
        _ if !size_matches => StoreError::UploadMismatch.into(),
        Some(declared) if declared != completion.expected_content_type => {
            if declared.eq_ignore_ascii_case(&object.content_type) {
                CompletionRefusal::SpelledOtherwise(declared.to_owned())
            } else {
                StoreError::UploadMismatch.into()
            }
        }
        // Everything matched when DynamoDB looked: the item changed under us.
        _ => StoreError::Contention.into(),
    }
}

/// A replay if the caller's record holds the same parameters, a reused ClientToken otherwise.
pub fn replay_or_reused(
    record: Option<&Item>,
    caller: &Caller<'_>,
    operation: Operation,
) -> Result<Effect, StoreError> {
    if text(record, REQUEST_HASH) == Some(caller.fingerprint.as_str()) {
        match text(record, REJECTION) {
            Some(_) => Err(StoreError::ContentRejected),
            None => Ok(Effect::Replayed),
        }
    } else {
        Err(StoreError::ClientTokenReused(operation))
    }
}

/// The attachment exists, is the caller's (participant and contact), and is not a pending
/// record past its expiry.
pub fn owned_and_not_expired(item: Option<&Item>, connection: &Connection, now: i64) -> bool {
    let owned = text(item, PARTICIPANT_ID) == Some(connection.participant_id.as_str())
        && text(item, CONTACT_ID) == Some(connection.contact_id.as_str());
    let pending_expired = text(item, STATUS) == Some(Status::InProgress.as_str())
        && number(item, EXPIRES_AT).is_some_and(|expires| expires <= now);
    owned && !pending_expired
}

pub fn is_callers_live_connection(item: Option<&Item>, caller: &Connection, now: i64) -> bool {
    item.and_then(|item| connection_from_item(item).ok())
        .is_some_and(|found| {
            found.is_live(now)
                && found.participant_id == caller.participant_id
                && found.contact_id == caller.contact_id
        })
}

/// The reasons' codes, for the log of a cancellation nobody expected.
pub fn codes(reasons: &[CancellationReason]) -> String {
    reasons
        .iter()
        .map(|r| r.code().unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn transient_error(code: Option<&str>) -> Option<StoreError> {
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
pub fn classify_failure<E>(error: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match error {
        SdkError::TimeoutError(_) => StoreError::DeadlineExceeded,
        SdkError::ServiceError(e) => classify_sdk_error(e.into_err()),
        other => StoreError::Unavailable(other.into()),
    }
}

pub fn classify_sdk_error<E>(error: E) -> StoreError
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

pub fn connection_from_item(item: &Item) -> Result<Connection, StoreError> {
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

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::config::Limits;
    use crate::domain::{ClientTokenHash, DeclaredUpload, Fingerprint, StoredObject, TokenHash};
    use crate::store::schema::{n, s};

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
                    last_modified: None,
                    first_bytes: Vec::new(),
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
                    retention_seconds: 0,
                },
            }
        }

        fn completion(&self) -> Completion<'_> {
            Completion {
                caller: self.caller(),
                attachment_id: &self.attachment_id,
                object: &self.object,
                expected_content_type: "text/plain",
                rejection: None,
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

    fn classify_refusal(reasons: [CancellationReason; 4]) -> Result<Effect, CompletionRefusal> {
        let fixture = Fixture::new();
        classify_completion_cancellation(&reasons, &fixture.completion())
    }

    fn classify(reasons: [CancellationReason; 4]) -> Result<Effect, StoreError> {
        classify_refusal(reasons).map_err(|refusal| match refusal {
            CompletionRefusal::Refused(error) => error,
            CompletionRefusal::SpelledOtherwise(t) => panic!("spelled otherwise: {t}"),
        })
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
        assert!(matches!(result, Ok(Effect::Replayed)));
    }

    #[test]
    fn own_record_with_other_parameters_is_a_reused_token() {
        let result = classify([
            reason(OK, &[]),
            reason(OK, &[]),
            reason(FAILED, &[(REQUEST_HASH, "other")]),
            reason(OK, &[]),
        ]);
        assert!(matches!(result, Err(StoreError::ClientTokenReused(_))));
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
            classify_refusal([
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
            Err(CompletionRefusal::Refused(StoreError::UploadMismatch))
        ));
        assert!(
            matches!(with(&[(CONTENT_TYPE, "Text/Plain")]), Err(CompletionRefusal::SpelledOtherwise(t)) if t == "Text/Plain")
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
        assert!(matches!(
            short,
            Err(CompletionRefusal::Refused(
                StoreError::UnexplainedCancellation(_)
            ))
        ));
    }

    #[test]
    fn the_callers_own_record_decides_even_when_another_item_collided() {
        let result = classify([
            reason(OK, &[]),
            reason(FAILED, &own_attachment(Status::Approved)),
            reason(FAILED, &[(REQUEST_HASH, &own_record())]),
            reason("TransactionConflict", &[]),
        ]);
        assert!(matches!(result, Ok(Effect::Replayed)));
        let result = classify([
            reason(OK, &[]),
            reason("TransactionConflict", &[]),
            reason(FAILED, &[(REQUEST_HASH, "other")]),
            reason(OK, &[]),
        ]);
        assert!(matches!(result, Err(StoreError::ClientTokenReused(_))));
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
        assert_eq!(started.effect, Effect::Replayed);
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
            Err(StoreError::ClientTokenReused(_))
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
