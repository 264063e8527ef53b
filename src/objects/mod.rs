//! What the operations and the reaper need from object storage, free of any SDK type: pre-signed
//! URLs (signed locally, no network), one ranged `GetObject` to confirm an upload and read its
//! first bytes, and the deletion of an abandoned upload's file.

pub mod s3;

use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::domain::{ObjectKey, PresignedUrl, StoredObject};

pub use s3::S3Objects;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A pre-signed download: what S3 must answer with, so that a browser saves the file rather than
/// rendering it.
#[derive(Debug, Clone, Copy)]
pub struct Download<'a> {
    pub file_name: &'a str,
    pub content_type: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// S3 still throttled (`SlowDown`, 503) after the SDK's own retries.
    #[error("S3 throttled the request")]
    Throttled,
    /// The call's time bound ended first: `S3_TIMEOUT_MS` or the invocation's deadline.
    #[error("S3 did not answer within the call's time bound")]
    DeadlineExceeded,
    #[error("the URL could not be pre-signed")]
    Presigning(#[source] BoxError),
    #[error("S3 call failed")]
    Unavailable(#[source] BoxError),
}

pub trait Objects: Send + Sync {
    /// A `PUT` that S3 accepts only with exactly this content type and length, and only if no
    /// object exists yet under the key (`If-None-Match: *`).
    fn presign_upload(
        &self,
        key: &ObjectKey,
        content_type: &str,
        size: u64,
        now: SystemTime,
        valid_for: Duration,
    ) -> impl Future<Output = Result<PresignedUrl, ObjectError>> + Send;

    fn presign_download(
        &self,
        key: &ObjectKey,
        download: Download<'_>,
        now: SystemTime,
        valid_for: Duration,
    ) -> impl Future<Output = Result<PresignedUrl, ObjectError>> + Send;

    /// What S3 holds under the key (its size, type, ETag and upload time) with its first
    /// `first` bytes, in one call; `None` if nothing was uploaded.
    fn peek(
        &self,
        key: &ObjectKey,
        first: u64,
    ) -> impl Future<Output = Result<Option<StoredObject>, ObjectError>> + Send;

    /// Deletes the object under `key`; one already gone is a success.
    fn delete(&self, key: &ObjectKey) -> impl Future<Output = Result<(), ObjectError>> + Send;
}

/// `Content-Disposition: attachment` with the file's name as RFC 6266 wants it: an ASCII
/// fallback in `filename`, the exact name UTF-8 percent-encoded in `filename*` (RFC 8187).
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(file_name.len() * 3);
    for byte in file_name.bytes() {
        // RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
        // "_" / "`" / "|" / "~"; everything else is percent-encoded.
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_download_is_an_attachment_with_its_name_rfc6266_encoded() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("résumé \"final\".pdf"),
            "attachment; filename=\"r_sum_ _final_.pdf\"; \
             filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
        assert_eq!(
            content_disposition("a\r\nb;c"),
            "attachment; filename=\"a__b;c\"; filename*=UTF-8''a%0D%0Ab%3Bc"
        );
    }
}
