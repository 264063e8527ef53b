//! Parsing and validation of a CompleteAttachmentUpload request.
//!
//! This is the edge: the connection token and the ClientToken are hashed here and only their
//! hashes travel further, so no secret can reach a log or a table by accident.

use std::fmt;

use lambda_http::http::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The header that carries the ConnectionToken.
pub const BEARER_HEADER: &str = "x-amz-bearer";
/// Bodies above this size are refused before any parsing (a valid request is under 2 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const MAX_CONNECTION_TOKEN_CHARS: usize = 1000;
pub const MAX_ATTACHMENT_ID_CHARS: usize = 256;
pub const MAX_CLIENT_TOKEN_CHARS: usize = 500;
pub const ATTACHMENT_IDS_PER_REQUEST: usize = 1;

/// Lowercase hex SHA-256 of a ConnectionToken: the key of the connections table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

/// Lowercase hex SHA-256 of a ClientToken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTokenHash(String);

/// Lowercase hex SHA-256 of the request's parameters (its AttachmentIds): what a replay must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFingerprint(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentId(String);

macro_rules! string_newtype {
    ($($name:ident),*) => {$(
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    )*};
}
string_newtype!(TokenHash, ClientTokenHash, RequestFingerprint, AttachmentId);

impl TokenHash {
    pub fn of(connection_token: &str) -> Self {
        Self(sha256_hex(connection_token.as_bytes()))
    }
}

impl ClientTokenHash {
    pub fn of(client_token: &str) -> Self {
        Self(sha256_hex(client_token.as_bytes()))
    }
}

impl RequestFingerprint {
    pub fn of(attachment_id: &AttachmentId) -> Self {
        Self(sha256_hex(attachment_id.as_str().as_bytes()))
    }
}

impl AttachmentId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A validated request, secrets already hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteRequest {
    pub token_hash: TokenHash,
    pub attachment_id: AttachmentId,
    pub client_token_hash: ClientTokenHash,
    pub fingerprint: RequestFingerprint,
}

/// The member a validation error is about, named as AWS names it in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    ConnectionToken,
    AttachmentIds,
    /// One item of AttachmentIds, by its zero-based index.
    AttachmentId(usize),
    ClientToken,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectionToken => f.write_str("connectionToken"),
            Self::AttachmentIds => f.write_str("attachmentIds"),
            Self::AttachmentId(index) => write!(f, "attachmentIds.{}.member", index + 1),
            Self::ClientToken => f.write_str("clientToken"),
        }
    }
}

/// One broken constraint. Never carries the offending value: it may be a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    Missing(Field),
    NotAString(Field),
    NotAList(Field),
    NotUtf8(Field),
    TooShort(Field, usize),
    TooLong(Field, usize),
    BodyTooLarge,
    BodyNotJson,
    BodyNotAnObject,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let constraint = |f: &mut fmt::Formatter<'_>, field: &Field, rule: fmt::Arguments<'_>| {
            write!(
                f,
                "Value at '{field}' failed to satisfy constraint: Member {rule}"
            )
        };
        match self {
            Self::Missing(field) => write!(
                f,
                "Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ),
            Self::NotAString(field) => constraint(f, field, format_args!("must be a string")),
            Self::NotAList(field) => {
                constraint(f, field, format_args!("must be a list of strings"))
            }
            Self::NotUtf8(field) => constraint(f, field, format_args!("must be valid UTF-8")),
            Self::TooShort(field, min) => constraint(
                f,
                field,
                format_args!("must have length greater than or equal to {min}"),
            ),
            Self::TooLong(field, max) => constraint(
                f,
                field,
                format_args!("must have length less than or equal to {max}"),
            ),
            Self::BodyTooLarge => write!(
                f,
                "Request body must not be larger than {MAX_BODY_BYTES} bytes"
            ),
            Self::BodyNotJson => f.write_str("Request body must be valid JSON"),
            Self::BodyNotAnObject => f.write_str("Request body must be a JSON object"),
        }
    }
}

