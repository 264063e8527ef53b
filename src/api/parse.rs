//! The parsing of the three operations' requests, on one shared frame: the bearer header, the
//! JSON body, string and integer members with the service model's limits, and the collection of
//! every violation at once, as AWS reports them.
//!
//! This is the edge: the connection token and the ClientToken are hashed here and only their
//! hashes travel further, so no secret can reach a log or a table by accident.

use std::time::Duration;

use lambda_http::http::HeaderMap;
use serde_json::{Map, Value};

use crate::config::Uploads;
use crate::domain::{AttachmentId, ClientTokenHash, DeclaredUpload, Fingerprint, TokenHash};
use crate::error::ApiError;
use crate::service::{CompleteRequest, GetRequest, StartRequest, WriteRequest};
use crate::validation::{Field, Violation};

/// The header that carries the ConnectionToken.
pub const BEARER_HEADER: &str = "x-amz-bearer";
/// Bodies above this size are refused before any parsing (a valid request is under 2 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The service model's limits.
pub const MAX_CONNECTION_TOKEN_CHARS: usize = 1000;
pub const MAX_CLIENT_TOKEN_CHARS: usize = 500;
pub const MAX_ATTACHMENT_NAME_CHARS: usize = 256;
pub const MAX_CONTENT_TYPE_CHARS: usize = 255;
pub const MAX_ATTACHMENT_ID_CHARS: usize = 256;
pub const ATTACHMENT_IDS_PER_REQUEST: usize = 1;
pub const MIN_URL_EXPIRY_SECONDS: u64 = 5;
pub const MAX_URL_EXPIRY_SECONDS: u64 = 300;
/// GetAttachment's `UrlExpiryInSeconds` when the request has none (the model's default).
pub const DEFAULT_URL_EXPIRY_SECONDS: u64 = MAX_URL_EXPIRY_SECONDS;

/// Collects every violation of a request, so that one answer names them all.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// The value, or `None` with its violation recorded.
    pub fn check<T>(&mut self, result: Result<T, Violation>) -> Option<T> {
        result.map_err(|violation| self.0.push(violation)).ok()
    }

    pub fn into_error(self) -> ApiError {
        ApiError::Validation(self.0)
    }
}

/// The frame every operation shares: the bearer header's token and the JSON body, then the
/// operation's own members (`members` checks each of them, then hands back all or none); every
/// broken constraint is reported at once, as AWS reports them.
fn frame<T>(
    headers: &HeaderMap,
    body: &[u8],
    members: impl FnOnce(&Members, &mut Violations) -> Option<T>,
) -> Result<(TokenHash, T), ApiError> {
    let mut violations = Violations::default();
    let token_hash = violations.check(connection_token(headers));
    let members = violations
        .check(Members::parse(body))
        .and_then(|body| members(&body, &mut violations));
    match (token_hash, members) {
        (Some(token_hash), Some(members)) => Ok((token_hash, members)),
        _ => Err(violations.into_error()),
    }
}

/// The hash of the `X-Amz-Bearer` header's token, checked for presence and length.
pub fn connection_token(headers: &HeaderMap) -> Result<TokenHash, Violation> {
    let field = Field::ConnectionToken;
    let value = headers
        .get(BEARER_HEADER)
        .ok_or(Violation::Missing(field))?;
    let token = std::str::from_utf8(value.as_bytes()).map_err(|_| Violation::NotUtf8(field))?;
    check_length(field, token, MAX_CONNECTION_TOKEN_CHARS)?;
    Ok(TokenHash::of(token))
}

/// A request's members: its body, a JSON object of at most `MAX_BODY_BYTES`. Unknown members are
/// ignored; for a duplicated member the last value wins.
#[derive(Debug)]
pub struct Members(Map<String, Value>);

impl Members {
    pub fn parse(bytes: &[u8]) -> Result<Self, Violation> {
        if bytes.len() > MAX_BODY_BYTES {
            return Err(Violation::BodyTooLarge(MAX_BODY_BYTES));
        }
        match serde_json::from_slice(bytes) {
            Ok(Value::Object(object)) => Ok(Self(object)),
            Ok(_) => Err(Violation::BodyNotAnObject),
            Err(_) => Err(Violation::BodyNotJson),
        }
    }

    /// The member of `field`, `None` when absent or null.
    pub fn get(&self, field: Field) -> Option<&Value> {
        self.0.get(field.member()).filter(|value| !value.is_null())
    }

    /// A required string of 1 to `max` characters.
    pub fn string(&self, field: Field, max: usize) -> Result<&str, Violation> {
        let value = self.get(field).ok_or(Violation::Missing(field))?;
        string_value(field, value, max)
    }

