//! The one configuration: every setting, its variable, its default and its rule, written once
//! and read once at start-up by a small environment reader. A bad value stops start-up with a
//! message that names the variable. The API function reads [`Config`]; the reaper reads only
//! its own settings, [`ReaperConfig`]. No module of this crate below it: the store, the service
//! and the API take their parts of it.

use std::str::FromStr;
use std::time::Duration;

use tracing_subscriber::filter::Targets;

use crate::telemetry;

pub const CONNECTIONS_TABLE: &str = "CONNECTIONS_TABLE";
pub const ATTACHMENTS_TABLE: &str = "ATTACHMENTS_TABLE";
pub const IDEMPOTENCY_TABLE: &str = "IDEMPOTENCY_TABLE";
pub const IDEMPOTENCY_TTL_SECONDS: &str = "IDEMPOTENCY_TTL_SECONDS";
pub const MAX_ATTACHMENTS_PER_CONTACT: &str = "MAX_ATTACHMENTS_PER_CONTACT";
pub const DYNAMODB_TIMEOUT_MS: &str = "DYNAMODB_TIMEOUT_MS";
pub const ATTACHMENTS_BUCKET: &str = "ATTACHMENTS_BUCKET";
pub const MAX_ATTACHMENT_SIZE_BYTES: &str = "MAX_ATTACHMENT_SIZE_BYTES";
pub const ALLOWED_CONTENT_TYPES: &str = "ALLOWED_CONTENT_TYPES";
pub const UPLOAD_URL_TTL_SECONDS: &str = "UPLOAD_URL_TTL_SECONDS";
pub const PENDING_ATTACHMENT_TTL_SECONDS: &str = "PENDING_ATTACHMENT_TTL_SECONDS";
pub const S3_TIMEOUT_MS: &str = "S3_TIMEOUT_MS";
pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
pub const METRICS_NAMESPACE: &str = "METRICS_NAMESPACE";
pub const RUST_LOG: &str = "RUST_LOG";
pub const ATTACHMENT_RETENTION_DAYS: &str = "ATTACHMENT_RETENTION_DAYS";

/// The variables the API function reads that a deployment sets (Lambda itself sets `AWS_*`).
pub const FUNCTION_VARIABLES: [&str; 16] = [
    CONNECTIONS_TABLE,
    ATTACHMENTS_TABLE,
    IDEMPOTENCY_TABLE,
    IDEMPOTENCY_TTL_SECONDS,
    MAX_ATTACHMENTS_PER_CONTACT,
    DYNAMODB_TIMEOUT_MS,
    ATTACHMENTS_BUCKET,
    MAX_ATTACHMENT_SIZE_BYTES,
    ALLOWED_CONTENT_TYPES,
    UPLOAD_URL_TTL_SECONDS,
    PENDING_ATTACHMENT_TTL_SECONDS,
    S3_TIMEOUT_MS,
    ALLOWED_ORIGINS,
    METRICS_NAMESPACE,
    RUST_LOG,
    ATTACHMENT_RETENTION_DAYS,
];

/// The variables the reaper reads.
pub const REAPER_VARIABLES: [&str; 3] = [ATTACHMENTS_BUCKET, S3_TIMEOUT_MS, RUST_LOG];

