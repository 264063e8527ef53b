//! The one error type of the API, and the one place that gives each error its status,
//! `X-Amzn-ErrorType` and message.

use lambda_http::http::StatusCode;

use crate::request::Violation;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{}", validation_message(.0))]
    Validation(Vec<Violation>),
    /// Unknown or expired connection, and unknown or foreign attachment: one answer, so that
    /// nobody can learn whether an attachment they do not own exists.
    #[error("You do not have sufficient access to perform this action.")]
    AccessDenied,
    #[error("{0}")]
    Conflict(ConflictReason),
    #[error("The number of attachments per contact exceeds the quota.")]
    QuotaExceeded,
    #[error("Rate exceeded. Retry the request with backoff.")]
    Throttling,
    /// The source is logged, never sent: the caller gets a generic message.
    #[error("An internal error occurred. Retry the request.")]
    Internal(#[source] BoxError),
    #[error("No operation matches this path. CompleteAttachmentUpload is POST /participant/complete-attachment-upload.")]
    UnknownOperation,
    #[error("Method not allowed. CompleteAttachmentUpload accepts POST only.")]
    MethodNotAllowed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConflictReason {
    #[error("The attachment is not in progress: it was already completed, rejected, or completed by a concurrent request.")]
    NotInProgress,
    #[error("The ClientToken was already used with different parameters.")]
    ClientTokenReused,
}

impl ApiError {
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::Internal(source.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::AccessDenied => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::QuotaExceeded => StatusCode::PAYMENT_REQUIRED,
            Self::Throttling => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::UnknownOperation => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// The shape name a restJson1 client matches on (`X-Amzn-ErrorType`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Validation(_) => "ValidationException",
            Self::AccessDenied => "AccessDeniedException",
            Self::Conflict(_) => "ConflictException",
            Self::QuotaExceeded => "ServiceQuotaExceededException",
            Self::Throttling => "ThrottlingException",
            Self::Internal(_) => "InternalServerException",
            Self::UnknownOperation => "UnknownOperationException",
            Self::MethodNotAllowed => "MethodNotAllowedException",
        }
    }
}

fn validation_message(violations: &[Violation]) -> String {
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
    use crate::request::Field;

    #[test]
    fn each_error_has_its_status_name_and_message() {
        let cases: [(ApiError, u16, &str); 9] = [
            (
                ApiError::Validation(vec![Violation::Missing(Field::ClientToken)]),
                400,
                "ValidationException",
            ),
            (ApiError::AccessDenied, 403, "AccessDeniedException"),
            (
                ApiError::Conflict(ConflictReason::NotInProgress),
                409,
                "ConflictException",
            ),
            (
                ApiError::Conflict(ConflictReason::ClientTokenReused),
                409,
                "ConflictException",
            ),
            (
                ApiError::QuotaExceeded,
                402,
                "ServiceQuotaExceededException",
            ),
            (ApiError::Throttling, 429, "ThrottlingException"),
            (
                ApiError::internal("table missing"),
                500,
                "InternalServerException",
            ),
            (ApiError::UnknownOperation, 404, "UnknownOperationException"),
            (ApiError::MethodNotAllowed, 405, "MethodNotAllowedException"),
        ];
        for (error, status, name) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.name(), name);
            assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn internal_details_never_reach_the_message() {
        let error = ApiError::internal("connection refused to dynamodb.local:8000");
        assert_eq!(
            error.to_string(),
            "An internal error occurred. Retry the request."
        );
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn validation_messages_count_the_errors() {
        let one = ApiError::Validation(vec![Violation::Missing(Field::ClientToken)]);
        assert!(one
            .to_string()
            .starts_with("1 validation error detected: Value null at 'clientToken'"));
        let two = ApiError::Validation(vec![
            Violation::Missing(Field::ConnectionToken),
            Violation::BodyNotJson,
        ]);
        assert_eq!(
            two.to_string(),
            "2 validation errors detected: Value null at 'connectionToken' failed to satisfy \
             constraint: Member must not be null; Request body must be valid JSON"
        );
    }
}
