//! The answer as API Gateway passes it on: an answer's JSON (as the service model shapes each
//! output), an error's status, `X-Amzn-ErrorType` and message, and the plain fields of the
//! request's log line and metrics record.

use std::time::Duration;

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{json, Value};

use crate::domain::{iso8601_millis, Operation};
use crate::error::ApiError;
use crate::service::Answer;
use crate::telemetry::{self, RequestRecord, UNKNOWN_OPERATION};

const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";
const ERROR_TYPE_HEADER: &str = "X-Amzn-ErrorType";

/// What one request did: which operation, its result, and the calls it took.
#[derive(Debug)]
pub struct Report {
    pub operation: Option<Operation>,
    pub result: Result<Answer, ApiError>,
    pub dynamodb_calls: u32,
    pub s3_calls: u32,
}

impl Report {
    /// A request answered before it reached DynamoDB or S3.
    pub fn without_calls(operation: Option<Operation>, error: ApiError) -> Self {
        Self {
            operation,
            result: Err(error),
            dynamodb_calls: 0,
            s3_calls: 0,
        }
    }

    /// The fields of its log line and metrics record.
    pub fn record<'a>(
        &self,
        request_id: &'a str,
        xray_trace_id: &'a str,
        latency: Duration,
    ) -> RequestRecord<'a> {
        let (outcome, status, replay, error_detail, reason) = match &self.result {
            Ok(answer) => ("OK", 200, Some(answer.replayed()), None, None),
            Err(error) => (
                error.name(),
                error.status(),
                None,
                matches!(error, ApiError::Internal(_)).then(|| telemetry::error_chain(error)),
                match error {
                    ApiError::Conflict(reason) => Some(reason.name()),
                    _ => None,
                },
            ),
        };
        RequestRecord {
            request_id,
            xray_trace_id,
            operation: self.operation.map_or(UNKNOWN_OPERATION, Operation::name),
            outcome,
            status,
            replay,
            latency,
            dynamodb_calls: self.dynamodb_calls,
            s3_calls: self.s3_calls,
            error_detail,
            reason,
        }
    }
}

/// The JSON body of an answer; `None` for an empty one.
fn body(answer: &Answer) -> Option<Value> {
    match answer {
        Answer::Started {
            attachment_id,
            upload,
            ..
        } => {
            let headers: serde_json::Map<String, Value> = upload
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), Value::from(value.as_str())))
                .collect();
            Some(json!({
                "AttachmentId": attachment_id.as_str(),
                "UploadMetadata": {
                    "Url": upload.url,
                    "UrlExpiry": iso8601_millis(upload.expires_at),
                    "HeadersToInclude": headers,
                },
            }))
        }
        Answer::Completed(_) => None,
        Answer::Attachment { download, size } => Some(json!({
            "Url": download.url,
            "UrlExpiry": iso8601_millis(download.expires_at),
            "AttachmentSizeInBytes": size,
        })),
    }
}

/// The HTTP response of a result.
pub fn respond(request_id: &str, result: &Result<Answer, ApiError>) -> Response<Body> {
    let (status, body, error_type) = match result {
        Ok(answer) => (
            StatusCode::OK,
            body(answer).map_or(Body::Empty, |json| Body::Text(json.to_string())),
            None,
        ),
        Err(error) => (
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Body::Text(json!({ "Message": error.to_string() }).to_string()),
            Some(error.name()),
        ),
    };
    let has_body = !matches!(body, Body::Empty);
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    if let Some(name) = error_type {
        headers.insert(ERROR_TYPE_HEADER, HeaderValue::from_static(name));
    }
    if has_body {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if matches!(result, Err(ApiError::MethodNotAllowed)) {
        headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}