/// The contract's defaults, each written once.
pub const DEFAULT_CONNECTIONS_TABLE: &str = "connections";
pub const DEFAULT_ATTACHMENTS_TABLE: &str = "attachments";
pub const DEFAULT_IDEMPOTENCY_TABLE: &str = "idempotency";
pub const DEFAULT_BUCKET: &str = "attachments";
pub const DEFAULT_IDEMPOTENCY_TTL_SECONDS: u64 = 86_400;
pub const DEFAULT_MAX_ATTACHMENTS_PER_CONTACT: u32 = 100;
pub const DEFAULT_PENDING_ATTACHMENT_TTL_SECONDS: u64 = 86_400;
pub const DEFAULT_MAX_ATTACHMENT_SIZE_BYTES: u64 = 20 * 1024 * 1024;
pub const DEFAULT_UPLOAD_URL_TTL_SECONDS: u64 = 300;
/// 0: approved files are kept.
pub const DEFAULT_ATTACHMENT_RETENTION_DAYS: u64 = 0;
pub const DEFAULT_TIMEOUT_MS: u64 = 3_000;
pub const DEFAULT_LOG_FILTER: &str = "info";
pub const DEFAULT_METRICS_NAMESPACE: &str = "ChatAttachments";
pub const DEFAULT_ALLOWED_CONTENT_TYPES: [&str; 16] = [
    "text/plain",
    "text/csv",
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/heic",
    "audio/wav",
    "video/mp4",
    "video/quicktime",
    "application/rtf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];
/// A hundred years: a longer retention is a mistake.
const MAX_ATTACHMENT_RETENTION_DAYS: u64 = 36_500;
/// S3's limit on a SigV4 pre-signed URL's life: 7 days.
const MAX_UPLOAD_URL_TTL_SECONDS: u64 = 604_800;

/// Everything the API function reads.
#[derive(Debug, Clone)]
pub struct Config {
    pub tables: Tables,
    pub bucket: String,
    pub settings: Settings,
    pub aws: Aws,
    /// Bound on one DynamoDB operation, the SDK's own retries included.
    pub dynamodb_timeout: Duration,
    /// Bound on one S3 operation, the SDK's own retries included.
    pub s3_timeout: Duration,
    pub log_filter: Targets,
    /// Pages allowed to call the API from a browser (none by default).
    pub origins: Origins,
    /// The CloudWatch namespace of the function's metrics.
    pub metrics_namespace: String,
}

/// Everything the reaper reads.
#[derive(Debug, Clone)]
pub struct ReaperConfig {
    pub bucket: String,
    pub aws: Aws,
    pub s3_timeout: Duration,
    pub log_filter: Targets,
}

/// What both functions take from Lambda's environment. Region and credentials come from the
/// environment only (Lambda sets both), so that start-up never asks the instance-metadata
/// service or reads an SSO cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aws {
    pub region: String,
    /// An S3 endpoint override (a local S3 server) is addressed path-style.
    pub s3_path_style: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub connections: String,
    pub attachments: String,
    pub idempotency: String,
}

impl Default for Tables {
    fn default() -> Self {
        Self {
            connections: DEFAULT_CONNECTIONS_TABLE.into(),
            attachments: DEFAULT_ATTACHMENTS_TABLE.into(),
            idempotency: DEFAULT_IDEMPOTENCY_TABLE.into(),
        }
    }
}

/// What the operations need: the limits every write checks, what a start accepts, and how
/// colliding transactions are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub limits: Limits,
    pub uploads: Uploads,
    pub retry: RetryPolicy,
}

/// The limits every write checks, fixed per deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub idempotency_ttl_seconds: u64,
    pub max_attachments_per_contact: u32,
    pub pending_attachment_ttl_seconds: u64,
    /// How long an approved attachment's file and record are kept; 0: for good.
    pub retention_seconds: u64,
}

/// What a start accepts and how long its URL lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploads {
    pub max_size_bytes: u64,
    /// Lowercase: a declared type is compared case-insensitively, then stored as sent.
    pub allowed_content_types: Vec<String>,
    pub url_ttl: Duration,
}

impl Uploads {
    pub fn allows(&self, content_type: &str) -> bool {
        self.allowed_content_types
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(content_type))
    }
}

/// Bounded, jittered retries of a transaction that collided with a concurrent one (not a
/// variable: a property of DynamoDB's contention, not of a deployment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            limits: Limits {
                idempotency_ttl_seconds: DEFAULT_IDEMPOTENCY_TTL_SECONDS,
                max_attachments_per_contact: DEFAULT_MAX_ATTACHMENTS_PER_CONTACT,
                pending_attachment_ttl_seconds: DEFAULT_PENDING_ATTACHMENT_TTL_SECONDS,
                retention_seconds: DEFAULT_ATTACHMENT_RETENTION_DAYS * 86_400,
            },
            uploads: Uploads {
                max_size_bytes: DEFAULT_MAX_ATTACHMENT_SIZE_BYTES,
                allowed_content_types: DEFAULT_ALLOWED_CONTENT_TYPES.map(str::to_owned).to_vec(),
                url_ttl: Duration::from_secs(DEFAULT_UPLOAD_URL_TTL_SECONDS),
            },
            retry: RetryPolicy {
                max_attempts: 8,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(250),
            },
        }
    }
}

