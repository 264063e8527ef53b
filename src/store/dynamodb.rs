//! The store on DynamoDB: a `GetItem` to authenticate, one `TransactWriteItems` to complete.
//!
//! Layout (see the README's data model):
//! - connections: `TokenHash` → `ParticipantId`, `ContactId`, `ExpiresAt` (read only).
//! - attachments: `AttachmentId` → `ParticipantId`, `ContactId`, `Status`, `CompletedAt`.
//! - idempotency (this function's own table, key `IdempotencyKey`):
//!   `IDEMPOTENCY#<ParticipantId>#<sha256(ClientToken)>` → `RequestHash`, `ExpiresAt` (TTL), and
//!   `QUOTA#<ContactId>` → `CompletedCount`, the contact's quota counter.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_types::date_time::{DateTime, Format};

use super::{epoch_seconds, Completion, Connection, Outcome, Store, StoreError};
use crate::request::TokenHash;

pub const TOKEN_HASH: &str = "TokenHash";
pub const ATTACHMENT_ID: &str = "AttachmentId";
pub const IDEMPOTENCY_KEY: &str = "IdempotencyKey";
pub const PARTICIPANT_ID: &str = "ParticipantId";
pub const CONTACT_ID: &str = "ContactId";
pub const EXPIRES_AT: &str = "ExpiresAt";
pub const STATUS: &str = "Status";
pub const COMPLETED_AT: &str = "CompletedAt";
pub const REQUEST_HASH: &str = "RequestHash";
pub const COMPLETED_COUNT: &str = "CompletedCount";
pub const IN_PROGRESS: &str = "IN_PROGRESS";
pub const APPROVED: &str = "APPROVED";

/// The position of each item in the transaction; `CancellationReasons` come in this order.
const CONNECTION_ITEM: usize = 0;
const ATTACHMENT_ITEM: usize = 1;
const IDEMPOTENCY_ITEM: usize = 2;
const QUOTA_ITEM: usize = 3;

/// The DynamoDB client `main` builds once: region and credentials from the environment only,
/// the endpoint from the SDK's standard variables (`AWS_ENDPOINT_URL_DYNAMODB`), and every
/// operation bounded by `timeout`, the SDK's retries included.
pub async fn client(region: &str, timeout: Duration) -> Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(timeout.min(Duration::from_secs(1)))
        .operation_attempt_timeout(timeout / 2)
        .operation_timeout(timeout)
        .build();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .timeout_config(timeouts)
        .load()
        .await;
    Client::new(&config)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub connections: String,
    pub attachments: String,
    pub idempotency: String,
}

