//! Start-up, written once for both binaries and the tests: the configuration or a clear exit,
//! the JSON logs, the SDK clients, the store and object storage on them, their connections
//! warmed, the handler wired.

use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use tracing_subscriber::filter::Targets;

use crate::api::Handler;
use crate::config::{Aws, Config};
use crate::objects::s3::THROTTLING_STATUSES;
use crate::objects::S3Objects;
use crate::service::Service;
use crate::store::dynamodb::THROTTLING_CODES;
use crate::store::{DynamoDbStore, StoreError};
use crate::telemetry::{self, Metrics};
use crate::throttle;

/// The handler as the function runs it.
pub type App = Handler<DynamoDbStore, S3Objects>;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("CONNECTIONS_TABLE: no table {0:?} at this DynamoDB endpoint")]
    NoConnectionsTable(String),
}

/// The value, or start-up cannot go on: say why (a bad setting names its variable), and stop
/// with exit code 2, as Lambda expects a broken init to.
pub fn or_exit<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|error| {
        eprintln!("invalid configuration: {error}");
        std::process::exit(2)
    })
}

/// The JSON logs on stdout, panics included.
pub fn install_logs(filter: Targets) {
    telemetry::log_panics();
    let subscriber = telemetry::subscriber(filter, std::io::stdout);
    or_exit(tracing::subscriber::set_global_default(subscriber));
}

/// Timeouts that bound one operation, the SDK's retries included.
pub fn timeouts(operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(operation.min(Duration::from_secs(1)))
        .operation_attempt_timeout(operation / 2)
        .operation_timeout(operation)
        .build()
}

/// The SDK's standard retries (3 attempts), their back-off scaled to the operation's bound: an
/// attempt that stalled for half of it (its own timeout), then at most a tenth in back-off,
/// leaves the retry 40% of the bound. The SDK's default (up to 1 s, then 2 s) would spend a
/// 2 s bound waiting. Throttling that outlasts the bound is 429 either way (src/throttle.rs).
pub fn retries(operation: Duration) -> RetryConfig {
    RetryConfig::standard()
        .with_initial_backoff(operation / 10)
        .with_max_backoff(operation / 5)
}

/// The SDK configuration both clients share: region and credentials from the environment only
/// (pre-signing must never call a credential endpoint), endpoints from the SDK's standard
/// variables (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`).
pub async fn sdk_config(aws: &Aws) -> SdkConfig {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .region(Region::new(aws.region.clone()))
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .load()
        .await
}

/// The DynamoDB client: every call bounded by `timeout`, its throttled attempts witnessed. The
/// tests and devkit build theirs here too.
pub fn dynamodb_client(sdk: &SdkConfig, timeout: Duration) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .timeout_config(timeouts(timeout))
        .retry_config(retries(timeout))
        .interceptor(throttle::Witness::dynamodb(&THROTTLING_CODES))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// The S3 client, as [`dynamodb_client`]; `path_style` for a local S3 server, which has no
/// per-bucket host names.
pub fn s3_client(sdk: &SdkConfig, timeout: Duration, path_style: bool) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .timeout_config(timeouts(timeout))
        .retry_config(retries(timeout))
        .interceptor(throttle::Witness::s3(&THROTTLING_STATUSES))
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Builds the function as `main` runs it, both connections opened during init (where Lambda
/// runs the process at full CPU). A missing connections table stops start-up; any other
/// warm-up failure only means the first request connects.
pub async fn build(config: &Config) -> Result<App, StartupError> {
    for content_type in &config.settings.uploads.allowed_content_types {
        if !crate::content::is_known(content_type) {
            tracing::info!(
                content_type,
                "no known signature for this allowed type: its files are accepted on their declaration"
            );
        }
    }
    let sdk = sdk_config(&config.aws).await;
    let store = DynamoDbStore::new(
        dynamodb_client(&sdk, config.dynamodb_timeout),
        config.tables.clone(),
    );
    let objects = S3Objects::new(
        s3_client(&sdk, config.s3_timeout, config.aws.s3_path_style),
        config.bucket.clone(),
    );
    let (table, bucket) = tokio::join!(store.warm_up(), objects.warm_up());
    match table {
        Ok(()) => {}
        Err(StoreError::TableNotFound) => {
            return Err(StartupError::NoConnectionsTable(
                config.tables.connections.clone(),
            ))
        }
        Err(error) => {
            tracing::warn!(error = ?error, "DynamoDB warm-up failed; the first request will connect")
        }
    }
    if let Err(error) = bucket {
        tracing::warn!(error = ?error, "S3 warm-up failed; the first request will connect");
    }
    Ok(
        Handler::new(Service::new(store, objects, config.settings.clone()))
            .with_cors(config.origins.clone())
            .with_metrics(Metrics::new(&config.metrics_namespace, std::io::stdout)),
    )
}
