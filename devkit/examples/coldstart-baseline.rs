//! The cold-start benchmark's baseline (benches/coldstart.rs): the function's
//! CompleteAttachmentUpload job written the way most teams would, deliberately not tuned:
//! `aws_config::load_defaults` with aws-config's default features (the SDK's default HTTPS
//! client, rustls on aws-lc-rs), one client per service built in `main` without any warm-up, a
//! multi-thread runtime, JSON logs. One HeadObject on the uploaded object, one UpdateItem on the
//! attachment, 200. `make bench` builds it with Cargo's default release profile (no LTO, symbols
//! kept), not the function's.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt().json().init();

    let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    // A local S3 server (an endpoint override) has no per-bucket host names.
    let s3_config = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(std::env::var_os("AWS_ENDPOINT_URL_S3").is_some())
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(s3_config);
    let bucket = std::env::var("ATTACHMENTS_BUCKET").unwrap_or_else(|_| "attachments".to_owned());
    let table = std::env::var("ATTACHMENTS_TABLE").unwrap_or_else(|_| "attachments".to_owned());

    run(service_fn(|event: Request| {
        let (dynamodb, s3, bucket, table) = (&dynamodb, &s3, &bucket, &table);
        async move { complete(dynamodb, s3, bucket, table, event).await }
    }))
    .await
}

async fn complete(
    dynamodb: &aws_sdk_dynamodb::Client,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    table: &str,
    _event: Request,
) -> Result<Response<Body>, Error> {
    let object = s3
        .head_object()
        .bucket(bucket)
        .key("demo-contact/demo-attachment")
        .send()
        .await?;
    tracing::info!(size = object.content_length(), "object uploaded");
    dynamodb
        .update_item()
        .table_name(table)
        .key(
            "AttachmentId",
            AttributeValue::S("demo-attachment".to_owned()),
        )
        .update_expression("SET #status = :s")
        .expression_attribute_names("#status", "Status")
        .expression_attribute_values(":s", AttributeValue::S("APPROVED".to_owned()))
        .send()
        .await?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from("{}"))?)
}