    /// An optional whole number within `min..=max`.
    pub fn integer(&self, field: Field, min: u64, max: u64) -> Result<Option<u64>, Violation> {
        let Some(value) = self.get(field) else {
            return Ok(None);
        };
        let Value::Number(number) = value else {
            return Err(Violation::NotAnInteger(field));
        };
        let n = match (number.as_u64(), number.as_i64()) {
            (Some(n), _) => n,
            (None, Some(_)) => return Err(Violation::BelowMinimum(field, min)),
            (None, None) => return Err(Violation::NotAnInteger(field)),
        };
        if n < min {
            return Err(Violation::BelowMinimum(field, min));
        }
        if n > max {
            return Err(Violation::AboveMaximum(field, max));
        }
        Ok(Some(n))
    }

    /// The `ClientToken`, hashed.
    pub fn client_token(&self) -> Result<ClientTokenHash, Violation> {
        self.string(Field::ClientToken, MAX_CLIENT_TOKEN_CHARS)
            .map(ClientTokenHash::of)
    }
}

/// A JSON string of 1 to `max` characters.
pub fn string_value(field: Field, value: &Value, max: usize) -> Result<&str, Violation> {
    match value {
        Value::String(text) => check_length(field, text, max).map(|()| text.as_str()),
        Value::Null => Err(Violation::Missing(field)),
        _ => Err(Violation::NotAString(field)),
    }
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

/// StartAttachmentUpload's request.
pub fn start(
    headers: &HeaderMap,
    body: &[u8],
    uploads: &Uploads,
) -> Result<StartRequest, ApiError> {
    let (token_hash, (name, size, content_type, client_token_hash)) =
        frame(headers, body, |body, violations| {
            let name = violations.check(
                body.string(Field::AttachmentName, MAX_ATTACHMENT_NAME_CHARS)
                    .map(str::to_owned),
            );
            let size = violations.check(size(body, uploads.max_size_bytes));
            let content_type = violations.check(content_type(body, uploads).map(str::to_owned));
            let client_token_hash = violations.check(body.client_token());
            Some((name?, size?, content_type?, client_token_hash?))
        })?;
    let upload = DeclaredUpload {
        name,
        size,
        content_type,
    };
    Ok(StartRequest {
        write: WriteRequest {
            token_hash,
            client_token_hash,
            fingerprint: Fingerprint::of_start(&upload),
        },
        upload,
    })
}

fn size(body: &Members, max: u64) -> Result<u64, Violation> {
    let field = Field::AttachmentSizeInBytes;
    body.integer(field, 1, max)?
        .ok_or(Violation::Missing(field))
}

fn content_type<'a>(body: &'a Members, uploads: &Uploads) -> Result<&'a str, Violation> {
    let content_type = body.string(Field::ContentType, MAX_CONTENT_TYPE_CHARS)?;
    if uploads.allows(content_type) {
        Ok(content_type)
    } else {
        Err(Violation::UnsupportedContentType)
    }
}

/// CompleteAttachmentUpload's request.
pub fn complete(headers: &HeaderMap, body: &[u8]) -> Result<CompleteRequest, ApiError> {
    let (token_hash, (attachment_id, client_token_hash)) =
        frame(headers, body, |body, violations| {
            let attachment_id = violations.check(attachment_ids(body.get(Field::AttachmentIds)));
            let client_token_hash = violations.check(body.client_token());
            Some((attachment_id?, client_token_hash?))
        })?;
    Ok(CompleteRequest {
        write: WriteRequest {
            token_hash,
            client_token_hash,
            fingerprint: Fingerprint::of_completion(&attachment_id),
        },
        attachment_id,
    })
}

fn attachment_ids(value: Option<&Value>) -> Result<AttachmentId, Violation> {
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
    let id = string_value(
        Field::AttachmentIdsItem(0),
        &items[0],
        MAX_ATTACHMENT_ID_CHARS,
    )?;
    Ok(AttachmentId::new(id))
}

