//! Structured JSON logs, one object per line, as CloudWatch Logs Insights reads them.

use std::str::FromStr;

use tracing::Level;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Crates whose trace-level events carry raw request data (`lambda_runtime` logs the whole
/// event, bearer token and ClientToken included): never logged above DEBUG, whatever `RUST_LOG` says.
const RAW_DATA_TARGETS: [&str; 5] = [
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "hyper",
    "hyper_util",
];

/// Parses a `RUST_LOG` value (`level` or `target=level` directives, comma separated), capping
/// the crates that would log secrets.
pub fn filter(directives: &str) -> Result<Targets, tracing_subscriber::filter::ParseError> {
    let targets = Targets::from_str(directives)?;
    Ok(RAW_DATA_TARGETS.iter().fold(targets, |targets, target| {
        let level = if targets.would_enable(target, &Level::DEBUG) {
            LevelFilter::DEBUG
        } else {
            [Level::INFO, Level::WARN, Level::ERROR]
                .into_iter()
                .find(|level| targets.would_enable(target, level))
                .map_or(LevelFilter::OFF, LevelFilter::from_level)
        };
        targets.with_target(*target, level)
    }))
}

/// The subscriber `main` installs; tests install it too, over a buffer, to read what is logged.
pub fn subscriber<W>(filter: Targets, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let json = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_writer(writer);
    tracing_subscriber::registry().with(json).with(filter)
}

/// Panics are logged as one JSON line like every other event, instead of the default hook's
/// plain text (the handler still turns them into a 500).
pub fn log_panics() {
    std::panic::set_hook(Box::new(|panic| {
        tracing::error!(panic = %panic, "panicked");
    }));
}

/// An error's sources, joined: the details of a 500, for the log only.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = String::new();
    let mut source = error.source();
    while let Some(cause) = source {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_that_log_raw_events_are_capped_at_debug() {
        let targets = filter("trace").unwrap();
        assert!(!targets.would_enable("lambda_runtime::layers::api_response", &Level::TRACE));
        assert!(targets.would_enable("lambda_runtime", &Level::DEBUG));
        assert!(targets.would_enable("connect_attachments", &Level::TRACE));
        assert!(!filter("warn")
            .unwrap()
            .would_enable("lambda_runtime", &Level::INFO));
        assert!(!filter("info,lambda_runtime=trace")
            .unwrap()
            .would_enable("lambda_runtime", &Level::TRACE));
    }
}
