use std::sync::Arc;

use connect_attachments::config::Config;
use connect_attachments::{http, logging, startup};

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
    let app = startup::build(&config).await.unwrap_or_else(|error| {
        eprintln!("invalid configuration: {error}");
        std::process::exit(2)
    });
    http::serve(Arc::new(app)).await
}