/// GetAttachment's request.
pub fn get(headers: &HeaderMap, body: &[u8]) -> Result<GetRequest, ApiError> {
    let (token_hash, (attachment_id, expiry)) = frame(headers, body, |body, violations| {
        let attachment_id = violations.check(
            body.string(Field::AttachmentId, MAX_ATTACHMENT_ID_CHARS)
                .map(AttachmentId::new),
        );
        let expiry = violations.check(body.integer(
            Field::UrlExpiryInSeconds,
            MIN_URL_EXPIRY_SECONDS,
            MAX_URL_EXPIRY_SECONDS,
        ));
        Some((attachment_id?, expiry?))
    })?;
    Ok(GetRequest {
        token_hash,
        attachment_id,
        url_expiry: Duration::from_secs(expiry.unwrap_or(DEFAULT_URL_EXPIRY_SECONDS)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use lambda_http::http::HeaderValue;
    use serde_json::json;

    pub fn headers(token: Option<&[u8]>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(token) = token {
            headers.insert(BEARER_HEADER, HeaderValue::from_bytes(token).unwrap());
        }
        headers
    }

    #[test]
    fn connection_token_constraints() {
        let field = Field::ConnectionToken;
        assert_eq!(
            connection_token(&headers(None)),
            Err(Violation::Missing(field))
        );
        assert_eq!(
            connection_token(&headers(Some(b""))),
            Err(Violation::TooShort(field, 1))
        );
        let max = "t".repeat(1000);
        assert!(connection_token(&headers(Some(max.as_bytes()))).is_ok());
        let over = "t".repeat(1001);
        assert_eq!(
            connection_token(&headers(Some(over.as_bytes()))),
            Err(Violation::TooLong(field, 1000))
        );
        assert_eq!(
            connection_token(&headers(Some(b"\xff\xfe"))),
            Err(Violation::NotUtf8(field))
        );
        let thousand_chars = "é".repeat(1000); // 2000 bytes
        assert!(connection_token(&headers(Some(thousand_chars.as_bytes()))).is_ok());
    }

    #[test]
    fn the_token_is_hashed_at_the_edge() {
        assert_eq!(
            connection_token(&headers(Some(b"secret")))
                .unwrap()
                .as_str(),
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
    }

    #[test]
    fn body_constraints() {
        assert_eq!(
            Members::parse(b"not json").unwrap_err(),
            Violation::BodyNotJson
        );
        assert_eq!(Members::parse(b"").unwrap_err(), Violation::BodyNotJson);
        assert_eq!(
            Members::parse(b"[]").unwrap_err(),
            Violation::BodyNotAnObject
        );
        assert_eq!(
            Members::parse(b"\"s\"").unwrap_err(),
            Violation::BodyNotAnObject
        );
        let large = format!("{{\"Pad\":\"{}\"}}", " ".repeat(MAX_BODY_BYTES));
        assert_eq!(
            Members::parse(large.as_bytes()).unwrap_err(),
            Violation::BodyTooLarge(MAX_BODY_BYTES)
        );
    }

    #[test]
    fn integers_are_whole_numbers_within_their_limits() {
        let field = Field::UrlExpiryInSeconds;
        let parse = |json: &str| {
            Members::parse(json.as_bytes())
                .unwrap()
                .integer(field, 5, 300)
        };
        assert_eq!(parse(r#"{}"#), Ok(None));
        assert_eq!(parse(r#"{"UrlExpiryInSeconds":null}"#), Ok(None));
        assert_eq!(parse(r#"{"UrlExpiryInSeconds":5}"#), Ok(Some(5)));
        assert_eq!(parse(r#"{"UrlExpiryInSeconds":300}"#), Ok(Some(300)));
        assert_eq!(
            parse(r#"{"UrlExpiryInSeconds":4}"#),
            Err(Violation::BelowMinimum(field, 5))
        );
        assert_eq!(
            parse(r#"{"UrlExpiryInSeconds":-7}"#),
            Err(Violation::BelowMinimum(field, 5))
        );
        assert_eq!(
            parse(r#"{"UrlExpiryInSeconds":301}"#),
            Err(Violation::AboveMaximum(field, 300))
        );
        for not_whole in [r#""60""#, "60.5", "1e400", "true", "[60]"] {
            let json = format!(r#"{{"UrlExpiryInSeconds":{not_whole}}}"#);
            let parsed = Members::parse(json.as_bytes()).map(|b| b.integer(field, 5, 300));
            assert!(
                matches!(parsed, Ok(Err(Violation::NotAnInteger(_))) | Err(_)),
                "{not_whole}: {parsed:?}"
            );
        }
    }

    #[test]
    fn any_string_within_limits_is_a_valid_client_token_and_never_normalised() {
        let token = |json: &str| Members::parse(json.as_bytes()).unwrap().client_token();
        assert_eq!(
            token(r#"{"ClientToken":"\u0000\n\t"}"#),
            Ok(ClientTokenHash::of("\u{0}\n\t"))
        );
        assert_ne!(
            token(r#"{"ClientToken":"\u00e9"}"#),
            token(r#"{"ClientToken":"e\u0301"}"#)
        );
        let field = Field::ClientToken;
        assert_eq!(token(r#"{}"#), Err(Violation::Missing(field)));
        assert_eq!(
            token(r#"{"ClientToken":42}"#),
            Err(Violation::NotAString(field))
        );
        assert_eq!(
            token(r#"{"ClientToken":""}"#),
            Err(Violation::TooShort(field, 1))
        );
        let max = format!(r#"{{"ClientToken":"{}"}}"#, "c".repeat(500));
        assert!(token(&max).is_ok());
        let over = format!(r#"{{"ClientToken":"{}"}}"#, "c".repeat(501));
        assert_eq!(token(&over), Err(Violation::TooLong(field, 500)));
    }

    fn start_body(name: Value, size: Value, content_type: Value, client_token: Value) -> Vec<u8> {
        json!({
            "AttachmentName": name,
            "AttachmentSizeInBytes": size,
            "ContentType": content_type,
            "ClientToken": client_token,
        })
        .to_string()
        .into_bytes()
    }

    fn start_violations(body: &[u8]) -> Vec<Violation> {
        match start(&headers(Some(b"t")), body, &Settings::default().uploads) {
            Err(ApiError::Validation(violations)) => violations,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_start_is_parsed_with_its_type_as_sent() {
        let body = start_body(
            json!("cat.png"),
            json!(1234),
            json!("Image/PNG"),
            json!("c"),
        );
        let request = start(&headers(Some(b"t")), &body, &Settings::default().uploads).unwrap();
        assert_eq!(request.upload.content_type, "Image/PNG");
        assert_eq!(request.upload.size, 1234);
        assert_eq!(
            request.write.fingerprint,
            Fingerprint::of_start(&request.upload)
        );
    }

    #[test]
    fn every_member_is_checked_at_once_with_exact_limits() {
        let max = Settings::default().uploads.max_size_bytes;
        assert_eq!(
            start_violations(&start_body(
                json!(""),
                json!(0),
                json!("text/html"),
                json!("")
            )),
            [
                Violation::TooShort(Field::AttachmentName, 1),
                Violation::BelowMinimum(Field::AttachmentSizeInBytes, 1),
                Violation::UnsupportedContentType,
                Violation::TooShort(Field::ClientToken, 1),
            ]
        );
        assert_eq!(
            start_violations(&start_body(
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
        let at_limits = start_body(
            json!("n".repeat(256)),
            json!(max),
            json!("text/plain"),
            json!("c"),
        );
        assert!(start(
            &headers(Some(b"t")),
            &at_limits,
            &Settings::default().uploads
        )
        .is_ok());
        assert_eq!(
            start_violations(br#"{"AttachmentSizeInBytes": 1.5}"#),
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
        let body = start_body(
            json!("a"),
            json!(1),
            json!("text/plain; charset=utf-8"),
            json!("c"),
        );
        assert_eq!(start_violations(&body), [Violation::UnsupportedContentType]);
    }

    fn complete_body(attachment_ids: Value, client_token: Value) -> Vec<u8> {
        json!({ "AttachmentIds": attachment_ids, "ClientToken": client_token })
            .to_string()
            .into_bytes()
    }

    fn complete_violations(token: Option<&[u8]>, body: &[u8]) -> Vec<Violation> {
        match complete(&headers(token), body) {
            Err(ApiError::Validation(violations)) => violations,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_is_parsed_and_its_secrets_hashed() {
        let request = complete(
            &headers(Some(b"secret")),
            &complete_body(json!(["attachment-1"]), json!("client-token")),
        )
        .unwrap();
        assert_eq!(request.attachment_id.as_str(), "attachment-1");
        assert_eq!(request.write.token_hash, TokenHash::of("secret"));
        assert_eq!(
            request.write.client_token_hash,
            ClientTokenHash::of("client-token")
        );
        assert_eq!(
            request.write.fingerprint,
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
                complete_violations(token, &complete_body(ids.clone(), json!("c"))),
                [expected],
                "{ids}"
            );
        }
        assert!(complete(
            &headers(token),
            &complete_body(json!(["a".repeat(256)]), json!("c"))
        )
        .is_ok());
        assert!(complete(
            &headers(token),
            &complete_body(json!(["é".repeat(256)]), json!("c"))
        )
        .is_ok());
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        assert_eq!(
            complete_violations(None, &complete_body(json!([]), json!(""))),
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
        let request = complete(&headers(Some(b"t")), body).unwrap();
        assert_eq!(request.attachment_id.as_str(), "a");
    }

    fn parsed(body: &str) -> Result<GetRequest, Vec<Violation>> {
        get(&headers(Some(b"t")), body.as_bytes()).map_err(|error| match error {
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
