//! Object storage on S3: pre-signing with `aws-sdk-s3` (local: the credentials are in the
//! environment, nothing is fetched), a ranged `GetObject` and `DeleteObject`.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::Client;

use super::{content_disposition, Download, ObjectError, Objects};
use crate::domain::{ObjectKey, PresignedUrl, StoredObject};

/// The statuses with which S3 throttles a request (`SlowDown`; the SDK retries them itself).
pub const THROTTLING_STATUSES: [u16; 2] = [429, 503];

/// The type S3 gives an object stored without one.
const S3_DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

#[derive(Debug, Clone)]
pub struct S3Objects {
    client: Client,
    bucket: String,
}

impl S3Objects {
    pub fn new(client: Client, bucket: String) -> Self {
        Self { client, bucket }
    }

    /// Opens (TLS included) the connection to S3 during init, as the store does for DynamoDB, and
    /// signs one URL of each kind (locally), so that the first request builds no pipeline. The
    /// key cannot exist (no attachment id is empty); its answer, 404 or 403, does not matter.
    pub async fn warm_up(&self) -> Result<(), ObjectError> {
        let key = ObjectKey::new("warm-up", &crate::domain::AttachmentId::new(""));
        let (now, ttl) = (SystemTime::now(), Duration::from_secs(60));
        let download = Download {
            file_name: "warm-up",
            content_type: "text/plain",
        };
        self.presign_upload(&key, "text/plain", 1, now, ttl).await?;
        self.presign_download(&key, download, now, ttl).await?;
        self.peek(&key, 1).await.map(drop)
    }
}

fn presigning(now: SystemTime, valid_for: Duration) -> Result<PresigningConfig, ObjectError> {
    PresigningConfig::builder()
        .start_time(now)
        .expires_in(valid_for)
        .build()
        .map_err(|e| ObjectError::Presigning(e.into()))
}

/// The URL and the headers a client must send itself: the signed ones (`X-Amz-SignedHeaders`)
/// but Host and Content-Length, which HTTP clients set from the request. Only signed ones: the
/// request being signed also carries headers S3 does not check, such as the `X-Amzn-Trace-Id`
/// that the SDK adds under a Lambda runtime, and a browser told to send one of those is refused
/// by the bucket's CORS rule.
fn presigned(request: &PresignedRequest, expires_at: SystemTime) -> PresignedUrl {
    let url = request.uri();
    let signed = signed_headers(url);
    let headers = request
        .headers()
        .filter(|(name, _)| {
            signed.iter().any(|s| s.eq_ignore_ascii_case(name))
                && !name.eq_ignore_ascii_case("host")
                && !name.eq_ignore_ascii_case("content-length")
        })
        .map(|(name, value)| (canonical_header_name(name), value.to_owned()))
        .collect();
    PresignedUrl {
        url: url.to_owned(),
        expires_at,
        headers,
    }
}

