//! StartAttachmentUpload: declare a file, get a pre-signed S3 `PUT` for it.
//!
//! One transaction creates the `IN_PROGRESS` record, the idempotency record and the contact's
//! started-attachments count; the URL is then signed locally. A replay answers the same
//! attachment with a freshly signed URL.

use std::time::SystemTime;

use lambda_http::http::HeaderMap;

use super::Answer;
use crate::budget::Budget;
use crate::domain::{
    AttachmentId, ClientTokenHash, DeclaredUpload, Fingerprint, ObjectKey, TokenHash,
};
use crate::error::ApiError;
use crate::objects::Objects;
use crate::request::{self, Body, Violations};
use crate::service::{Service, Uploads};
use crate::store::{Caller, Start, Store, StoreError};
use crate::validation::{Field, Violation};

pub const MAX_ATTACHMENT_NAME_CHARS: usize = 256;
pub const MAX_CONTENT_TYPE_CHARS: usize = 255;

/// A validated start, secrets already hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartRequest {
    pub token_hash: TokenHash,
    pub upload: DeclaredUpload,
    pub client_token_hash: ClientTokenHash,
    pub fingerprint: Fingerprint,
}

/// Parses and validates the header and body; reports every broken constraint at once.
pub fn parse(
    headers: &HeaderMap,
    body: &[u8],
    uploads: &Uploads,
) -> Result<StartRequest, ApiError> {
    let mut violations = Violations::default();
    let token_hash = violations.check(request::connection_token(headers));
    let members = violations.check(Body::parse(body)).map(|body| {
        (
            violations.check(
                body.string(Field::AttachmentName, MAX_ATTACHMENT_NAME_CHARS)
                    .map(str::to_owned),
            ),
            violations.check(size(&body, uploads.max_size_bytes)),
            violations.check(content_type(&body, uploads).map(str::to_owned)),
            violations.check(body.client_token()),
        )
    });
    match (token_hash, members) {
        (
            Some(token_hash),
            Some((Some(name), Some(size), Some(content_type), Some(client_token_hash))),
        ) => {
            let upload = DeclaredUpload {
                name,
                size,
                content_type,
            };
            Ok(StartRequest {
                token_hash,
                fingerprint: Fingerprint::of_start(&upload),
                upload,
                client_token_hash,
            })
        }
        _ => Err(violations.into_error()),
    }
}

fn size(body: &Body, max: u64) -> Result<u64, Violation> {
    let field = Field::AttachmentSizeInBytes;
    body.integer(field, 1, max)?
        .ok_or(Violation::Missing(field))
}

fn content_type<'a>(body: &'a Body, uploads: &Uploads) -> Result<&'a str, Violation> {
    let content_type = body.string(Field::ContentType, MAX_CONTENT_TYPE_CHARS)?;
    if uploads.allows(content_type) {
        Ok(content_type)
    } else {
        Err(Violation::UnsupportedContentType)
    }
}

impl<S: Store, O: Objects> Service<S, O> {
    pub async fn start(
        &self,
        request: &StartRequest,
        now: SystemTime,
        budget: &mut Budget,
    ) -> Result<Answer, ApiError> {
        let connection = self
            .connections
            .authenticate(&self.store, &request.token_hash, now, budget)
            .await?;
        // Drawn once, so that every retry of the transaction creates the same attachment.
        let attachment_id = AttachmentId::generate();
        let start = Start {
            caller: Caller {
                token_hash: &request.token_hash,
                connection: &connection,
                client_token_hash: &request.client_token_hash,
                fingerprint: &request.fingerprint,
                now,
                limits: self.settings.limits,
            },
            attachment_id: &attachment_id,
            upload: &request.upload,
        };
        let started = self.retrying(budget, || self.store.start(&start)).await;
        self.connections.refused(&request.token_hash, &started);
        let started = started.map_err(|error| match error {
            // The model has no ConflictException here: the reuse is a validation error.
            StoreError::ClientTokenReused => {
                ApiError::Validation(vec![Violation::ClientTokenReused])
            }
            error => error.into(),
        })?;
        let key = ObjectKey::new(&connection.contact_id, &started.attachment_id);
        let upload = self
            .objects
            .presign_upload(
                &key,
                &request.upload.content_type,
                request.upload.size,
                now,
                self.settings.uploads.url_ttl,
            )
            .await?;
        Ok(Answer::Started {
            attachment_id: started.attachment_id,
            upload,
            outcome: started.outcome,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::headers;
    use crate::service::Settings;
    use serde_json::{json, Value};

    fn body(name: Value, size: Value, content_type: Value, client_token: Value) -> Vec<u8> {
        json!({
            "AttachmentName": name,
            "AttachmentSizeInBytes": size,
            "ContentType": content_type,
            "ClientToken": client_token,
        })
        .to_string()
        .into_bytes()
    }

    fn violations(body: &[u8]) -> Vec<Violation> {
        match parse(&headers(Some(b"t")), body, &Settings::default().uploads) {
            Err(ApiError::Validation(violations)) => violations,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_start_is_parsed_with_its_type_as_sent() {
        let body = body(
            json!("cat.png"),
            json!(1234),
            json!("Image/PNG"),
            json!("c"),
        );
        let request = parse(&headers(Some(b"t")), &body, &Settings::default().uploads).unwrap();
        assert_eq!(request.upload.content_type, "Image/PNG");
        assert_eq!(request.upload.size, 1234);
        assert_eq!(request.fingerprint, Fingerprint::of_start(&request.upload));
    }

    #[test]
    fn every_member_is_checked_at_once_with_exact_limits() {
        let max = Settings::default().uploads.max_size_bytes;
        assert_eq!(
            violations(&body(json!(""), json!(0), json!("text/html"), json!(""))),
            [
                Violation::TooShort(Field::AttachmentName, 1),
                Violation::BelowMinimum(Field::AttachmentSizeInBytes, 1),
                Violation::UnsupportedContentType,
                Violation::TooShort(Field::ClientToken, 1),
            ]
        );
        assert_eq!(
            violations(&body(
                json!("n".repeat(257)),
                json!(max + 1),
                json!("t".repeat(256)),
                json!("c")
            )),
            [
                Violation::TooLong(Field::AttachmentName, 256),
                Violation::AboveMaximum(Field::AttachmentSizeInBytes, max),
                Violation::TooLong(Field::ContentType, 255),
            ]
        );
        let at_limits = body(
            json!("n".repeat(256)),
            json!(max),
            json!("text/plain"),
            json!("c"),
        );
        assert!(parse(
            &headers(Some(b"t")),
            &at_limits,
            &Settings::default().uploads
        )
        .is_ok());
        assert_eq!(
            violations(br#"{"AttachmentSizeInBytes": 1.5}"#),
            [
                Violation::Missing(Field::AttachmentName),
                Violation::NotAnInteger(Field::AttachmentSizeInBytes),
                Violation::Missing(Field::ContentType),
                Violation::Missing(Field::ClientToken),
            ]
        );
    }

    #[test]
    fn a_type_with_parameters_is_not_on_the_list() {
        let body = body(
            json!("a"),
            json!(1),
            json!("text/plain; charset=utf-8"),
            json!("c"),
        );
        assert_eq!(violations(&body), [Violation::UnsupportedContentType]);
    }
}
