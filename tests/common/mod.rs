//! Shared set-up of the integration tests: a DynamoDB Local client, unique ids per test, and
//! the function's handler wired exactly as `main` wires it.
#![allow(dead_code)] // each test binary uses its own part of this module

pub mod runtime_api;
pub mod server;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use complete_attachment_upload::http::{Handler, OPERATION_PATH};
use complete_attachment_upload::service::{Service, Settings};
use complete_attachment_upload::store::dynamodb::Tables;
use complete_attachment_upload::store::DynamoDbStore;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The DynamoDB Local that `make test` started. A test that cannot reach it fails: it never skips.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect(
        "AWS_ENDPOINT_URL_DYNAMODB is not set: run the integration tests with `make test`, \
         which starts DynamoDB Local and creates the tables",
    )
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

pub fn tables() -> Tables {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    Tables {
        connections: var("CONNECTIONS_TABLE", "connections"),
        attachments: var("ATTACHMENTS_TABLE", "attachments"),
        idempotency: var("IDEMPOTENCY_TABLE", "idempotency"),
    }
}

/// A client like the function's, pointed at `endpoint`.
pub fn client_for(endpoint: &str, timeout: Duration) -> Client {
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(timeout.min(Duration::from_secs(1)))
        .operation_attempt_timeout(timeout / 2)
        .operation_timeout(timeout)
        .build();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .timeout_config(timeouts)
        .build();
    Client::from_conf(config)
}

pub fn client() -> Client {
    client_for(&endpoint(), Duration::from_secs(10))
}

pub fn settings() -> Settings {
    Settings::default()
}

pub fn handler_with(client: Client, settings: Settings) -> Arc<Handler<DynamoDbStore>> {
    Arc::new(Handler::new(Service::new(
        DynamoDbStore::new(client, tables()),
        settings,
    )))
}

pub fn handler() -> Arc<Handler<DynamoDbStore>> {
    handler_with(client(), settings())
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}", fastrand::u64(..))
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

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

    pub async fn store_connection(&self, expires_at: i64) {
        client()
            .put_item()
            .table_name(tables().connections)
            .item("TokenHash", s(&sha256_hex(&self.token)))
            .item("ParticipantId", s(&self.participant_id))
            .item("ContactId", s(&self.contact_id))
            .item("ExpiresAt", AttributeValue::N(expires_at.to_string()))
            .send()
            .await
            .expect("store connection");
    }

    pub async fn delete_connection(&self) {
        client()
            .delete_item()
            .table_name(tables().connections)
            .key("TokenHash", s(&sha256_hex(&self.token)))
            .send()
            .await
            .expect("delete connection");
    }

    /// An IN_PROGRESS attachment uploaded by this participant.
    pub async fn attachment(&self) -> String {
        let id = unique("attachment");
        put_attachment(&id, &self.participant_id, &self.contact_id, "IN_PROGRESS").await;
        id
    }

    pub fn request(&self, attachment_id: &str, client_token: &str) -> Request {
        request(
            Some(&self.token),
            json!({ "AttachmentIds": [attachment_id], "ClientToken": client_token }).to_string(),
        )
    }

    pub async fn idempotency_record(
        &self,
        client_token: &str,
    ) -> Option<HashMap<String, AttributeValue>> {
        let key = format!(
            "IDEMPOTENCY#{}#{}",
            self.participant_id,
            sha256_hex(client_token)
        );
        get_item(&tables().idempotency, "IdempotencyKey", &key).await
    }
}

pub async fn put_attachment(id: &str, participant_id: &str, contact_id: &str, status: &str) {
    client()
        .put_item()
        .table_name(tables().attachments)
        .item("AttachmentId", s(id))
        .item("ParticipantId", s(participant_id))
        .item("ContactId", s(contact_id))
        .item("Status", s(status))
        .item("AttachmentName", s("cat.png"))
        .send()
        .await
        .expect("store attachment");
}

pub async fn get_item(
    table: &str,
    key: &str,
    value: &str,
) -> Option<HashMap<String, AttributeValue>> {
    client()
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
    get_item(&tables().attachments, "AttachmentId", id)
        .await
        .expect("attachment exists")
}

pub async fn attachment_status(id: &str) -> String {
    attachment(id).await["Status"]
        .as_s()
        .expect("Status is S")
        .clone()
}

/// The contact's quota counter (0 when it has never been written).
pub async fn completed_count(contact_id: &str) -> u32 {
    get_item(
        &tables().idempotency,
        "IdempotencyKey",
        &format!("QUOTA#{contact_id}"),
    )
    .await
    .map_or(0, |item| {
        item["CompletedCount"]
            .as_n()
            .expect("N")
            .parse()
            .expect("number")
    })
}

pub async fn set_completed_count(contact_id: &str, count: u32) {
    client()
        .put_item()
        .table_name(tables().idempotency)
        .item("IdempotencyKey", s(&format!("QUOTA#{contact_id}")))
        .item("CompletedCount", AttributeValue::N(count.to_string()))
        .send()
        .await
        .expect("set counter");
}

/// A request as API Gateway hands it to the function (no request context: as a local server would).
pub fn request(token: Option<&str>, body: impl Into<Body>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("https://example.com{OPERATION_PATH}"))
        .header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("X-Amz-Bearer", token);
    }
    builder.body(body.into()).expect("request")
}

pub fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
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

/// Sends all the requests at once; their answers, in the order of the requests.
pub async fn handle_concurrently(
    handler: &Arc<Handler<DynamoDbStore>>,
    requests: Vec<Request>,
) -> Vec<(u16, Option<String>)> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let handler = Arc::clone(handler);
            tokio::spawn(async move { status_and_type(&handler.handle(request).await) })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("the handler never panics"));
    }
    answers
}

pub fn status_and_type(response: &Response<Body>) -> (u16, Option<String>) {
    let (status, error_type, _) = parts(response);
    (status, error_type)
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

/// A mocked `GetItem` that always finds a live connection.
pub fn live_connection() -> aws_smithy_mocks::Rule {
    lookups_answering(200, connection_item_json("p", "c"))
}

/// A DynamoDB JSON `GetItem` answer holding a live connection.
pub fn connection_item_json(participant_id: &str, contact_id: &str) -> String {
    json!({ "Item": {
        "ParticipantId": { "S": participant_id },
        "ContactId": { "S": contact_id },
        "ExpiresAt": { "N": (now() + 3600).to_string() },
    }})
    .to_string()
}

/// A DynamoDB JSON error body.
pub fn aws_error(code: &str) -> String {
    json!({ "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": "injected" })
        .to_string()
}

/// Log output captured in memory, in the function's own JSON format.
#[derive(Clone, Default)]
pub struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
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

impl Captured {
    /// Captures this thread's logs (a current-thread test runtime: all of the test) at `filter`.
    pub fn install(&self, filter: &str) -> tracing::subscriber::DefaultGuard {
        let filter = complete_attachment_upload::logging::filter(filter).expect("a valid filter");
        tracing::subscriber::set_default(complete_attachment_upload::logging::subscriber(
            filter,
            self.clone(),
        ))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The per-request lines, parsed.
    pub fn request_lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).expect("every log line is JSON"))
            .filter(|line: &serde_json::Value| line.get("request_id").is_some())
            .collect()
    }

    /// The `dynamodb_calls` of each request logged so far, then forgets them.
    pub fn take_call_counts(&self) -> Vec<u64> {
        let counts = self
            .request_lines()
            .iter()
            .map(|l| l["dynamodb_calls"].as_u64().unwrap())
            .collect();
        self.0.lock().unwrap().clear();
        counts
    }
}
