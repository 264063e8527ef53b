//! Test fixtures: unique ids, participants with connections in DynamoDB Local, attachments with
//! their files in S3, requests as API Gateway hands them over, the handler wired as `main` wires
//! it, DynamoDB mocks, an HTTP client for pre-signed URLs, and captured logs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::AttributeValue;
use connect_attachments::api::Handler;
use connect_attachments::domain::{
    epoch_seconds, AttachmentId, ClientTokenHash, Connection, DeclaredUpload, ObjectKey, Operation,
    TokenHash,
};
use connect_attachments::objects::{ObjectError, S3Objects};
use connect_attachments::service::{Service, Settings};
use connect_attachments::store::schema::{self, Item, Status};

use connect_attachments::store::DynamoDbStore;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

use crate::local;

pub use connect_attachments::domain::sha256_hex;
pub use connect_attachments::startup::App;
pub use connect_attachments::store::schema::s;

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}", fastrand::u64(..))
}

pub fn now() -> i64 {
    epoch_seconds(SystemTime::now())
}

pub fn handler_with(dynamodb: aws_sdk_dynamodb::Client, settings: Settings) -> Arc<App> {
    handler_with_clients(dynamodb, local::s3_client(), settings)
}

pub fn handler_with_clients(
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    settings: Settings,
) -> Arc<App> {
    Arc::new(Handler::new(Service::new(
        DynamoDbStore::new(dynamodb, local::tables()),
        S3Objects::new(s3, local::bucket()),
        settings,
    )))
}

/// The handler as `main` wires it, on the local services: a cold container.
pub fn handler() -> Arc<App> {
    handler_with(local::dynamodb_client(), Settings::default())
}

/// The demo file's declared upload, under another name.
pub fn text_upload(name: &str, bytes: &[u8]) -> DeclaredUpload {
    DeclaredUpload {
        name: name.to_owned(),
        size: bytes.len() as u64,
        content_type: "text/plain".to_owned(),
    }
}

/// The bytes every fixture attachment holds.
pub const FILE: &[u8] = b"a cat, in words\n";

/// One participant's connection in one contact.
#[derive(Debug, Clone)]
pub struct Participant {
    pub token: String,
    pub participant_id: String,
    pub contact_id: String,
}

impl Participant {
    /// A participant with a live connection stored in DynamoDB.
    pub async fn connected(contact_id: &str) -> Self {
        let participant = Self::unstored(contact_id);
        participant.store_connection(now() + 3600).await;
        participant
    }

    pub fn unstored(contact_id: &str) -> Self {
        Self {
            token: unique("token"),
            participant_id: unique("participant"),
            contact_id: contact_id.to_owned(),
        }
    }

    pub fn connection(&self, expires_at: i64) -> Connection {
        Connection {
            participant_id: self.participant_id.clone(),
            contact_id: self.contact_id.clone(),
            expires_at,
        }
    }

    pub async fn store_connection(&self, expires_at: i64) {
        local::dynamodb_client()
            .put_item()
            .table_name(local::tables().connections)
            .set_item(Some(schema::connection_item(
                &TokenHash::of(&self.token),
                &self.connection(expires_at),
            )))
            .send()
            .await
            .expect("store connection");
    }

    pub async fn delete_connection(&self) {
        local::dynamodb_client()
            .delete_item()
            .table_name(local::tables().connections)
            .key(schema::TOKEN_HASH, s(TokenHash::of(&self.token).as_str()))
            .send()
            .await
            .expect("delete connection");
    }

    /// An `IN_PROGRESS` attachment of this participant's, declared as [`FILE`], not uploaded.
    pub async fn pending_attachment(&self) -> String {
        let id = unique("attachment");
        put_attachment(
            &id,
            &self.participant_id,
            &self.contact_id,
            Status::InProgress,
        )
        .await;
        id
    }

    /// An `IN_PROGRESS` attachment of this participant's whose file is in S3.
    pub async fn attachment(&self) -> String {
        let id = self.pending_attachment().await;
        put_object(&self.contact_id, &id, FILE, "text/plain").await;
        id
    }

    pub fn complete_request(&self, attachment_id: &str, client_token: &str) -> Request {
        request(
            Operation::CompleteAttachmentUpload,
            Some(&self.token),
            json!({ "AttachmentIds": [attachment_id], "ClientToken": client_token }).to_string(),
        )
    }