/// Parses and validates the header and body; reports every broken constraint at once, as AWS does.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<CompleteRequest, ApiError> {
    match (connection_token(headers), body_members(body)) {
        (Ok(token), Ok((attachment_id, client_token_hash))) => Ok(CompleteRequest {
            token_hash: TokenHash::of(token),
            fingerprint: RequestFingerprint::of(&attachment_id),
            attachment_id,
            client_token_hash,
        }),
        (token, members) => Err(ApiError::Validation(
            token
                .err()
                .into_iter()
                .chain(members.err().into_iter().flatten())
                .collect(),
        )),
    }
}

fn body_members(body: &[u8]) -> Result<(AttachmentId, ClientTokenHash), Vec<Violation>> {
    let object = body_object(body).map_err(|violation| vec![violation])?;
    match (
        attachment_id(object.get("AttachmentIds")),
        client_token(object.get("ClientToken")).map(ClientTokenHash::of),
    ) {
        (Ok(attachment_id), Ok(client_token_hash)) => Ok((attachment_id, client_token_hash)),
        (attachment_id, client_token) => Err([attachment_id.err(), client_token.err()]
            .into_iter()
            .flatten()
            .collect()),
    }
}

fn connection_token(headers: &HeaderMap) -> Result<&str, Violation> {
    let field = Field::ConnectionToken;
    let value = headers
        .get(BEARER_HEADER)
        .ok_or(Violation::Missing(field))?;
    let token = std::str::from_utf8(value.as_bytes()).map_err(|_| Violation::NotUtf8(field))?;
    check_length(field, token, MAX_CONNECTION_TOKEN_CHARS)?;
    Ok(token)
}

fn body_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, Violation> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Violation::BodyTooLarge);
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Violation::BodyNotAnObject),
        Err(_) => Err(Violation::BodyNotJson),
    }
}

fn attachment_id(value: Option<&Value>) -> Result<AttachmentId, Violation> {
    let field = Field::AttachmentIds;
    let items = match value {
        None | Some(Value::Null) => return Err(Violation::Missing(field)),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(Violation::NotAList(field)),
    };
    if items.len() < ATTACHMENT_IDS_PER_REQUEST {
        return Err(Violation::TooShort(field, ATTACHMENT_IDS_PER_REQUEST));
    }
    if items.len() > ATTACHMENT_IDS_PER_REQUEST {
        return Err(Violation::TooLong(field, ATTACHMENT_IDS_PER_REQUEST));
    }
    let item = Field::AttachmentId(0);
    let id = match &items[0] {
        Value::String(id) => id,
        Value::Null => return Err(Violation::Missing(item)),
        _ => return Err(Violation::NotAString(item)),
    };
    check_length(item, id, MAX_ATTACHMENT_ID_CHARS)?;
    Ok(AttachmentId::new(id.as_str()))
}

fn client_token(value: Option<&Value>) -> Result<&str, Violation> {
    let field = Field::ClientToken;
    let token = match value {
        None | Some(Value::Null) => return Err(Violation::Missing(field)),
        Some(Value::String(token)) => token,
        Some(_) => return Err(Violation::NotAString(field)),
    };
    check_length(field, token, MAX_CLIENT_TOKEN_CHARS)?;
    Ok(token)
}

