use std::sync::Arc;

use complete_attachment_upload::config::Config;
use complete_attachment_upload::http::{self, Handler};
use complete_attachment_upload::logging;
use complete_attachment_upload::service::Service;
use complete_attachment_upload::store::{dynamodb, DynamoDbStore, StoreError};

// One invocation at a time per Lambda process: a single-threaded runtime starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let config = Config::from_env().unwrap_or_else(|error| {
        eprintln!("invalid configuration: {error}");
        std::process::exit(2)
    });
    logging::log_panics();
    tracing::subscriber::set_global_default(logging::subscriber(
        config.log_filter.clone(),
        std::io::stdout,
    ))?;

    let client = dynamodb::client(&config.region, config.dynamodb_timeout).await;
    let store = DynamoDbStore::new(client, config.tables.clone());
    match store.warm_up().await {
        Ok(()) => {}
        Err(StoreError::TableNotFound) => {
            eprintln!(
                "invalid configuration: CONNECTIONS_TABLE: no table {:?} at this DynamoDB endpoint",
                config.tables.connections
            );
            std::process::exit(2)
        }
        Err(error) => {
            tracing::warn!(error = ?error, "DynamoDB warm-up failed; the first request will connect")
        }
    }
    http::serve(Arc::new(Handler::new(Service::new(store, config.settings)))).await
}