/// The contract's local defaults.
impl Default for Tables {
    fn default() -> Self {
        Self {
            connections: "connections".into(),
            attachments: "attachments".into(),
            idempotency: "idempotency".into(),
        }
    }
}

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
    /// `GetItem` permission the function has anyway.
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.find_connection(&TokenHash::of("")).await.map(drop)
    }

    /// The four items of a completion's transaction. Public so that the benchmarks can send the
    /// very same items bare, as the baseline of the handler's overhead.
    pub fn transaction(&self, c: &Completion<'_>) -> Result<Vec<TransactWriteItem>, StoreError> {
        let now = epoch_seconds(c.now);
        let completed_at = DateTime::from(c.now)
            .fmt(Format::DateTime)
            .map_err(|e| StoreError::InvalidRequest(e.into()))?;
        let participant = s(&c.connection.participant_id);
        let contact = s(&c.connection.contact_id);
        let all_old = ReturnValuesOnConditionCheckFailure::AllOld;

        let connection = ConditionCheck::builder()
            .table_name(&self.tables.connections)
            .key(TOKEN_HASH, s(c.token_hash.as_str()))
            .condition_expression("#e > :now AND #p = :p AND #c = :c")
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_names("#p", PARTICIPANT_ID)
            .expression_attribute_names("#c", CONTACT_ID)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":p", participant.clone())
            .expression_attribute_values(":c", contact.clone())
            .build()
            .map_err(build_error)?;

        let attachment = Update::builder()
            .table_name(&self.tables.attachments)
            .key(ATTACHMENT_ID, s(c.attachment_id.as_str()))
            .update_expression("SET #s = :approved, #at = :at")
            .condition_expression("#s = :in_progress AND #p = :p AND #c = :c")
            .expression_attribute_names("#s", STATUS)
            .expression_attribute_names("#at", COMPLETED_AT)
            .expression_attribute_names("#p", PARTICIPANT_ID)
            .expression_attribute_names("#c", CONTACT_ID)
            .expression_attribute_values(":approved", s(APPROVED))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":at", s(&completed_at))
            .expression_attribute_values(":p", participant)
            .expression_attribute_values(":c", contact)
            .return_values_on_condition_check_failure(all_old.clone())
            .build()
            .map_err(build_error)?;

        let expires_at =
            now.saturating_add(i64::try_from(c.idempotency_ttl_seconds).unwrap_or(i64::MAX));
        let idempotency = Put::builder()
            .table_name(&self.tables.idempotency)
            .item(IDEMPOTENCY_KEY, s(&idempotency_key(c)))
            .item(REQUEST_HASH, s(c.fingerprint.as_str()))
            .item(EXPIRES_AT, n(expires_at))
            // An expired record counts as absent even before TTL deletes it.
            .condition_expression("attribute_not_exists(#k) OR #e <= :now")
            .expression_attribute_names("#k", IDEMPOTENCY_KEY)
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_values(":now", n(now))
            .return_values_on_condition_check_failure(all_old)
            .build()
            .map_err(build_error)?;

        let quota = Update::builder()
            .table_name(&self.tables.idempotency)
            .key(IDEMPOTENCY_KEY, s(&quota_key(&c.connection.contact_id)))
            .update_expression("ADD #n :one")
            .condition_expression("attribute_not_exists(#n) OR #n < :max")
            .expression_attribute_names("#n", COMPLETED_COUNT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(c.max_attachments_per_contact))
            .build()
            .map_err(build_error)?;

        // In the order of the *_ITEM indices.
        Ok(vec![
            TransactWriteItem::builder()
                .condition_check(connection)
                .build(),
            TransactWriteItem::builder().update(attachment).build(),
            TransactWriteItem::builder().put(idempotency).build(),
            TransactWriteItem::builder().update(quota).build(),
        ])
    }
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
            .map_err(|e| classify_sdk_error(e.into_service_error()))?;
        output.item.as_ref().map(connection_from_item).transpose()
    }

    async fn complete(&self, completion: &Completion<'_>) -> Result<Outcome, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(self.transaction(completion)?))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Outcome::Completed),
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    classify_cancellation(cancelled.cancellation_reasons(), completion)
                }
                other => Err(classify_sdk_error(other)),
            },
            Err(other) => Err(StoreError::Unavailable(other.into())),
        }
    }
}

/// Names why a transaction was cancelled, from the reasons DynamoDB gives per item and the old
/// items it returns, without another read. Precedence follows the contract: the connection,
/// then the attachment's owner, then replay, conflict and quota.
pub fn classify_cancellation(
    reasons: &[CancellationReason],
    completion: &Completion<'_>,
) -> Result<Outcome, StoreError> {
    if reasons.len() != 4 {
        return Err(StoreError::UnexplainedCancellation(codes(reasons)));
    }
    let failed = |index: usize| reasons[index].code() == Some("ConditionalCheckFailed");
    if failed(CONNECTION_ITEM) {
        return Err(StoreError::ConnectionGone);
    }
    if failed(ATTACHMENT_ITEM) && !owns(reasons[ATTACHMENT_ITEM].item(), completion.connection) {
        return Err(StoreError::AttachmentNotFound);
    }
    // The caller's own record decides, whatever else collided: retrying cannot change it.
    if failed(IDEMPOTENCY_ITEM) {
        let record = reasons[IDEMPOTENCY_ITEM].item();
        return if attribute(record, REQUEST_HASH) == Some(completion.fingerprint.as_str()) {
            Ok(Outcome::Replayed)
        } else {
            Err(StoreError::ClientTokenReused)
        };
    }
    if let Some(transient) = reasons.iter().find_map(|r| transient_error(r.code())) {
        return Err(transient);
    }
    if failed(ATTACHMENT_ITEM) {
        return Err(StoreError::NotInProgress);
    }
    if failed(QUOTA_ITEM) {
        return Err(StoreError::QuotaExceeded);
    }
    Err(StoreError::UnexplainedCancellation(codes(reasons)))
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

fn owns(item: Option<&HashMap<String, AttributeValue>>, connection: &Connection) -> bool {
    attribute(item, PARTICIPANT_ID) == Some(connection.participant_id.as_str())
        && attribute(item, CONTACT_ID) == Some(connection.contact_id.as_str())
}

fn attribute<'a>(item: Option<&'a HashMap<String, AttributeValue>>, name: &str) -> Option<&'a str> {
    item?.get(name)?.as_s().ok().map(String::as_str)
}

fn classify_sdk_error<E>(error: E) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match error.code() {
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded",
        ) => StoreError::Throttled,
        Some("ResourceNotFoundException") => StoreError::TableNotFound,
        _ => StoreError::Unavailable(error.into()),
    }
}