    pub fn start_request(&self, upload: &DeclaredUpload, client_token: &str) -> Request {
        request(
            Operation::StartAttachmentUpload,
            Some(&self.token),
            json!({
                "AttachmentName": upload.name,
                "AttachmentSizeInBytes": upload.size,
                "ContentType": upload.content_type,
                "ClientToken": client_token,
            })
            .to_string(),
        )
    }

    pub fn get_request(&self, attachment_id: &str) -> Request {
        request(
            Operation::GetAttachment,
            Some(&self.token),
            json!({ "AttachmentId": attachment_id }).to_string(),
        )
    }

    /// The participant's CompleteAttachmentUpload record of `client_token`.
    pub async fn idempotency_record(&self, client_token: &str) -> Option<Item> {
        self.record(Operation::CompleteAttachmentUpload, client_token)
            .await
    }

    pub async fn record(&self, operation: Operation, client_token: &str) -> Option<Item> {
        let key = schema::idempotency_key(
            operation,
            &self.participant_id,
            &ClientTokenHash::of(client_token),
        );
        get_item(&local::tables().idempotency, schema::IDEMPOTENCY_KEY, &key).await
    }
}

/// An attachment record as StartAttachmentUpload writes it, declared as [`FILE`] in
/// `text/plain`, with the given status.
pub async fn put_attachment(id: &str, participant_id: &str, contact_id: &str, status: Status) {
    let created = SystemTime::now();
    let uploader = Connection {
        participant_id: participant_id.to_owned(),
        contact_id: contact_id.to_owned(),
        expires_at: now() + 3600,
    };
    let mut item = schema::pending_attachment_item(
        id,
        &uploader,
        &text_upload("cat.txt", FILE),
        created,
        now() + 3600,
    );
    if status != Status::InProgress {
        item.remove(schema::EXPIRES_AT);
        item.insert(schema::STATUS.into(), s(status.as_str()));
    }
    put_item(&local::tables().attachments, item).await;
}

pub async fn put_item(table: &str, item: Item) {
    local::dynamodb_client()
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .expect("put item");
}

/// Writes an object straight into the bucket, as an upload would.
pub async fn put_object(contact_id: &str, attachment_id: &str, bytes: &[u8], content_type: &str) {
    local::s3_client()
        .put_object()
        .bucket(local::bucket())
        .key(ObjectKey::new(contact_id, &AttachmentId::new(attachment_id)).as_str())
        .content_type(content_type)
        .body(bytes.to_vec().into())
        .send()
        .await
        .expect("put object");
}

pub async fn get_item(table: &str, key: &str, value: &str) -> Option<Item> {
    local::dynamodb_client()
        .get_item()
        .table_name(table)
        .key(key, s(value))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
}

pub async fn attachment(id: &str) -> HashMap<String, AttributeValue> {
    get_item(&local::tables().attachments, schema::ATTACHMENT_ID, id)
        .await
        .expect("attachment exists")
}

pub async fn attachment_status(id: &str) -> String {
    attachment(id).await[schema::STATUS]
        .as_s()
        .expect("Status is S")
        .clone()
}

async fn counter(key: String, attribute: &str) -> u32 {
    get_item(&local::tables().idempotency, schema::IDEMPOTENCY_KEY, &key)
        .await
        .map_or(0, |item| {
            item[attribute].as_n().expect("N").parse().expect("number")
        })
}

/// The contact's count of completed attachments (0 when never written).
pub async fn completed_count(contact_id: &str) -> u32 {
    counter(
        schema::completed_quota_key(contact_id),
        schema::COMPLETED_COUNT,
    )
    .await
}

/// The contact's count of started attachments (0 when never written).
pub async fn started_count(contact_id: &str) -> u32 {
    counter(schema::started_quota_key(contact_id), schema::STARTED_COUNT).await
}

pub async fn set_completed_count(contact_id: &str, count: u32) {
    put_item(
        &local::tables().idempotency,
        Item::from([
            (
                schema::IDEMPOTENCY_KEY.into(),
                s(&schema::completed_quota_key(contact_id)),
            ),
            (schema::COMPLETED_COUNT.into(), schema::n(count)),
        ]),
    )
    .await;
}

/// A request as API Gateway hands it to the function (no request context: as a local server would).
pub fn request(operation: Operation, token: Option<&str>, body: impl Into<Body>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("https://example.com{}", operation.path()))
        .header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("X-Amz-Bearer", token);
    }
    builder.body(body.into()).expect("request")
}

