//! The one error type of the API, and the one place that gives each error its status,
//! `X-Amzn-ErrorType` and message: each error knows its name and status. Plain values, no HTTP
//! type: the service answers with it, and the API writes it.

use crate::domain::Operation;
use crate::objects::ObjectError;
use crate::store::StoreError;
use crate::validation::{self, Violation};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{}", validation::message(.0))]
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
    #[error("No operation matches this path. The operations are POST /participant/start-attachment-upload, /participant/complete-attachment-upload and /participant/attachment.")]
    UnknownOperation,
    #[error("Method not allowed. The operations accept POST only.")]
    MethodNotAllowed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConflictReason {
    #[error("The attachment is not in progress: it was already completed, rejected, or completed by a concurrent request.")]
    NotInProgress,
    #[error("The ClientToken was already used with different parameters.")]
    ClientTokenReused,
    #[error("The attachment was not uploaded: upload the file with the URL and headers from StartAttachmentUpload, then complete it.")]
    NotUploaded,
    #[error("The uploaded file does not match the declared size or content type.")]
    UploadMismatch,
    #[error("The file's content does not match its declared type: the attachment was rejected. Send the file with its real type.")]
    ContentMismatch,
}

impl ConflictReason {
    /// Its name, for the log line and the metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::NotInProgress => "NotInProgress",
            Self::ClientTokenReused => "ClientTokenReused",
            Self::NotUploaded => "NotUploaded",
            Self::UploadMismatch => "UploadMismatch",
            Self::ContentMismatch => crate::telemetry::CONTENT_MISMATCH,
        }
    }
}

impl ApiError {
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::Internal(source.into())
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Validation(_) => 400,
            Self::AccessDenied => 403,
            Self::Conflict(_) => 409,
            Self::QuotaExceeded => 402,
            Self::Throttling => 429,
            Self::Internal(_) => 500,
            Self::UnknownOperation => 404,
            Self::MethodNotAllowed => 405,
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

/// The one mapping from what the store says to what the caller hears.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::ConnectionGone | StoreError::AttachmentNotFound => Self::AccessDenied,
            StoreError::NotInProgress => Self::Conflict(ConflictReason::NotInProgress),
            StoreError::NotUploaded => Self::Conflict(ConflictReason::NotUploaded),
            StoreError::UploadMismatch => Self::Conflict(ConflictReason::UploadMismatch),
            StoreError::ContentRejected => Self::Conflict(ConflictReason::ContentMismatch),
            // StartAttachmentUpload's model has no ConflictException: there it is a validation error.
            StoreError::ClientTokenReused(Operation::StartAttachmentUpload) => {
                Self::Validation(vec![Violation::ClientTokenReused])
            }
            StoreError::ClientTokenReused(_) => Self::Conflict(ConflictReason::ClientTokenReused),
            StoreError::QuotaExceeded => Self::QuotaExceeded,
            StoreError::Contention | StoreError::Throttled => Self::Throttling,
            error @ (StoreError::MalformedItem(_)
            | StoreError::UnexplainedCancellation(_)
            | StoreError::InvalidRequest(_)
            | StoreError::TableNotFound
            | StoreError::Unavailable(_)
            | StoreError::DeadlineExceeded) => Self::internal(error),
        }
    }
}

/// ... and from what S3 says.
impl From<ObjectError> for ApiError {
    fn from(error: ObjectError) -> Self {
        match error {
            ObjectError::Throttled => Self::Throttling,
            error @ (ObjectError::DeadlineExceeded
            | ObjectError::Presigning(_)
            | ObjectError::Unavailable(_)) => Self::internal(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::Field;

    #[test]
    fn each_error_has_its_status_name_and_message() {
        let conflicts = [
            ConflictReason::NotInProgress,
            ConflictReason::ClientTokenReused,
            ConflictReason::NotUploaded,
            ConflictReason::UploadMismatch,
            ConflictReason::ContentMismatch,
        ];
        let mut cases: Vec<(ApiError, u16, &str)> = vec![
            (
                ApiError::Validation(vec![Violation::Missing(Field::ClientToken)]),
                400,
                "ValidationException",
            ),
            (ApiError::AccessDenied, 403, "AccessDeniedException"),
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
        cases.extend(
            conflicts
                .into_iter()
                .map(|reason| (ApiError::Conflict(reason), 409, "ConflictException")),
        );
        for (error, status, name) in cases {
            assert_eq!(error.status(), status, "{error:?}");
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
}
