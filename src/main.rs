use std::sync::Arc;

use connect_attachments::{http, startup};

// One invocation at a time per Lambda process: a single-threaded runtime starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let config = startup::config_and_logs();
    let app = startup::build(&config)
        .await
        .unwrap_or_else(|error| startup::exit_invalid(&error));
    http::serve(Arc::new(app)).await
}
