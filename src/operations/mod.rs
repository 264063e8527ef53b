//! The three operations, one module each: parse the request into domain values, run it on the
//! [`Service`], and shape its answer. They share the authentication, the idempotency, the errors
//! and the response writing rather than copying them.

pub mod complete;
pub mod get;
pub mod start;

use std::time::{Instant, SystemTime};

use lambda_http::http::HeaderMap;
use serde_json::{json, Value};

use crate::budget::Budget;
use crate::domain::{iso8601_millis, AttachmentId, Operation, Outcome, PresignedUrl};
use crate::error::ApiError;
use crate::objects::Objects;
use crate::service::Service;
use crate::store::Store;

/// A successful answer of one of the operations.
#[derive(Debug)]
pub enum Answer {
    Started {
        attachment_id: AttachmentId,
        upload: PresignedUrl,
        outcome: Outcome,
    },
    Completed(Outcome),
    Attachment {
        download: PresignedUrl,
        size: u64,
    },
}

impl Answer {
    /// The JSON body, as the service model shapes each output; `None` for an empty one.
    pub fn body(&self) -> Option<Value> {
        match self {
            Self::Started {
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
            Self::Completed(_) => None,
            Self::Attachment { download, size } => Some(json!({
                "Url": download.url,
                "UrlExpiry": iso8601_millis(download.expires_at),
                "AttachmentSizeInBytes": size,
            })),
        }
    }

    pub fn replayed(&self) -> bool {
        matches!(
            self,
            Self::Started {
                outcome: Outcome::Replayed,
                ..
            } | Self::Completed(Outcome::Replayed)
        )
    }
}

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
}

/// Parses and runs one request of `operation`.
pub async fn run<S: Store, O: Objects>(
    service: &Service<S, O>,
    operation: Operation,
    headers: &HeaderMap,
    body: &[u8],
    deadline: Option<Instant>,
) -> Report {
    let now = SystemTime::now();
    let mut budget = Budget::new(deadline);
    let result = match operation {
        Operation::StartAttachmentUpload => {
            match start::parse(headers, body, &service.settings().uploads) {
                Ok(request) => service.start(&request, now, &mut budget).await,
                Err(error) => Err(error),
            }
        }
        Operation::CompleteAttachmentUpload => match complete::parse(headers, body) {
            Ok(request) => service.complete(&request, now, &mut budget).await,
            Err(error) => Err(error),
        },
        Operation::GetAttachment => match get::parse(headers, body) {
            Ok(request) => service.get(&request, now, &mut budget).await,
            Err(error) => Err(error),
        },
    };
    Report {
        operation: Some(operation),
        result,
        dynamodb_calls: budget.dynamodb_calls,
        s3_calls: budget.s3_calls,
    }
}