fn connection_from_item(item: &HashMap<String, AttributeValue>) -> Result<Connection, StoreError> {
    let text = |name: &'static str| {
        attribute(Some(item), name)
            .map(str::to_owned)
            .ok_or(StoreError::MalformedItem(name))
    };
    let expires_at = item
        .get(EXPIRES_AT)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| parse_epoch_seconds(n))
        .ok_or(StoreError::MalformedItem(EXPIRES_AT))?;
    Ok(Connection {
        participant_id: text(PARTICIPANT_ID)?,
        contact_id: text(CONTACT_ID)?,
        expires_at,
    })
}

/// DynamoDB numbers are decimal strings; TTL writers sometimes store fractional seconds.
fn parse_epoch_seconds(number: &str) -> Option<i64> {
    number
        .parse::<i64>()
        .ok()
        .or_else(|| number.parse::<f64>().ok().map(|f| f.floor() as i64))
}

fn idempotency_key(c: &Completion<'_>) -> String {
    format!(
        "IDEMPOTENCY#{}#{}",
        c.connection.participant_id,
        c.client_token_hash.as_str()
    )
}

fn quota_key(contact_id: &str) -> String {
    format!("QUOTA#{contact_id}")
}

fn build_error(error: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::InvalidRequest(error.into())
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::request::{AttachmentId, ClientTokenHash, RequestFingerprint};

    struct Fixture {
        token_hash: TokenHash,
        connection: Connection,
        attachment_id: AttachmentId,
        client_token_hash: ClientTokenHash,
        fingerprint: RequestFingerprint,
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
                fingerprint: RequestFingerprint::of(&attachment_id),
                attachment_id,
                client_token_hash: ClientTokenHash::of("client"),
            }
        }

        fn completion(&self) -> Completion<'_> {
            Completion {
                token_hash: &self.token_hash,
                connection: &self.connection,
                attachment_id: &self.attachment_id,
                client_token_hash: &self.client_token_hash,
                fingerprint: &self.fingerprint,
                now: SystemTime::now(),
                idempotency_ttl_seconds: 60,
                max_attachments_per_contact: 10,
            }
        }
    }

    fn reason(code: &str, item: &[(&str, &str)]) -> CancellationReason {
        let item = (!item.is_empty()).then(|| {
            item.iter()
                .map(|(k, v)| ((*k).to_owned(), s(v)))
                .collect::<HashMap<_, _>>()
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
        classify_cancellation(&reasons, &fixture.completion())
    }

    fn own_attachment() -> Vec<(&'static str, &'static str)> {
        vec![
            (PARTICIPANT_ID, "p-1"),
            (CONTACT_ID, "c-1"),
            (STATUS, APPROVED),
        ]
    }

    fn own_record() -> String {
        RequestFingerprint::of(&AttachmentId::new("a-1"))
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
    }

    #[test]
    fn own_record_with_same_parameters_is_a_replay_even_at_the_quota() {
        let result = classify([
            reason(OK, &[]),
            reason(FAILED, &own_attachment()),
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
            reason(FAILED, &own_attachment()),
            reason(OK, &[]),
            reason(FAILED, &[]),
        ]);
        assert!(matches!(result, Err(StoreError::NotInProgress)));
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
        let short = classify_cancellation(&[reason(FAILED, &[])], &fixture.completion());
        assert!(matches!(short, Err(StoreError::UnexplainedCancellation(_))));
    }

    #[test]
    fn the_callers_own_record_decides_even_when_another_item_collided() {
        let result = classify([
            reason(OK, &[]),
            reason(FAILED, &own_attachment()),
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
    fn connection_items_are_read_strictly() {
        let item = |expires: &str| {
            HashMap::from([
                (PARTICIPANT_ID.to_owned(), s("p")),
                (CONTACT_ID.to_owned(), s("c")),
                (EXPIRES_AT.to_owned(), AttributeValue::N(expires.to_owned())),
            ])
        };
        assert_eq!(
            connection_from_item(&item("1700000000"))
                .unwrap()
                .expires_at,
            1_700_000_000
        );
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

    #[test]
    fn keys_are_scoped_and_never_hold_the_raw_client_token() {
        let fixture = Fixture::new();
        let key = idempotency_key(&fixture.completion());
        assert_eq!(
            key,
            format!("IDEMPOTENCY#p-1#{}", ClientTokenHash::of("client").as_str())
        );
        assert!(!key.contains("client#") && !key.ends_with("client"));
        assert_eq!(quota_key("c-1"), "QUOTA#c-1");
    }
}