/// Lengths are counted in Unicode scalar values, as the service model's constraints are.
fn check_length(field: Field, value: &str, max: usize) -> Result<(), Violation> {
    if value.is_empty() {
        return Err(Violation::TooShort(field, 1));
    }
    if value.chars().count() > max {
        return Err(Violation::TooLong(field, max));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(token: Option<&[u8]>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(token) = token {
            headers.insert(
                BEARER_HEADER,
                lambda_http::http::HeaderValue::from_bytes(token).unwrap(),
            );
        }
        headers
    }

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

    fn valid_body() -> Vec<u8> {
        body(json!(["attachment-1"]), json!("client-token"))
    }

    #[test]
    fn a_valid_request_is_parsed_and_its_secrets_hashed() {
        let request = parse(&headers(Some(b"secret")), &valid_body()).unwrap();
        assert_eq!(request.attachment_id.as_str(), "attachment-1");
        assert_eq!(
            request.token_hash.as_str(),
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
        assert_eq!(
            request.client_token_hash,
            ClientTokenHash::of("client-token")
        );
        assert_eq!(
            request.fingerprint,
            RequestFingerprint::of(&request.attachment_id)
        );
        assert!(!format!("{request:?}").contains("secret"));
    }

    #[test]
    fn connection_token_constraints() {
        let field = Field::ConnectionToken;
        assert_eq!(violations(None, &valid_body()), [Violation::Missing(field)]);
        assert_eq!(
            violations(Some(b""), &valid_body()),
            [Violation::TooShort(field, 1)]
        );
        let max = "t".repeat(1000);
        assert!(parse(&headers(Some(max.as_bytes())), &valid_body()).is_ok());
        let over = "t".repeat(1001);
        assert_eq!(
            violations(Some(over.as_bytes()), &valid_body()),
            [Violation::TooLong(field, 1000)]
        );
        assert_eq!(
            violations(Some(b"\xff\xfe"), &valid_body()),
            [Violation::NotUtf8(field)]
        );
    }

    #[test]
    fn connection_token_length_is_counted_in_characters() {
        let thousand_chars = "é".repeat(1000); // 2000 bytes
        assert!(parse(&headers(Some(thousand_chars.as_bytes())), &valid_body()).is_ok());
    }

    #[test]
    fn attachment_ids_constraints() {
        let token = Some(&b"t"[..]);
        let list = Field::AttachmentIds;
        let item = Field::AttachmentId(0);
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
        let missing = json!({ "ClientToken": "c" }).to_string();
        assert_eq!(
            violations(token, missing.as_bytes()),
            [Violation::Missing(list)]
        );
    }

    #[test]
    fn client_token_constraints() {
        let token = Some(&b"t"[..]);
        let field = Field::ClientToken;
        let cases = [
            (json!(null), Violation::Missing(field)),
            (json!(42), Violation::NotAString(field)),
            (json!(["c"]), Violation::NotAString(field)),
            (json!(""), Violation::TooShort(field, 1)),
            (json!("c".repeat(501)), Violation::TooLong(field, 500)),
        ];
        for (client_token, expected) in cases {
            let body = body(json!(["a"]), client_token.clone());
            assert_eq!(violations(token, &body), [expected], "{client_token}");
        }
        assert!(parse(&headers(token), &body(json!(["a"]), json!("c".repeat(500)))).is_ok());
    }

    #[test]
    fn any_string_within_limits_is_a_valid_client_token_and_never_normalised() {
        let token = Some(&b"t"[..]);
        let with_controls =
            parse(&headers(token), &body(json!(["a"]), json!("\u{0}\n\t"))).unwrap();
        let composed = parse(&headers(token), &body(json!(["a"]), json!("\u{e9}"))).unwrap();
        let decomposed = parse(&headers(token), &body(json!(["a"]), json!("e\u{301}"))).unwrap();
        assert_eq!(
            with_controls.client_token_hash,
            ClientTokenHash::of("\u{0}\n\t")
        );
        assert_ne!(composed.client_token_hash, decomposed.client_token_hash);
    }

    #[test]
    fn body_constraints() {
        let token = Some(&b"t"[..]);
        assert_eq!(violations(token, b"not json"), [Violation::BodyNotJson]);
        assert_eq!(violations(token, b""), [Violation::BodyNotJson]);
        assert_eq!(violations(token, b"[]"), [Violation::BodyNotAnObject]);
        assert_eq!(violations(token, b"\"s\""), [Violation::BodyNotAnObject]);
        let mut large = valid_body();
        large.truncate(large.len() - 1);
        large.extend(format!(",\"Pad\":\"{}\"}}", " ".repeat(MAX_BODY_BYTES)).bytes());
        assert_eq!(violations(token, &large), [Violation::BodyTooLarge]);
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        let body = body(json!([]), json!(""));
        assert_eq!(
            violations(None, &body),
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

    #[test]
    fn messages_name_the_field_as_aws_does() {
        assert_eq!(
            Violation::TooLong(Field::ClientToken, 500).to_string(),
            "Value at 'clientToken' failed to satisfy constraint: Member must have length less than or equal to 500"
        );
        assert_eq!(
            Violation::Missing(Field::AttachmentIds).to_string(),
            "Value null at 'attachmentIds' failed to satisfy constraint: Member must not be null"
        );
        assert_eq!(
            Violation::TooShort(Field::AttachmentId(0), 1).to_string(),
            "Value at 'attachmentIds.1.member' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
    }
}
