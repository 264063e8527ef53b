//! Settings, read once from the environment at start-up. A bad value stops start-up with a
//! message that names the variable.

use std::time::Duration;

use tracing_subscriber::filter::Targets;

use crate::cors::Origins;
use crate::logging;
use crate::schema::Tables;
use crate::service::{Settings, Uploads};
use crate::store::Limits;

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

/// The variables this function reads that a deployment sets (Lambda itself sets `AWS_*`).
pub const FUNCTION_VARIABLES: [&str; 15] = [
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
];

/// The contract's local default bucket.
pub const DEFAULT_BUCKET: &str = "attachments";
pub const DEFAULT_TIMEOUT_MS: u64 = 3_000;

#[derive(Debug, Clone)]
pub struct Config {
    pub tables: Tables,
    pub bucket: String,
    pub settings: Settings,
    pub region: String,
    /// Bound on one DynamoDB operation, the SDK's own retries included.
    pub dynamodb_timeout: Duration,
    /// Bound on one S3 operation, the SDK's own retries included.
    pub s3_timeout: Duration,
    /// An S3 endpoint override (a local S3 server) is addressed path-style.
    pub s3_path_style: bool,
    pub log_filter: Targets,
    /// Pages allowed to call the API from a browser (none by default).
    pub origins: Origins,
    /// The CloudWatch namespace of the function's metrics.
    pub metrics_namespace: String,
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
        let (tables, settings) = (Tables::default(), Settings::default());
        let tables = Tables {
            connections: table_name(
                lookup(CONNECTIONS_TABLE),
                CONNECTIONS_TABLE,
                tables.connections,
            )?,
            attachments: table_name(
                lookup(ATTACHMENTS_TABLE),
                ATTACHMENTS_TABLE,
                tables.attachments,
            )?,
            idempotency: table_name(
                lookup(IDEMPOTENCY_TABLE),
                IDEMPOTENCY_TABLE,
                tables.idempotency,
            )?,
        };
        let limits = Limits {
            idempotency_ttl_seconds: number(
                lookup(IDEMPOTENCY_TTL_SECONDS),
                IDEMPOTENCY_TTL_SECONDS,
                settings.limits.idempotency_ttl_seconds,
            )?,
            max_attachments_per_contact: number(
                lookup(MAX_ATTACHMENTS_PER_CONTACT),
                MAX_ATTACHMENTS_PER_CONTACT,
                settings.limits.max_attachments_per_contact,
            )?,
            pending_attachment_ttl_seconds: number(
                lookup(PENDING_ATTACHMENT_TTL_SECONDS),
                PENDING_ATTACHMENT_TTL_SECONDS,
                settings.limits.pending_attachment_ttl_seconds,
            )?,
        };
        let uploads = Uploads {
            max_size_bytes: number(
                lookup(MAX_ATTACHMENT_SIZE_BYTES),
                MAX_ATTACHMENT_SIZE_BYTES,
                settings.uploads.max_size_bytes,
            )?,
            allowed_content_types: match lookup(ALLOWED_CONTENT_TYPES) {
                Some(list) => content_types(&list)?,
                None => settings.uploads.allowed_content_types,
            },
            url_ttl: Duration::from_secs(upload_url_ttl(lookup(UPLOAD_URL_TTL_SECONDS))?),
        };
        let settings = Settings {
            limits,
            uploads,
            retry: settings.retry,
        };
        let bucket = bucket_name(lookup(ATTACHMENTS_BUCKET))?;
        // Region and credentials come from the environment only (Lambda sets both), so that
        // start-up never asks the instance-metadata service or reads an SSO cache.
        let region = lookup("AWS_REGION")
            .or_else(|| lookup("AWS_DEFAULT_REGION"))
            .filter(|region| !region.is_empty())
            .ok_or(ConfigError::Missing("AWS_REGION"))?;
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(name))?;
        }
        for name in [
            "AWS_ENDPOINT_URL_DYNAMODB",
            "AWS_ENDPOINT_URL_S3",
            "AWS_ENDPOINT_URL",
        ] {
            if let Some(url) = lookup(name) {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError::Invalid {
                        name,
                        expected: "an http:// or https:// URL",
                    });
                }
            }
        }
        let s3_path_style = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|name| lookup(name).is_some_and(|url| !url.is_empty()));
        let timeout_ms: u64 = number(
            lookup(DYNAMODB_TIMEOUT_MS),
            DYNAMODB_TIMEOUT_MS,
            DEFAULT_TIMEOUT_MS,
        )?;
        let s3_timeout_ms: u64 = number(lookup(S3_TIMEOUT_MS), S3_TIMEOUT_MS, DEFAULT_TIMEOUT_MS)?;
        let log_filter = logging::filter(lookup(RUST_LOG).as_deref().unwrap_or("info")).map_err(|_| {
            ConfigError::Invalid {
                name: RUST_LOG,
                expected: "levels or target=level directives, such as `info` or `warn,connect_attachments=debug`",
            }
        })?;
        let origins = match lookup(ALLOWED_ORIGINS) {
            None => Origins::default(),
            Some(list) => Origins::parse(&list).ok_or(ConfigError::Invalid {
                name: ALLOWED_ORIGINS,
                expected:
                    "a comma-separated list of origins such as https://chat.example.com, or *",
            })?,
        };
        let metrics_namespace = lookup(METRICS_NAMESPACE)
            .unwrap_or_else(|| crate::metrics::DEFAULT_NAMESPACE.to_owned());
        // CloudWatch's rule: 1-255 of A-Z a-z 0-9 . - _ / # :, not starting with `:`; `AWS/` is AWS's.
        let valid_namespace = (1..=255).contains(&metrics_namespace.len())
            && metrics_namespace
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/#:".contains(&b))
            && !metrics_namespace.starts_with(':')
            && !metrics_namespace.starts_with("AWS/");
        if !valid_namespace {
            return Err(ConfigError::Invalid {
                name: METRICS_NAMESPACE,
                expected: "a CloudWatch namespace of 1 to 255 characters",
            });
        }
        Ok(Self {
            metrics_namespace,
            origins,
            tables,
            bucket,
            settings,
            region,
            dynamodb_timeout: Duration::from_millis(timeout_ms),
            s3_timeout: Duration::from_millis(s3_timeout_ms),
            s3_path_style,
            log_filter,
        })
    }
}