/// The origins allowed to call the API from a browser (`ALLOWED_ORIGINS`); none: no CORS
/// headers at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(Vec<String>);

impl Origins {
    /// A comma-separated list of origins (`https://chat.example.com`), or `*`.
    pub fn parse(list: &str) -> Option<Self> {
        let origins: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| o.trim_end_matches('/').to_owned())
            .collect();
        let valid = origins.iter().all(|o| {
            o == "*"
                || ((o.starts_with("http://") || o.starts_with("https://"))
                    && !o.contains(['"', ' ', ',']))
        });
        valid.then_some(Self(origins))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every origin is allowed (`*`).
    pub fn any(&self) -> bool {
        self.0.iter().any(|o| o == "*")
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.any() || self.0.iter().any(|o| o == origin)
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: expected {expected}")]
    Invalid {
        name: &'static str,
        expected: &'static str,
    },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        let table = |name, default| env.read(name, default, table_name, TABLE_NAME);
        let tables = Tables {
            connections: table(CONNECTIONS_TABLE, DEFAULT_CONNECTIONS_TABLE)?,
            attachments: table(ATTACHMENTS_TABLE, DEFAULT_ATTACHMENTS_TABLE)?,
            idempotency: table(IDEMPOTENCY_TABLE, DEFAULT_IDEMPOTENCY_TABLE)?,
        };
        let defaults = Settings::default();
        let settings = Settings {
            limits: Limits {
                idempotency_ttl_seconds: env.number(
                    IDEMPOTENCY_TTL_SECONDS,
                    DEFAULT_IDEMPOTENCY_TTL_SECONDS,
                )?,
                max_attachments_per_contact: env.number(
                    MAX_ATTACHMENTS_PER_CONTACT,
                    DEFAULT_MAX_ATTACHMENTS_PER_CONTACT,
                )?,
                pending_attachment_ttl_seconds: env.number(
                    PENDING_ATTACHMENT_TTL_SECONDS,
                    DEFAULT_PENDING_ATTACHMENT_TTL_SECONDS,
                )?,
                retention_seconds: 86_400
                    * env.read(
                        ATTACHMENT_RETENTION_DAYS,
                        DEFAULT_ATTACHMENT_RETENTION_DAYS,
                        |text| {
                            text.trim()
                                .parse::<u64>()
                                .ok()
                                .filter(|days| *days <= MAX_ATTACHMENT_RETENTION_DAYS)
                        },
                        "a whole number of days from 0 (keep files) to 36500",
                    )?,
            },
            uploads: Uploads {
                max_size_bytes: env
                    .number(MAX_ATTACHMENT_SIZE_BYTES, DEFAULT_MAX_ATTACHMENT_SIZE_BYTES)?,
                allowed_content_types: match env.get(ALLOWED_CONTENT_TYPES) {
                    Some(list) => content_types(&list).ok_or(env.invalid(
                        ALLOWED_CONTENT_TYPES,
                        "a comma-separated list of type/subtype values, such as `text/plain,image/png`",
                    ))?,
                    None => defaults.uploads.allowed_content_types,
                },
                url_ttl: Duration::from_secs(env.read(
                    UPLOAD_URL_TTL_SECONDS,
                    DEFAULT_UPLOAD_URL_TTL_SECONDS,
                    |text| positive(text).filter(|ttl| *ttl <= MAX_UPLOAD_URL_TTL_SECONDS),
                    "a whole number of seconds from 1 to 604800 (7 days)",
                )?),
            },
            retry: defaults.retry,
        };
        Ok(Self {
            tables,
            bucket: env.bucket()?,
            settings,
            aws: env.aws()?,
            dynamodb_timeout: env.millis(DYNAMODB_TIMEOUT_MS)?,
            s3_timeout: env.millis(S3_TIMEOUT_MS)?,
            log_filter: env.log_filter()?,
            origins: match env.get(ALLOWED_ORIGINS) {
                None => Origins::default(),
                Some(list) => Origins::parse(&list).ok_or(env.invalid(
                    ALLOWED_ORIGINS,
                    "a comma-separated list of origins such as https://chat.example.com, or *",
                ))?,
            },
            metrics_namespace: env.read(
                METRICS_NAMESPACE,
                DEFAULT_METRICS_NAMESPACE,
                namespace,
                "a CloudWatch namespace of 1 to 255 characters",
            )?,
        })
    }
}

