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
const MAX_CONNECTION_TOKEN_CHARS: usize = 1000;
const MAX_ATTACHMENT_ID_CHARS: usize = 256;
const MAX_CLIENT_TOKEN_CHARS: usize = 500;
const ATTACHMENT_IDS_PER_REQUEST: usize = 1;

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
