//! The local services `make run` and `make test` start (DynamoDB Local, a SeaweedFS S3 server):
//! their endpoints and credentials, SDK clients for them, and the tables and bucket created
//! from the function's own schema.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use connect_attachments::api::cors;
use connect_attachments::config::Tables;
use connect_attachments::config::{self, DEFAULT_BUCKET};
use connect_attachments::startup;
use connect_attachments::store::schema;

pub const REGION: &str = "us-east-1";

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run this through `make test` (or scripts/with-services.sh), \
             which starts DynamoDB Local and the S3 server"
        )
    })
}

/// The DynamoDB Local that `make test` started. Without it, a test fails: it never skips.
pub fn dynamodb_endpoint() -> String {
    required("AWS_ENDPOINT_URL_DYNAMODB")
}

/// The S3 server that `make test` started.
pub fn s3_endpoint() -> String {
    required("AWS_ENDPOINT_URL_S3")
}

pub fn tables() -> Tables {
    let defaults = Tables::default();
    let var = |name: &str, default: String| std::env::var(name).unwrap_or(default);
    Tables {
        connections: var(config::CONNECTIONS_TABLE, defaults.connections),
        attachments: var(config::ATTACHMENTS_TABLE, defaults.attachments),
        idempotency: var(config::IDEMPOTENCY_TABLE, defaults.idempotency),
    }
}

pub fn bucket() -> String {
    std::env::var(config::ATTACHMENTS_BUCKET).unwrap_or_else(|_| DEFAULT_BUCKET.to_owned())
}

/// The credentials of the environment, the one pair everything signs with: the local pair that
/// scripts/lib.sh's `local_credentials` sets for the servers this project starts (SeaweedFS
/// verifies SigV4 with it), or the shell's own for endpoints of its own.
pub fn credentials() -> aws_sdk_dynamodb::config::Credentials {
    aws_sdk_dynamodb::config::Credentials::new(
        required("AWS_ACCESS_KEY_ID"),
        required("AWS_SECRET_ACCESS_KEY"),
        std::env::var("AWS_SESSION_TOKEN").ok(),
        None,
        "environment",
    )
}

/// The SDK configuration of the local clients: the environment's credentials, `endpoint`.
fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials()),
        )
        .build()
}

/// The function's own DynamoDB client (its timeouts, retries and throttling witness), pointed at
/// `endpoint`.
pub fn dynamodb_client_for(endpoint: &str, timeout: Duration) -> aws_sdk_dynamodb::Client {
    startup::dynamodb_client(&sdk_config(endpoint), timeout)
}

pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    dynamodb_client_for(&dynamodb_endpoint(), Duration::from_secs(10))
}

/// The function's own S3 client (path-style, as with any endpoint override), at `endpoint`.
pub fn s3_client_for(endpoint: &str, timeout: Duration) -> aws_sdk_s3::Client {
    startup::s3_client(&sdk_config(endpoint), timeout, true)
}

pub fn s3_client() -> aws_sdk_s3::Client {
    s3_client_for(&s3_endpoint(), Duration::from_secs(10))
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Creates the three tables (keys and TTL from the schema) and the bucket, if missing.
pub async fn create_tables_and_bucket(
    dynamodb: &aws_sdk_dynamodb::Client,
    s3: &aws_sdk_s3::Client,
    tables: &Tables,
    bucket: &str,
) -> Result<(), BoxError> {
    for table in schema::definitions(tables) {
        let created = dynamodb
            .create_table()
            .table_name(&table.name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(table.partition_key)
                    .attribute_type(ScalarAttributeType::S)
                    .build()?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(table.partition_key)
                    .key_type(KeyType::Hash)
                    .build()?,
            )
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                continue; // it exists, TTL included
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(attribute) = table.ttl_attribute {
            dynamodb
                .update_time_to_live()
                .table_name(&table.name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .enabled(true)
                        .attribute_name(attribute)
                        .build()?,
                )
                .send()
                .await?;
        }
    }
    match s3.create_bucket().bucket(bucket).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error().is_some_and(|e| {
                e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
            }) => {}
        Err(e) => return Err(e.into()),
    }
    if let Ok(list) = std::env::var(config::ALLOWED_ORIGINS) {
        let origins = config::Origins::parse(&list).ok_or("ALLOWED_ORIGINS: a list of origins")?;
        put_bucket_cors(s3, bucket, origins.as_slice()).await?;
    }
    Ok(())
}

/// The bucket's CORS, as template.yaml configures the real bucket: PUT and GET from the pages of
/// `origins`, with the headers the pre-signed PUT signs.
pub async fn put_bucket_cors(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    origins: &[String],
) -> Result<(), BoxError> {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let rule = CorsRule::builder()
        .set_allowed_origins(Some(origins.to_vec()))
        .set_allowed_methods(Some(cors::BUCKET_METHODS.map(String::from).to_vec()))
        .set_allowed_headers(Some(cors::BUCKET_HEADERS.map(String::from).to_vec()))
        .set_expose_headers(Some(
            cors::BUCKET_EXPOSED_HEADERS.map(String::from).to_vec(),
        ))
        .max_age_seconds(cors::BUCKET_MAX_AGE_SECONDS)
        .build()?;
    s3.put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(CorsConfiguration::builder().cors_rules(rule).build()?)
        .send()
        .await?;
    Ok(())
}
