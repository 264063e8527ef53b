//! The reaper function: DynamoDB stream batches in, partial batch failures out (src/reaper.rs).

use connect_attachments::config::ReaperConfig;
use connect_attachments::objects::S3Objects;
use connect_attachments::{reaper, startup};
use lambda_http::aws_lambda_events::event::dynamodb::Event;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = startup::or_exit(ReaperConfig::from_env());
    startup::install_logs(config.log_filter.clone());
    let sdk = startup::sdk_config(&config.aws).await;
    let s3 = startup::s3_client(&sdk, config.s3_timeout, config.aws.s3_path_style);
    let objects = &S3Objects::new(s3, config.bucket.clone());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, std::convert::Infallible>(reaper::reap(objects, &event.payload).await)
    }))
    .await
}