/// Status, `X-Amzn-ErrorType` and body of a response.
pub fn parts(response: &Response<Body>) -> (u16, Option<String>, String) {
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body = String::from_utf8(response.body().to_vec()).expect("utf-8 body");
    (response.status().as_u16(), error_type, body)
}

pub fn status_and_type(response: &Response<Body>) -> (u16, Option<String>) {
    let (status, error_type, _) = parts(response);
    (status, error_type)
}

/// The JSON body of a 200.
pub fn json_body(response: &Response<Body>) -> Value {
    let (status, error_type, body) = parts(response);
    assert_eq!((status, error_type), (200, None), "{body}");
    serde_json::from_str(&body).expect("a JSON body")
}

/// Sends all the requests at once; the status and type of their answers, in their order.
pub async fn handle_concurrently(
    handler: &Arc<App>,
    requests: Vec<Request>,
) -> Vec<(u16, Option<String>)> {
    handle_all(handler, requests)
        .await
        .iter()
        .map(status_and_type)
        .collect()
}

/// Sends all the requests at once; their answers, in the order of the requests.
pub async fn handle_all(handler: &Arc<App>, requests: Vec<Request>) -> Vec<Response<Body>> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let handler = Arc::clone(handler);
            tokio::spawn(async move { handler.handle(request).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("the handler never panics"));
    }
    answers
}

/// An HTTP answer from S3 (or anything else): status, headers, body.
pub struct HttpAnswer {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Vec<u8>,
}

/// Sends one plain HTTP request, as a browser or `curl` would send a pre-signed URL.
pub async fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpAnswer {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut builder = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("a valid request");
    let response = tokio::time::timeout(Duration::from_secs(10), client.request(request))
        .await
        .expect("an answer within 10 s")
        .expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes()
        .to_vec();
    HttpAnswer {
        status,
        headers,
        body,
    }
}

/// PUTs `bytes` to a StartAttachmentUpload answer's URL with its `HeadersToInclude`.
pub async fn upload(start_answer: &Value, bytes: &[u8]) -> HttpAnswer {
    let metadata = &start_answer["UploadMetadata"];
    let headers: Vec<(&str, &str)> = metadata["HeadersToInclude"]
        .as_object()
        .expect("HeadersToInclude")
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str().expect("a string")))
        .collect();
    http(
        "PUT",
        metadata["Url"].as_str().expect("Url"),
        &headers,
        bytes,
    )
    .await
}

/// A mocked `TransactWriteItems` that always answers `status` with `body`.
pub fn transactions_answering(status: u16, body: String) -> aws_smithy_mocks::Rule {
    aws_smithy_mocks::mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .sequence()
        .http_status(status, Some(body))
        .repeatedly()
        .build()
}

/// A mocked `GetItem` that always answers `status` with `body`.
pub fn lookups_answering(status: u16, body: String) -> aws_smithy_mocks::Rule {
    aws_smithy_mocks::mock!(aws_sdk_dynamodb::Client::get_item)
        .sequence()
        .http_status(status, Some(body))
        .repeatedly()
        .build()
}

/// The contact of the mocked connection, and the attachment whose file [`mocked_upload`] puts.
pub const MOCK_CONTACT: &str = "c";
pub const MOCK_ATTACHMENT: &str = "a";

/// A mocked `GetItem` that always finds a live connection (of contact [`MOCK_CONTACT`]).
pub fn live_connection() -> aws_smithy_mocks::Rule {
    lookups_answering(200, connection_item_json("p", MOCK_CONTACT))
}

/// The file of [`MOCK_ATTACHMENT`] in the real local S3, so that a completion against mocked
/// DynamoDB gets past S3 to its transaction.
pub async fn mocked_upload() {
    put_object(MOCK_CONTACT, MOCK_ATTACHMENT, FILE, "text/plain").await;
}

/// A DynamoDB JSON `GetItem` answer holding a live connection.
pub fn connection_item_json(participant_id: &str, contact_id: &str) -> String {
    json!({ "Item": {
        schema::PARTICIPANT_ID: { "S": participant_id },
        schema::CONTACT_ID: { "S": contact_id },
        schema::EXPIRES_AT: { "N": (now() + 3600).to_string() },
    }})
    .to_string()
}

/// A DynamoDB JSON error body.
pub fn aws_error(code: &str) -> String {
    json!({ "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": "injected" })
        .to_string()
}