impl ReaperConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        Ok(Self {
            bucket: env.bucket()?,
            aws: env.aws()?,
            s3_timeout: env.millis(S3_TIMEOUT_MS)?,
            log_filter: env.log_filter()?,
        })
    }
}

const TABLE_NAME: &str = "a DynamoDB table name (3-255 characters of A-Z a-z 0-9 _ - .)";

/// The environment, through a lookup.
struct Env<F>(F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }

    fn invalid(&self, name: &'static str, expected: &'static str) -> ConfigError {
        ConfigError::Invalid { name, expected }
    }

    /// The variable parsed by `parse`, or `default` when it is not set.
    fn read<T, D: Into<T>>(
        &self,
        name: &'static str,
        default: D,
        parse: impl Fn(&str) -> Option<T>,
        expected: &'static str,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default.into()),
            Some(text) => parse(&text).ok_or(self.invalid(name, expected)),
        }
    }

    /// A whole number of at least 1.
    fn number<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + From<u8>,
    {
        self.read(name, default, positive, "a whole number of at least 1")
    }

    fn millis(&self, name: &'static str) -> Result<Duration, ConfigError> {
        self.number(name, DEFAULT_TIMEOUT_MS)
            .map(Duration::from_millis)
    }

    fn bucket(&self) -> Result<String, ConfigError> {
        self.read(
            ATTACHMENTS_BUCKET,
            DEFAULT_BUCKET,
            bucket_name,
            "an S3 bucket name (3-63 characters of a-z 0-9 . -)",
        )
    }

    fn log_filter(&self) -> Result<Targets, ConfigError> {
        let directives = self.get(RUST_LOG);
        telemetry::filter(directives.as_deref().unwrap_or(DEFAULT_LOG_FILTER)).map_err(|_| {
            self.invalid(
                RUST_LOG,
                "levels or target=level directives, such as `info` or `warn,connect_attachments=debug`",
            )
        })
    }

    fn aws(&self) -> Result<Aws, ConfigError> {
        let region = self
            .get("AWS_REGION")
            .or_else(|| self.get("AWS_DEFAULT_REGION"))
            .filter(|region| !region.is_empty())
            .ok_or(ConfigError::Missing("AWS_REGION"))?;
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            self.get(name)
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(name))?;
        }
        for name in [
            "AWS_ENDPOINT_URL_DYNAMODB",
            "AWS_ENDPOINT_URL_S3",
            "AWS_ENDPOINT_URL",
        ] {
            self.read(
                name,
                String::new(),
                |url| {
                    (url.starts_with("http://") || url.starts_with("https://"))
                        .then(|| url.to_owned())
                },
                "an http:// or https:// URL",
            )?;
        }
        let s3_path_style = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|name| self.get(name).is_some_and(|url| !url.is_empty()));
        Ok(Aws {
            region,
            s3_path_style,
        })
    }
}

fn positive<T: FromStr + PartialOrd + From<u8>>(text: &str) -> Option<T> {
    text.trim().parse::<T>().ok().filter(|n| *n >= T::from(1))
}