/// The names in a pre-signed URL's `X-Amz-SignedHeaders` (`content-type;host`, URL-encoded).
fn signed_headers(url: &str) -> Vec<String> {
    url.split_once('?')
        .map_or("", |(_, query)| query)
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="))
        .map(|list| {
            list.replace("%3B", ";")
                .replace("%3b", ";")
                .split(';')
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `content-type` → `Content-Type`, as the service's `HeadersToInclude` spells them.
fn canonical_header_name(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

impl Objects for S3Objects {
    async fn presign_upload(
        &self,
        key: &ObjectKey,
        content_type: &str,
        size: u64,
        now: SystemTime,
        valid_for: Duration,
    ) -> Result<PresignedUrl, ObjectError> {
        let length = i64::try_from(size).map_err(|e| ObjectError::Presigning(e.into()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .content_length(length)
            // Write-once: S3 refuses a second PUT to the same key with 412.
            .if_none_match("*")
            .presigned(presigning(now, valid_for)?)
            .await
            .map_err(|e| ObjectError::Presigning(e.into()))?;
        Ok(presigned(&request, now + valid_for))
    }

    async fn presign_download(
        &self,
        key: &ObjectKey,
        download: Download<'_>,
        now: SystemTime,
        valid_for: Duration,
    ) -> Result<PresignedUrl, ObjectError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .response_content_disposition(content_disposition(download.file_name))
            .response_content_type(download.content_type)
            .presigned(presigning(now, valid_for)?)
            .await
            .map_err(|e| ObjectError::Presigning(e.into()))?;
        Ok(presigned(&request, now + valid_for))
    }

    /// Deletes the object under `key`; one already gone is a success (S3 answers 204 either way,
    /// so a 404 means the bucket itself is missing: an error, not a deletion).
    async fn delete(&self, key: &ObjectKey) -> Result<(), ObjectError> {
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => Err(failure(error)),
        }
    }

    async fn peek(&self, key: &ObjectKey, first: u64) -> Result<Option<StoredObject>, ObjectError> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .range(format!("bytes=0-{}", first.saturating_sub(1)))
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(error) => return classify(error),
        };
        // `Content-Range: bytes 0-8191/123456` holds the whole size; a server that ignores
        // the range answers the whole object, with its length.
        let size = output
            .content_range()
            .and_then(|range| range.rsplit_once('/'))
            .and_then(|(_, total)| total.parse::<u64>().ok())
            .or_else(|| {
                output
                    .content_length()
                    .and_then(|length| u64::try_from(length).ok())
            })
            .ok_or_else(|| ObjectError::Unavailable("GetObject without a size".into()))?;
        let content_type = output
            .content_type()
            .unwrap_or(S3_DEFAULT_CONTENT_TYPE)
            .to_owned();
        let etag = output.e_tag().unwrap_or_default().to_owned();
        let last_modified = output
            .last_modified()
            .and_then(|time| SystemTime::try_from(*time).ok());
        let mut first_bytes = output
            .body
            .collect()
            .await
            .map_err(|e| ObjectError::Unavailable(e.into()))?
            .to_vec();
        first_bytes.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        Ok(Some(StoredObject {
            size,
            content_type,
            etag,
            last_modified,
            first_bytes,
        }))
    }
}

fn classify(
    error: SdkError<GetObjectError, HttpResponse>,
) -> Result<Option<StoredObject>, ObjectError> {
    // A key S3 cannot hold (an id written by another service, with characters or a length no
    // object key may have) cannot be sent, or is refused with 400: no object can be under it.
    if matches!(error, SdkError::ConstructionFailure(_)) {
        return Ok(None);
    }
    match error.raw_response().map(|raw| raw.status().as_u16()) {
        // Without s3:ListBucket (the function has none: least privilege), S3 answers a missing
        // key with 403 instead of 404. Either way nothing was uploaded under it.
        Some(400 | 403 | 404) => Ok(None),
        // `InvalidRange`: the range starts past the end of an empty object.
        Some(416) => Ok(Some(StoredObject {
            size: 0,
            content_type: String::new(),
            etag: String::new(),
            last_modified: None,
            first_bytes: Vec::new(),
        })),
        _ => Err(failure(error)),
    }
}

/// A call that failed for want of an answer, or with one that names no object: its time bound
/// ended, S3 still throttled it (`SlowDown`) after the SDK's own retries, or anything else.
fn failure<E>(error: SdkError<E, HttpResponse>) -> ObjectError
where
    E: std::error::Error + Send + Sync + 'static,
{
    if matches!(error, SdkError::TimeoutError(_)) {
        return ObjectError::DeadlineExceeded;
    }
    match error.raw_response().map(|raw| raw.status().as_u16()) {
        Some(status) if THROTTLING_STATUSES.contains(&status) => ObjectError::Throttled,
        _ => ObjectError::Unavailable(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::{Credentials, Region};

    #[tokio::test]
    async fn headers_to_include_are_the_signed_ones_even_when_the_request_carries_a_trace_id() {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
            .build();
        let (now, ttl) = (SystemTime::now(), Duration::from_secs(60));
        // What the SDK's recursion detection adds under a Lambda runtime (`_X_AMZN_TRACE_ID`).
        let request = Client::from_conf(config)
            .put_object()
            .bucket("bucket")
            .key("contact/attachment")
            .content_type("text/plain")
            .content_length(3)
            .if_none_match("*")
            .customize()
            .mutate_request(|r| {
                r.headers_mut()
                    .insert("x-amzn-trace-id", "Root=1-5f3d2b9e-1");
            })
            .presigned(presigning(now, ttl).unwrap())
            .await
            .unwrap();
        assert!(
            request.headers().any(|(name, _)| name == "x-amzn-trace-id"),
            "the request being signed carries the trace id"
        );

        let url = presigned(&request, now + ttl);

        let expected = [("Content-Type", "text/plain"), ("If-None-Match", "*")];
        assert_eq!(
            url.headers,
            expected.map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
        assert_eq!(
            signed_headers(&url.url),
            ["content-length", "content-type", "host", "if-none-match"]
        );
    }
}