/// A program of the Python tools `make test` installs (schemathesis, boto3). Missing, the test
/// fails: it never skips.
pub fn api_tool(name: &str) -> String {
    let venv = std::env::var("APITESTS_VENV").unwrap_or_else(|_| ".cache/venv-apitests".into());
    let path = format!("{venv}/bin/{name}");
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} is missing: run `make test`, which installs schemathesis and boto3 there"
    );
    path
}

/// Log output captured in memory, in the function's own JSON format.
#[derive(Clone, Default)]
pub struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// DynamoDB and S3 calls of one request, as its log line counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calls {
    pub dynamodb: u64,
    pub s3: u64,
}

impl PartialEq<(u64, u64)> for Calls {
    fn eq(&self, (dynamodb, s3): &(u64, u64)) -> bool {
        (self.dynamodb, self.s3) == (*dynamodb, *s3)
    }
}

impl Captured {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Captures this thread's logs (a current-thread test runtime: all of the test) at `filter`.
    ///
    /// With many tests in one process, a callsite first reached on a thread without a subscriber
    /// could be cached as never enabled, and its event lost by a later capture: a global subscriber
    /// that takes every event (and writes none) keeps every callsite live.
    pub fn install(&self, filter: &str) -> tracing::subscriber::DefaultGuard {
        static SILENT_GLOBAL: std::sync::Once = std::sync::Once::new();
        SILENT_GLOBAL.call_once(|| {
            let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
        });
        let filter = connect_attachments::telemetry::filter(filter).expect("a valid filter");
        tracing::subscriber::set_default(connect_attachments::telemetry::subscriber(
            filter,
            self.clone(),
        ))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// The per-request lines, parsed.
    pub fn request_lines(&self) -> Vec<Value> {
        request_lines(&self.text())
    }

    /// The calls of each request logged so far, then forgets them.
    pub fn take_calls(&self) -> Vec<Calls> {
        let calls = self.request_lines().iter().map(calls).collect();
        self.lock().clear();
        calls
    }
}

/// The per-request lines of a log (the function's, or a process's output).
pub fn request_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|line: &Value| line.get("dynamodb_calls").is_some())
        .collect()
}

/// The calls a request's log line counts.
pub fn calls(line: &Value) -> Calls {
    Calls {
        dynamodb: line["dynamodb_calls"].as_u64().expect("dynamodb_calls"),
        s3: line["s3_calls"].as_u64().expect("s3_calls"),
    }
}

/// The defaults, as a deployment without settings runs.
pub fn settings() -> Settings {
    Settings::default()
}

/// The defaults, with a quota of `max` attachments per contact.
pub fn with_quota(max: u32) -> Settings {
    let mut settings = settings();
    settings.limits.max_attachments_per_contact = max;
    settings
}

/// A Lambda context whose invocation ends `left` from now.
pub fn invocation_ending_in(left: Duration) -> lambda_http::Context {
    let mut context = lambda_http::Context::default();
    context.deadline = (SystemTime::now() + left)
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    context
}

/// S3's object storage, with what a test or a bench needs instead: pre-signing is S3's (local,
/// no network); the object answered in memory when `head` is set; the deletion of one key
/// refused (throttled).
pub struct Overridden {
    pub s3: S3Objects,
    pub head: Option<connect_attachments::domain::StoredObject>,
    pub failing_delete: Option<ObjectKey>,
}

impl connect_attachments::objects::Objects for Overridden {
    async fn presign_upload(
        &self,
        key: &ObjectKey,
        content_type: &str,
        size: u64,
        now: SystemTime,
        valid_for: Duration,
    ) -> Result<connect_attachments::domain::PresignedUrl, ObjectError> {
        self.s3
            .presign_upload(key, content_type, size, now, valid_for)
            .await
    }

    async fn presign_download(
        &self,
        key: &ObjectKey,
        download: connect_attachments::objects::Download<'_>,
        now: SystemTime,
        valid_for: Duration,
    ) -> Result<connect_attachments::domain::PresignedUrl, ObjectError> {
        self.s3
            .presign_download(key, download, now, valid_for)
            .await
    }

    async fn peek(
        &self,
        key: &ObjectKey,
        first: u64,
    ) -> Result<Option<connect_attachments::domain::StoredObject>, ObjectError> {
        match &self.head {
            Some(object) => Ok(Some(object.clone())),
            None => self.s3.peek(key, first).await,
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), ObjectError> {
        if self.failing_delete.as_ref() == Some(key) {
            return Err(ObjectError::Throttled);
        }
        self.s3.delete(key).await
    }
}