/// DynamoDB's rule for table names: 3 to 255 of `[A-Za-z0-9_.-]`.
fn table_name(table: &str) -> Option<String> {
    let valid = (3..=255).contains(&table.len())
        && table
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    valid.then(|| table.to_owned())
}

/// S3's rule for bucket names: 3 to 63 of lowercase letters, digits, dots and hyphens, starting
/// and ending with a letter or digit.
fn bucket_name(bucket: &str) -> Option<String> {
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let valid = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'))
        && edge(bucket.as_bytes().first())
        && edge(bucket.as_bytes().last());
    valid.then(|| bucket.to_owned())
}

/// A comma-separated list of `type/subtype` values, compared case-insensitively.
fn content_types(list: &str) -> Option<Vec<String>> {
    let types: Vec<String> = list
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let valid = types.iter().all(|t| {
        t.split_once('/').is_some_and(|(kind, sub)| {
            !kind.is_empty() && !sub.is_empty() && !t.contains([';', ' ', '"'])
        })
    });
    valid.then_some(types)
}

/// CloudWatch's rule: 1-255 of A-Z a-z 0-9 . - _ / # :, not starting with `:`; `AWS/` is AWS's.
fn namespace(name: &str) -> Option<String> {
    let valid = (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/#:".contains(&b))
        && !name.starts_with(':')
        && !name.starts_with("AWS/");
    valid.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut env: HashMap<String, String> = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in vars {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn defaults() {
        let config = config(&[]).unwrap();
        assert_eq!(config.tables.connections, "connections");
        assert_eq!(config.tables.attachments, "attachments");
        assert_eq!(config.tables.idempotency, "idempotency");
        assert_eq!(config.settings.limits.idempotency_ttl_seconds, 86_400);
        assert_eq!(config.settings.limits.max_attachments_per_contact, 100);
        assert_eq!(
            config.settings.limits.pending_attachment_ttl_seconds,
            86_400
        );
        assert_eq!(config.settings.uploads.max_size_bytes, 20_971_520);
        assert_eq!(config.settings.limits.retention_seconds, 0);
        assert_eq!(config.settings.uploads.allowed_content_types.len(), 16);
        assert_eq!(config.settings.uploads.url_ttl, Duration::from_secs(300));
        assert_eq!(config.bucket, "attachments");
        assert!(!config.aws.s3_path_style);
        assert_eq!(config.dynamodb_timeout, Duration::from_secs(3));
        assert_eq!(config.s3_timeout, Duration::from_secs(3));
        assert_eq!(config.aws.region, "eu-west-1");
        assert_eq!(config.metrics_namespace, "ChatAttachments");
        assert_eq!(
            config.log_filter.default_level(),
            Some(tracing::level_filters::LevelFilter::INFO)
        );
    }

    #[test]
    fn settings_are_read() {
        let config = config(&[
            ("CONNECTIONS_TABLE", "prod.connections"),
            ("IDEMPOTENCY_TTL_SECONDS", "3600"),
            ("MAX_ATTACHMENTS_PER_CONTACT", "5"),
            ("DYNAMODB_TIMEOUT_MS", "750"),
            ("RUST_LOG", "warn,connect_attachments=debug"),
            ("ATTACHMENTS_BUCKET", "prod-attachments.example"),
            ("MAX_ATTACHMENT_SIZE_BYTES", "1024"),
            ("ALLOWED_CONTENT_TYPES", "text/plain, Image/PNG"),
            ("UPLOAD_URL_TTL_SECONDS", "60"),
            ("PENDING_ATTACHMENT_TTL_SECONDS", "600"),
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:8333"),
            ("ATTACHMENT_RETENTION_DAYS", "30"),
        ])
        .unwrap();
        assert_eq!(config.tables.connections, "prod.connections");
        assert_eq!(config.settings.limits.idempotency_ttl_seconds, 3600);
        assert_eq!(config.settings.limits.max_attachments_per_contact, 5);
        assert_eq!(config.settings.limits.pending_attachment_ttl_seconds, 600);
        assert_eq!(config.settings.limits.retention_seconds, 30 * 86_400);
        assert_eq!(config.bucket, "prod-attachments.example");
        assert_eq!(config.settings.uploads.max_size_bytes, 1024);
        assert_eq!(
            config.settings.uploads.allowed_content_types,
            ["text/plain", "image/png"]
        );
        assert_eq!(config.settings.uploads.url_ttl, Duration::from_secs(60));
        assert!(config.aws.s3_path_style);
        assert_eq!(config.dynamodb_timeout, Duration::from_millis(750));
    }

    #[test]
    fn an_invalid_setting_is_named() {
        for (name, value) in [
            ("IDEMPOTENCY_TTL_SECONDS", "a day"),
            ("IDEMPOTENCY_TTL_SECONDS", "0"),
            ("MAX_ATTACHMENTS_PER_CONTACT", "-1"),
            ("MAX_ATTACHMENTS_PER_CONTACT", "0"),
            ("DYNAMODB_TIMEOUT_MS", ""),
            ("ATTACHMENTS_TABLE", "no spaces allowed"),
            ("IDEMPOTENCY_TABLE", "ab"),
            ("RUST_LOG", "connect_attachments=loud"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "localhost:8000"),
            ("AWS_ENDPOINT_URL_S3", "localhost:8333"),
            ("ATTACHMENTS_BUCKET", "Upper_Case"),
            ("ATTACHMENTS_BUCKET", "-edge"),
            ("MAX_ATTACHMENT_SIZE_BYTES", "0"),
            ("ALLOWED_CONTENT_TYPES", "text/plain,"),
            ("ALLOWED_CONTENT_TYPES", "text/plain; charset=utf-8"),
            ("UPLOAD_URL_TTL_SECONDS", "604801"),
            ("ATTACHMENT_RETENTION_DAYS", "-1"),
            ("ATTACHMENT_RETENTION_DAYS", "36501"),
            ("PENDING_ATTACHMENT_TTL_SECONDS", "0"),
            ("S3_TIMEOUT_MS", "soon"),
            ("ALLOWED_ORIGINS", "chat.example.com"),
            ("METRICS_NAMESPACE", ""),
            ("METRICS_NAMESPACE", "AWS/Lambda"),
            ("METRICS_NAMESPACE", "no spaces"),
            ("AWS_ENDPOINT_URL", "ftp://example.com"),
        ] {
            let error = config(&[(name, value)]).unwrap_err();
            assert!(
                error.to_string().starts_with(name),
                "{name}={value}: {error}"
            );
        }
    }

    #[test]
    fn a_missing_region_or_credential_is_named() {
        let env = HashMap::from([("AWS_REGION", "x"), ("AWS_ACCESS_KEY_ID", "id")]);
        let error = Config::from_lookup(|n| env.get(n).map(|v| (*v).to_owned())).unwrap_err();
        assert_eq!(error, ConfigError::Missing("AWS_SECRET_ACCESS_KEY"));
        let error = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(error, ConfigError::Missing("AWS_REGION"));
    }

    #[test]
    fn the_reaper_reads_only_its_own_settings() {
        let env = HashMap::from([
            ("AWS_REGION", "x"),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            (S3_TIMEOUT_MS, "500"),
            // The API function's settings, even broken ones, are not the reaper's business.
            (MAX_ATTACHMENTS_PER_CONTACT, "none"),
            (ALLOWED_ORIGINS, "not an origin"),
        ]);
        let config = ReaperConfig::from_lookup(|n| env.get(n).map(|v| (*v).to_owned())).unwrap();
        assert_eq!(config.s3_timeout, Duration::from_millis(500));
        assert_eq!(config.bucket, DEFAULT_BUCKET);
    }

    #[test]
    fn content_types_are_allowed_case_insensitively_and_only_whole() {
        let uploads = Settings::default().uploads;
        assert!(uploads.allows("text/plain"));
        assert!(uploads.allows("IMAGE/PNG"));
        assert!(!uploads.allows("text/plain; charset=utf-8"));
        assert!(!uploads.allows("text/html"));
        assert!(!uploads.allows(""));
    }
}
