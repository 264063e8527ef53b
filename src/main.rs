use std::sync::Arc;

use connect_attachments::config::Config;
use connect_attachments::{api, startup};

// One invocation at a time per Lambda process: a single-threaded runtime starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let config = startup::or_exit(Config::from_env());
    startup::install_logs(config.log_filter.clone());
    let app = startup::or_exit(startup::build(&config).await);
    api::run(Arc::new(app)).await
}
