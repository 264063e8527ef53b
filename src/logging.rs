//! Structured JSON logs, one object per line, as CloudWatch Logs Insights reads them.

use std::str::FromStr;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Parses a `RUST_LOG` value: `level` or `target=level` directives, comma separated.
pub fn filter(directives: &str) -> Result<Targets, tracing_subscriber::filter::ParseError> {
    Targets::from_str(directives)
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
