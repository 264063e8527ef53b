//! The parsing every operation shares: the bearer header, the JSON body, string and integer
//! members with their limits, and the collection of every violation at once, as AWS reports them.
//!
//! This is the edge: the connection token and the ClientToken are hashed here and only their
//! hashes travel further, so no secret can reach a log or a table by accident.

use lambda_http::http::HeaderMap;
use serde_json::{Map, Value};

use crate::domain::{ClientTokenHash, TokenHash};
use crate::error::ApiError;
use crate::validation::{Field, Violation};

/// The header that carries the ConnectionToken.
pub const BEARER_HEADER: &str = "x-amz-bearer";
/// Bodies above this size are refused before any parsing (a valid request is under 2 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const MAX_CONNECTION_TOKEN_CHARS: usize = 1000;
pub const MAX_CLIENT_TOKEN_CHARS: usize = 500;

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

/// A request body: a JSON object of at most `MAX_BODY_BYTES`. Unknown members are ignored; for a
/// duplicated member the last value wins.
#[derive(Debug)]
pub struct Body(Map<String, Value>);

impl Body {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

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
            Body::parse(b"not json").unwrap_err(),
            Violation::BodyNotJson
        );
        assert_eq!(Body::parse(b"").unwrap_err(), Violation::BodyNotJson);
        assert_eq!(Body::parse(b"[]").unwrap_err(), Violation::BodyNotAnObject);
        assert_eq!(
            Body::parse(b"\"s\"").unwrap_err(),
            Violation::BodyNotAnObject
        );
        let large = format!("{{\"Pad\":\"{}\"}}", " ".repeat(MAX_BODY_BYTES));
        assert_eq!(
            Body::parse(large.as_bytes()).unwrap_err(),
            Violation::BodyTooLarge(MAX_BODY_BYTES)
        );
    }

    #[test]
    fn integers_are_whole_numbers_within_their_limits() {
        let field = Field::UrlExpiryInSeconds;
        let parse = |json: &str| Body::parse(json.as_bytes()).unwrap().integer(field, 5, 300);
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
            let parsed = Body::parse(json.as_bytes()).map(|b| b.integer(field, 5, 300));
            assert!(
                matches!(parsed, Ok(Err(Violation::NotAnInteger(_))) | Err(_)),
                "{not_whole}: {parsed:?}"
            );
        }
    }

    #[test]
    fn any_string_within_limits_is_a_valid_client_token_and_never_normalised() {
        let token = |json: &str| Body::parse(json.as_bytes()).unwrap().client_token();
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
}
