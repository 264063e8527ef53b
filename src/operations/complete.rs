//! CompleteAttachmentUpload: confirm that the file was uploaded, then approve it.
//!
//! `HeadObject` first ("confirm that the attachment has been uploaded"), then one transaction that
//! approves the attachment, records S3's `ETag`, counts it toward the quota and records the
//! idempotency item. When S3 holds nothing, one transactional read tells a replay from a refusal.

use std::time::SystemTime;

use lambda_http::http::HeaderMap;
use serde_json::Value;

use super::Answer;
use crate::budget::Budget;
use crate::domain::{AttachmentId, ClientTokenHash, Fingerprint, ObjectKey, TokenHash};
use crate::error::ApiError;
use crate::objects::Objects;
use crate::request::{self, Body, Violations};
use crate::service::Service;
use crate::store::{Caller, Completion, Store, StoreError};
use crate::validation::{Field, Violation};

pub const MAX_ATTACHMENT_ID_CHARS: usize = 256;
pub const ATTACHMENT_IDS_PER_REQUEST: usize = 1;

/// A validated completion, secrets already hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteRequest {
    pub token_hash: TokenHash,
    pub attachment_id: AttachmentId,
    pub client_token_hash: ClientTokenHash,
    pub fingerprint: Fingerprint,
}

/// Parses and validates the header and body; reports every broken constraint at once.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<CompleteRequest, ApiError> {
    let mut violations = Violations::default();
    let token_hash = violations.check(request::connection_token(headers));
    let members = violations.check(Body::parse(body)).map(|body| {
        (
            violations.check(attachment_id(body.get(Field::AttachmentIds))),
            violations.check(body.client_token()),
        )
    });
    match (token_hash, members) {
        (Some(token_hash), Some((Some(attachment_id), Some(client_token_hash)))) => {
            Ok(CompleteRequest {
                token_hash,
                fingerprint: Fingerprint::of_completion(&attachment_id),
                attachment_id,
                client_token_hash,
            })
        }
        _ => Err(violations.into_error()),
    }
}

fn attachment_id(value: Option<&Value>) -> Result<AttachmentId, Violation> {
    let field = Field::AttachmentIds;
    let items = match value {
        None => return Err(Violation::Missing(field)),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(Violation::NotAList(field)),
    };
    if items.len() < ATTACHMENT_IDS_PER_REQUEST {
        return Err(Violation::TooShort(field, ATTACHMENT_IDS_PER_REQUEST));
    }
    if items.len() > ATTACHMENT_IDS_PER_REQUEST {
        return Err(Violation::TooLong(field, ATTACHMENT_IDS_PER_REQUEST));
    }
    let id = request::string_value(
        Field::AttachmentIdsItem(0),
        &items[0],
        MAX_ATTACHMENT_ID_CHARS,
    )?;
    Ok(AttachmentId::new(id))
}

impl<S: Store, O: Objects> Service<S, O> {
    pub async fn complete(
        &self,
        request: &CompleteRequest,
        now: SystemTime,
        budget: &mut Budget,
    ) -> Result<Answer, ApiError> {
        let connection = self
            .connections
            .authenticate(&self.store, &request.token_hash, now, budget)
            .await?;
        let caller = Caller {
            token_hash: &request.token_hash,
            connection: &connection,
            client_token_hash: &request.client_token_hash,
            fingerprint: &request.fingerprint,
            now,
            limits: self.settings.limits,
        };
        // An attachment of another contact has no object under this contact's key: the read
        // below then answers 403 for it, as the contract's order wants.
        let key = ObjectKey::new(&connection.contact_id, &request.attachment_id);
        let object = budget.s3(self.objects.head(&key)).await?;
        let result = match &object {
            None => {
                self.retrying(budget, || {
                    self.store.replay_or_refuse(&caller, &request.attachment_id)
                })
                .await
            }
            Some(object) => {
                let mut expected_content_type = object.content_type.clone();
                loop {
                    let completion = Completion {
                        caller,
                        attachment_id: &request.attachment_id,
                        object,
                        expected_content_type: &expected_content_type,
                    };
                    match self
                        .retrying(budget, || self.store.complete(&completion))
                        .await
                    {
                        // The record spells the type in another case than S3: the same type,
                        // so approve it as the record spells it. Once: the next answer is final.
                        Err(StoreError::ContentTypeCase(declared))
                            if declared != expected_content_type =>
                        {
                            expected_content_type = declared;
                        }
                        result => break result,
                    }
                }
            }
        };
        self.connections.refused(&request.token_hash, &result);
        Ok(Answer::Completed(result?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::headers;
    use serde_json::json;

    fn body(attachment_ids: Value, client_token: Value) -> Vec<u8> {
        json!({ "AttachmentIds": attachment_ids, "ClientToken": client_token })
            .to_string()
            .into_bytes()
    }

    fn violations(token: Option<&[u8]>, body: &[u8]) -> Vec<Violation> {
        match parse(&headers(token), body) {
            Err(ApiError::Validation(violations)) => violations,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_is_parsed_and_its_secrets_hashed() {
        let request = parse(
            &headers(Some(b"secret")),
            &body(json!(["attachment-1"]), json!("client-token")),
        )
        .unwrap();
        assert_eq!(request.attachment_id.as_str(), "attachment-1");
        assert_eq!(request.token_hash, TokenHash::of("secret"));
        assert_eq!(
            request.client_token_hash,
            ClientTokenHash::of("client-token")
        );
        assert_eq!(
            request.fingerprint,
            Fingerprint::of_completion(&request.attachment_id)
        );
        assert!(!format!("{request:?}").contains("secret"));
    }

    #[test]
    fn attachment_ids_constraints() {
        let token = Some(&b"t"[..]);
        let list = Field::AttachmentIds;
        let item = Field::AttachmentIdsItem(0);
        let cases = [
            (json!(null), Violation::Missing(list)),
            (json!("attachment-1"), Violation::NotAList(list)),
            (json!({"0": "a"}), Violation::NotAList(list)),
            (json!([]), Violation::TooShort(list, 1)),
            (json!(["a", "b"]), Violation::TooLong(list, 1)),
            (json!([null]), Violation::Missing(item)),
            (json!([1]), Violation::NotAString(item)),
            (json!([["a"]]), Violation::NotAString(item)),
            (json!([""]), Violation::TooShort(item, 1)),
            (json!(["a".repeat(257)]), Violation::TooLong(item, 256)),
        ];
        for (ids, expected) in cases {
            assert_eq!(
                violations(token, &body(ids.clone(), json!("c"))),
                [expected],
                "{ids}"
            );
        }
        assert!(parse(&headers(token), &body(json!(["a".repeat(256)]), json!("c"))).is_ok());
        assert!(parse(&headers(token), &body(json!(["é".repeat(256)]), json!("c"))).is_ok());
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        assert_eq!(
            violations(None, &body(json!([]), json!(""))),
            [
                Violation::Missing(Field::ConnectionToken),
                Violation::TooShort(Field::AttachmentIds, 1),
                Violation::TooShort(Field::ClientToken, 1),
            ]
        );
    }

    #[test]
    fn unknown_fields_are_ignored_and_the_last_duplicate_wins() {
        let body =
            br#"{"AttachmentIds":["x"],"ClientToken":"c","Other":{"a":[1]},"AttachmentIds":["a"]}"#;
        let request = parse(&headers(Some(b"t")), body).unwrap();
        assert_eq!(request.attachment_id.as_str(), "a");
    }
}
