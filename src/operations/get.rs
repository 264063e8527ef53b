//! GetAttachment: a pre-signed S3 `GET` of an approved attachment, for any participant of its
//! contact.
//!
//! One `TransactGetItems` reads the connection and the attachment together, so a revoked
//! connection is refused at once, whatever this container remembers; the URL is signed locally.

use std::time::{Duration, SystemTime};

use lambda_http::http::HeaderMap;

use super::Answer;
use crate::budget::Budget;
use crate::domain::{AttachmentId, ObjectKey, TokenHash};
use crate::error::ApiError;
use crate::objects::{Download, Objects};
use crate::request::{self, Body, Violations};
use crate::service::Service;
use crate::store::Store;
use crate::validation::Field;

pub const MAX_ATTACHMENT_ID_CHARS: usize = 256;
pub const MIN_URL_EXPIRY_SECONDS: u64 = 5;
pub const MAX_URL_EXPIRY_SECONDS: u64 = 300;
pub const DEFAULT_URL_EXPIRY_SECONDS: u64 = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequest {
    pub token_hash: TokenHash,
    pub attachment_id: AttachmentId,
    pub url_expiry: Duration,
}

/// Parses and validates the header and body; reports every broken constraint at once.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<GetRequest, ApiError> {
    let mut violations = Violations::default();
    let token_hash = violations.check(request::connection_token(headers));
    let members = violations.check(Body::parse(body)).map(|body| {
        (
            violations.check(
                body.string(Field::AttachmentId, MAX_ATTACHMENT_ID_CHARS)
                    .map(AttachmentId::new),
            ),
            violations.check(body.integer(
                Field::UrlExpiryInSeconds,
                MIN_URL_EXPIRY_SECONDS,
                MAX_URL_EXPIRY_SECONDS,
            )),
        )
    });
    match (token_hash, members) {
        (Some(token_hash), Some((Some(attachment_id), Some(expiry)))) => Ok(GetRequest {
            token_hash,
            attachment_id,
            url_expiry: Duration::from_secs(expiry.unwrap_or(DEFAULT_URL_EXPIRY_SECONDS)),
        }),
        _ => Err(violations.into_error()),
    }
}

impl<S: Store, O: Objects> Service<S, O> {
    pub async fn get(
        &self,
        request: &GetRequest,
        now: SystemTime,
        budget: &mut Budget,
    ) -> Result<Answer, ApiError> {
        let attachment = self
            .retrying(budget, || {
                self.store
                    .approved_attachment(&request.token_hash, &request.attachment_id, now)
            })
            .await?;
        let key = ObjectKey::new(&attachment.contact_id, &request.attachment_id);
        let download = Download {
            file_name: &attachment.name,
            content_type: &attachment.content_type,
        };
        let download = self
            .objects
            .presign_download(&key, download, now, request.url_expiry)
            .await?;
        Ok(Answer::Attachment {
            download,
            size: attachment.size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::headers;
    use crate::validation::Violation;

    fn parsed(body: &str) -> Result<GetRequest, Vec<Violation>> {
        parse(&headers(Some(b"t")), body.as_bytes()).map_err(|error| match error {
            ApiError::Validation(violations) => violations,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn the_url_expiry_defaults_to_300_seconds_and_is_bounded() {
        let request = parsed(r#"{"AttachmentId":"a"}"#).unwrap();
        assert_eq!(request.url_expiry, Duration::from_secs(300));
        let request = parsed(r#"{"AttachmentId":"a","UrlExpiryInSeconds":5}"#).unwrap();
        assert_eq!(request.url_expiry, Duration::from_secs(5));
        assert_eq!(
            parsed(r#"{"AttachmentId":"","UrlExpiryInSeconds":301}"#).unwrap_err(),
            [
                Violation::TooShort(Field::AttachmentId, 1),
                Violation::AboveMaximum(Field::UrlExpiryInSeconds, 300),
            ]
        );
        assert_eq!(
            parsed(r#"{"UrlExpiryInSeconds":"60"}"#).unwrap_err(),
            [
                Violation::Missing(Field::AttachmentId),
                Violation::NotAnInteger(Field::UrlExpiryInSeconds),
            ]
        );
    }
}
