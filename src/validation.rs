//! What a validation error says: the member it is about and the constraint it broke, worded as
//! AWS words them. Never carries the offending value: it may be a secret.

use std::fmt;

/// The member a validation error is about, named as AWS names it in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    ConnectionToken,
    AttachmentName,
    AttachmentSizeInBytes,
    ContentType,
    ClientToken,
    AttachmentIds,
    /// One item of AttachmentIds, by its zero-based index.
    AttachmentIdsItem(usize),
    AttachmentId,
    UrlExpiryInSeconds,
}

impl Field {
    /// The JSON member that holds this field (the header for the connection token).
    pub fn member(self) -> &'static str {
        match self {
            Self::ConnectionToken => "X-Amz-Bearer",
            Self::AttachmentName => "AttachmentName",
            Self::AttachmentSizeInBytes => "AttachmentSizeInBytes",
            Self::ContentType => "ContentType",
            Self::ClientToken => "ClientToken",
            Self::AttachmentIds | Self::AttachmentIdsItem(_) => "AttachmentIds",
            Self::AttachmentId => "AttachmentId",
            Self::UrlExpiryInSeconds => "UrlExpiryInSeconds",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectionToken => f.write_str("connectionToken"),
            Self::AttachmentName => f.write_str("attachmentName"),
            Self::AttachmentSizeInBytes => f.write_str("attachmentSizeInBytes"),
            Self::ContentType => f.write_str("contentType"),
            Self::ClientToken => f.write_str("clientToken"),
            Self::AttachmentIds => f.write_str("attachmentIds"),
            Self::AttachmentIdsItem(index) => write!(f, "attachmentIds.{}.member", index + 1),
            Self::AttachmentId => f.write_str("attachmentId"),
            Self::UrlExpiryInSeconds => f.write_str("urlExpiryInSeconds"),
        }
    }
}

/// One broken constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    Missing(Field),
    NotAString(Field),
    NotAList(Field),
    NotAnInteger(Field),
    NotUtf8(Field),
    TooShort(Field, usize),
    TooLong(Field, usize),
    BelowMinimum(Field, u64),
    AboveMaximum(Field, u64),
    /// A content type that is not in `ALLOWED_CONTENT_TYPES`.
    UnsupportedContentType,
    /// A ClientToken this participant already used with other parameters.
    ClientTokenReused,
    BodyTooLarge(usize),
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
            Self::NotAnInteger(field) => {
                constraint(f, field, format_args!("must be a whole number"))
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
            Self::BelowMinimum(field, min) => constraint(
                f,
                field,
                format_args!("must be greater than or equal to {min}"),
            ),
            Self::AboveMaximum(field, max) => constraint(
                f,
                field,
                format_args!("must be less than or equal to {max}"),
            ),
            Self::UnsupportedContentType => constraint(
                f,
                &Field::ContentType,
                format_args!("must be one of the supported content types"),
            ),
            Self::ClientTokenReused => constraint(
                f,
                &Field::ClientToken,
                format_args!("must not be reused with different parameters"),
            ),
            Self::BodyTooLarge(max) => {
                write!(f, "Request body must not be larger than {max} bytes")
            }
            Self::BodyNotJson => f.write_str("Request body must be valid JSON"),
            Self::BodyNotAnObject => f.write_str("Request body must be a JSON object"),
        }
    }
}

/// The message of a `ValidationException`: every violation, counted, as AWS reports them.
pub fn message(violations: &[Violation]) -> String {
    let details = violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    match violations.len() {
        1 => format!("1 validation error detected: {details}"),
        n => format!("{n} validation errors detected: {details}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Violation::TooShort(Field::AttachmentIdsItem(0), 1).to_string(),
            "Value at 'attachmentIds.1.member' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        assert_eq!(
            Violation::AboveMaximum(Field::UrlExpiryInSeconds, 300).to_string(),
            "Value at 'urlExpiryInSeconds' failed to satisfy constraint: Member must be less than or equal to 300"
        );
        assert!(Violation::ClientTokenReused
            .to_string()
            .contains("'clientToken'"));
    }

    #[test]
    fn messages_count_the_errors() {
        assert!(message(&[Violation::Missing(Field::ClientToken)])
            .starts_with("1 validation error detected: Value null at 'clientToken'"));
        assert_eq!(
            message(&[
                Violation::Missing(Field::ConnectionToken),
                Violation::BodyNotJson
            ]),
            "2 validation errors detected: Value null at 'connectionToken' failed to satisfy \
             constraint: Member must not be null; Request body must be valid JSON"
        );
    }
}