/// DynamoDB's rule for table names: 3 to 255 of `[A-Za-z0-9_.-]`.
fn table_name(
    value: Option<String>,
    name: &'static str,
    default: String,
) -> Result<String, ConfigError> {
    let table = value.unwrap_or(default);
    let valid = (3..=255).contains(&table.len())
        && table
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if valid {
        Ok(table)
    } else {
        Err(ConfigError::Invalid {
            name,
            expected: "a DynamoDB table name (3-255 characters of A-Z a-z 0-9 _ - .)",
        })
    }
}

/// S3's rule for bucket names: 3 to 63 of lowercase letters, digits, dots and hyphens, starting
/// and ending with a letter or digit.
fn bucket_name(value: Option<String>) -> Result<String, ConfigError> {
    let bucket = value.unwrap_or_else(|| DEFAULT_BUCKET.to_owned());
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let valid = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'))
        && edge(bucket.as_bytes().first())
        && edge(bucket.as_bytes().last());
    if valid {
        Ok(bucket)
    } else {
        Err(ConfigError::Invalid {
            name: ATTACHMENTS_BUCKET,
            expected: "an S3 bucket name (3-63 characters of a-z 0-9 . -)",
        })
    }
}

/// A comma-separated list of `type/subtype` values, compared case-insensitively.
fn content_types(list: &str) -> Result<Vec<String>, ConfigError> {
    let types: Vec<String> = list
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let valid = types.iter().all(|t| {
        t.split_once('/').is_some_and(|(kind, sub)| {
            !kind.is_empty() && !sub.is_empty() && !t.contains([';', ' ', '"'])
        })
    });
    if valid {
        Ok(types)
    } else {
        Err(ConfigError::Invalid {
            name: ALLOWED_CONTENT_TYPES,
            expected:
                "a comma-separated list of type/subtype values, such as `text/plain,image/png`",
        })
    }
}

/// A pre-signed URL lives at most 7 days (S3's limit for SigV4).
fn upload_url_ttl(value: Option<String>) -> Result<u64, ConfigError> {
    let ttl: u64 = number(value, UPLOAD_URL_TTL_SECONDS, 300)?;
    if ttl <= 604_800 {
        Ok(ttl)
    } else {
        Err(ConfigError::Invalid {
            name: UPLOAD_URL_TTL_SECONDS,
            expected: "a whole number of seconds from 1 to 604800 (7 days)",
        })
    }
}

/// A positive whole number, or `default` when the variable is not set.
fn number<T>(value: Option<String>, name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    let Some(text) = value else {
        return Ok(default);
    };
    match text.trim().parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => Err(ConfigError::Invalid {
            name,
            expected: "a whole number of at least 1",
        }),
    }
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
        assert_eq!(config.settings.uploads.allowed_content_types.len(), 16);
        assert_eq!(config.settings.uploads.url_ttl, Duration::from_secs(300));
        assert_eq!(config.bucket, "attachments");
        assert!(!config.s3_path_style);
        assert_eq!(config.dynamodb_timeout, Duration::from_secs(3));
        assert_eq!(config.s3_timeout, Duration::from_secs(3));
        assert_eq!(config.region, "eu-west-1");
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
        ])
        .unwrap();
        assert_eq!(config.tables.connections, "prod.connections");
        assert_eq!(config.settings.limits.idempotency_ttl_seconds, 3600);
        assert_eq!(config.settings.limits.max_attachments_per_contact, 5);
        assert_eq!(config.settings.limits.pending_attachment_ttl_seconds, 600);
        assert_eq!(config.bucket, "prod-attachments.example");
        assert_eq!(config.settings.uploads.max_size_bytes, 1024);
        assert_eq!(
            config.settings.uploads.allowed_content_types,
            ["text/plain", "image/png"]
        );
        assert_eq!(config.settings.uploads.url_ttl, Duration::from_secs(60));
        assert!(config.s3_path_style);
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
}
