//! The domain's values: newtypes where a mix-up would be a bug, and the facts the operations pass
//! between parser, service, store and object storage. No I/O, and no module of this crate below it.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// The three operations one function serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    StartAttachmentUpload,
    CompleteAttachmentUpload,
    GetAttachment,
}

impl Operation {
    pub const ALL: [Operation; 3] = [
        Operation::StartAttachmentUpload,
        Operation::CompleteAttachmentUpload,
        Operation::GetAttachment,
    ];

    /// The name AWS gives the operation (and the SDKs' method names derive from).
    pub fn name(self) -> &'static str {
        match self {
            Self::StartAttachmentUpload => "StartAttachmentUpload",
            Self::CompleteAttachmentUpload => "CompleteAttachmentUpload",
            Self::GetAttachment => "GetAttachment",
        }
    }

    /// The path the service model binds the operation to (`POST` only).
    pub fn path(self) -> &'static str {
        match self {
            Self::StartAttachmentUpload => "/participant/start-attachment-upload",
            Self::CompleteAttachmentUpload => "/participant/complete-attachment-upload",
            Self::GetAttachment => "/participant/attachment",
        }
    }

    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|operation| operation.path() == path)
    }
}

macro_rules! string_newtype {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    )*};
}

string_newtype!(
    /// Lowercase hex SHA-256 of a ConnectionToken: the key of the connections table. The raw
    /// token never travels past the parser.
    TokenHash,
    /// Lowercase hex SHA-256 of a ClientToken.
    ClientTokenHash,
    /// Lowercase hex SHA-256 of an operation's parameters: what a replay must match.
    Fingerprint,
    AttachmentId,
    /// The S3 key of an attachment's object: `<ContactId>/<AttachmentId>`.
    ObjectKey,
);

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

impl Fingerprint {
    /// A completion's parameters: its one attachment id.
    pub fn of_completion(attachment_id: &AttachmentId) -> Self {
        Self(sha256_hex(attachment_id.as_str().as_bytes()))
    }

    /// A start's parameters, compared exactly: name, size and type, encoded so that no two
    /// different triples share an encoding.
    pub fn of_start(upload: &DeclaredUpload) -> Self {
        let encoded = serde_json::json!([upload.name, upload.size, upload.content_type]);
        Self(sha256_hex(encoded.to_string().as_bytes()))
    }
}

impl AttachmentId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// A fresh, unguessable id: a UUID v4 (122 random bits from the OS).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }
}

impl ObjectKey {
    /// The contract fixes this key: other tools find an attachment's object by it.
    pub fn new(contact_id: &str, attachment_id: &AttachmentId) -> Self {
        Self(format!("{contact_id}/{}", attachment_id.as_str()))
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whole seconds since the Unix epoch, as DynamoDB's TTL attributes count them.
pub fn epoch_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `now + seconds` in epoch seconds, saturating.
pub fn epoch_seconds_after(now: SystemTime, seconds: u64) -> i64 {
    epoch_seconds(now).saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX))
}

/// ISO 8601 UTC with milliseconds, as the service model's `UrlExpiry` is written
/// (`2019-11-08T02:41:28.172Z`).
pub fn iso8601_millis(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since_epoch.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since_epoch.subsec_millis()
    )
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A participant's connection, as found by the hash of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub participant_id: String,
    pub contact_id: String,
    /// Epoch seconds; the connection is expired from this second on.
    pub expires_at: i64,
}

impl Connection {
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at > now
    }
}

/// What a StartAttachmentUpload declares about the file it will upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredUpload {
    pub name: String,
    pub size: u64,
    /// Stored and signed exactly as sent.
    pub content_type: String,
}

/// What S3 holds under an attachment's key, as one ranged `GetObject` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub size: u64,
    pub content_type: String,
    /// As S3 returns it, quotes included.
    pub etag: String,
    /// When it was uploaded: S3's lifecycle rule counts its retention from then.
    pub last_modified: Option<SystemTime>,
    /// Its first bytes (at most `content::PEEK_BYTES`), for the content check.
    pub first_bytes: Vec<u8>,
}

/// An APPROVED attachment, as GetAttachment reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovedAttachment {
    pub contact_id: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// When its retention ends (epoch seconds), if it has one: its file is gone soon after.
    pub expires_at: Option<i64>,
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// This request made the change.
    Applied,
    /// An earlier request with the same ClientToken and parameters did; nothing changed.
    Replayed,
}

/// A pre-signed S3 request. Its URL is a bearer credential: it goes into the response and
/// nowhere else, so `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedUrl {
    pub url: String,
    pub expires_at: SystemTime,
    /// Headers the client must send as signed, other than Host and Content-Length.
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for PresignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresignedUrl")
            .field("url", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("headers", &self.headers)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_found_by_its_path_and_no_other_path_is() {
        for operation in Operation::ALL {
            assert_eq!(Operation::from_path(operation.path()), Some(operation));
        }
        assert_eq!(Operation::from_path("/participant/other"), None);
    }

    #[test]
    fn url_expiry_is_iso8601_utc_with_milliseconds() {
        let time = UNIX_EPOCH + Duration::from_millis(1_573_180_888_172);
        assert_eq!(iso8601_millis(time), "2019-11-08T02:41:28.172Z");
        assert_eq!(iso8601_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso8601_millis(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn start_fingerprints_differ_for_any_different_parameter() {
        let upload = |name: &str, size, content_type: &str| DeclaredUpload {
            name: name.into(),
            size,
            content_type: content_type.into(),
        };
        let base = Fingerprint::of_start(&upload("a.txt", 1, "text/plain"));
        assert_eq!(
            base,
            Fingerprint::of_start(&upload("a.txt", 1, "text/plain"))
        );
        for other in [
            upload("a.txt", 2, "text/plain"),
            upload("b.txt", 1, "text/plain"),
            upload("a.txt", 1, "TEXT/plain"),
            upload("a.txt\",1,\"", 1, "text/plain"),
        ] {
            assert_ne!(base, Fingerprint::of_start(&other), "{other:?}");
        }
    }

    #[test]
    fn generated_ids_are_uuids_and_differ() {
        let (a, b) = (AttachmentId::generate(), AttachmentId::generate());
        assert_eq!(a.as_str().len(), 36);
        assert_ne!(a, b);
    }

    #[test]
    fn a_presigned_url_never_shows_in_debug_output() {
        let url = PresignedUrl {
            url: "https://bucket/key?X-Amz-Signature=secret".into(),
            expires_at: UNIX_EPOCH,
            headers: vec![],
        };
        assert!(!format!("{url:?}").contains("secret"));
    }
}
