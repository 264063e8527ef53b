//! What the function tells its operators: structured JSON logs, one object per line as
//! CloudWatch Logs Insights reads them, and one CloudWatch Embedded Metric Format record per
//! request, written to stdout next to the request's log line (Lambda's log pipeline turns it into
//! metrics, no API call needed). Both are made from plain fields ([`RequestRecord`]): low
//! cardinality only, and never a token, ClientToken, URL or id but the request's own ids.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use metrique::emf::Emf;
use metrique::unit::Millisecond;
use metrique::unit_of_work::metrics;
use metrique::writer::format::FormatExt;
use metrique::writer::EntryIoStream;
use metrique::CloseValue;
use tracing::Level;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// What one request did, for its log line and its metrics record.
#[derive(Debug, Clone)]
pub struct RequestRecord<'a> {
    pub request_id: &'a str,
    pub xray_trace_id: &'a str,
    /// The operation's name, or [`UNKNOWN_OPERATION`].
    pub operation: &'static str,
    /// `OK`, or the error's name.
    pub outcome: &'static str,
    pub status: u16,
    /// Whether a success replayed an earlier request (`None` for a refusal).
    pub replay: Option<bool>,
    pub latency: Duration,
    pub dynamodb_calls: u32,
    pub s3_calls: u32,
    /// For a 500: the error's sources, which the caller never sees.
    pub error_detail: Option<String>,
    /// For a 409: which conflict (`ContentMismatch`: a disguised file, rejected).
    pub reason: Option<&'static str>,
}

/// The one log line of a request. It carries no header or body content and no URL: only
/// hashes travel past the parser, and they are not logged either.
pub fn log_request(r: &RequestRecord<'_>) {
    macro_rules! request_event {
        ($level:expr, $message:literal) => {
            tracing::event!(
                $level,
                request_id = r.request_id,
                xray_trace_id = r.xray_trace_id,
                operation = r.operation,
                outcome = r.outcome,
                replay = r.replay,
                status = r.status,
                latency_ms = r.latency.as_secs_f64() * 1000.0,
                dynamodb_calls = r.dynamodb_calls,
                s3_calls = r.s3_calls,
                error_detail = r.error_detail.as_deref(),
                reason = r.reason,
                $message
            )
        };
    }
    match (r.status, &r.error_detail) {
        (200, _) => request_event!(Level::INFO, "request completed"),
        (_, Some(_)) => request_event!(Level::ERROR, "request failed"),
        _ => request_event!(Level::INFO, "request refused"),
    }
}

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

/// The metric names, as template.yaml's alarms and dashboard use them.
pub const METRIC_NAMES: [&str; 6] = [
    "Requests",
    "Latency",
    "DynamoDbCalls",
    "S3Calls",
    "ColdStart",
    "RejectedFiles",
];
/// The conflict whose requests `RejectedFiles` counts.
pub const CONTENT_MISMATCH: &str = "ContentMismatch";
/// The dimension names.
pub const DIMENSIONS: [&str; 2] = ["Operation", "Outcome"];
/// The `Operation` of a request that reached no operation (404, 405).
pub const UNKNOWN_OPERATION: &str = "Unknown";

#[metrics(
    emf::dimension_sets = [["Operation", "Outcome"], ["Operation"]],
    rename_all = "PascalCase"
)]
struct RequestMetrics {
    operation: &'static str,
    outcome: &'static str,
    requests: u64,
    #[metrics(unit = Millisecond)]
    latency: Duration,
    #[metrics(name = "DynamoDbCalls")]
    dynamodb_calls: u32,
    #[metrics(name = "S3Calls")]
    s3_calls: u32,
    cold_start: u64,
    /// Completions whose file was not what its type said (rejected).
    rejected_files: u64,
}

type Stream = metrique::writer::format::FormattedMakeWriterEntryIoStream<Emf, BoxMakeWriter>;

/// Writes each request's record; the first one of the process counts as a cold start.
pub struct Metrics {
    stream: Mutex<Stream>,
    warm: AtomicBool,
}

impl Metrics {
    pub fn new<W>(namespace: &str, writer: W) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        let emf = Emf::all_validations(namespace.to_owned(), vec![vec![]]);
        Self {
            stream: Mutex::new(emf.output_to_makewriter(BoxMakeWriter::new(writer))),
            warm: AtomicBool::new(false),
        }
    }

    pub fn record(&self, request: &RequestRecord<'_>) {
        let entry = RequestMetrics {
            operation: request.operation,
            outcome: request.outcome,
            requests: 1,
            latency: request.latency,
            dynamodb_calls: request.dynamodb_calls,
            s3_calls: request.s3_calls,
            cold_start: u64::from(!self.warm.swap(true, Ordering::Relaxed)),
            rejected_files: u64::from(request.reason == Some(CONTENT_MISMATCH)),
        }
        .close();
        let entry = metrique::RootEntry::new(entry);
        let mut stream = self
            .stream
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A record that cannot be written is lost, not the request: say so in the log.
        if let Err(error) = stream
            .next(&entry)
            .map_err(|e| e.to_string())
            .and_then(|()| stream.flush().map_err(|e| e.to_string()))
        {
            tracing::warn!(error, "the request's metrics record could not be written");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex as StdMutex};

    use serde_json::Value;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<StdMutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    #[test]
    fn a_rejected_file_is_counted_as_such() {
        let buffer = Buffer::default();
        let metrics = Metrics::new("Test/Attachments", buffer.clone());
        for reason in [Some(CONTENT_MISMATCH), Some("NotUploaded"), None] {
            metrics.record(&RequestRecord {
                request_id: "r",
                xray_trace_id: "",
                operation: "CompleteAttachmentUpload",
                outcome: "ConflictException",
                status: 409,
                replay: None,
                latency: Duration::from_millis(1),
                dynamodb_calls: 1,
                s3_calls: 1,
                error_detail: None,
                reason,
            });
        }
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let rejected: Vec<u64> = text
            .lines()
            .map(|line| {
                serde_json::from_str::<Value>(line).unwrap()["RejectedFiles"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(rejected, [1, 0, 0]);
    }

    /// Every outcome a request can have: `OK` and each error's name.
    const OUTCOMES: [&str; 9] = [
        "OK",
        "ValidationException",
        "AccessDeniedException",
        "ConflictException",
        "ServiceQuotaExceededException",
        "ThrottlingException",
        "InternalServerException",
        "UnknownOperationException",
        "MethodNotAllowedException",
    ];

    #[test]
    fn every_outcome_of_every_operation_is_one_valid_emf_record() {
        let buffer = Buffer::default();
        let metrics = Metrics::new("Test/Attachments", buffer.clone());
        let operations = crate::domain::Operation::ALL
            .map(crate::domain::Operation::name)
            .into_iter()
            .chain([UNKNOWN_OPERATION]);
        let mut expected = Vec::new();
        for operation in operations {
            for outcome in OUTCOMES {
                expected.push((operation, outcome));
                metrics.record(&RequestRecord {
                    request_id: "r",
                    xray_trace_id: "",
                    operation,
                    outcome,
                    status: 200,
                    replay: None,
                    latency: Duration::from_micros(1500),
                    dynamodb_calls: 1,
                    s3_calls: 2,
                    error_detail: None,
                    reason: None,
                });
            }
        }
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let records: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
            .collect();
        assert_eq!(records.len(), expected.len());
        for (index, (record, (operation, outcome))) in records.iter().zip(&expected).enumerate() {
            let directive = &record["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(directive["Namespace"], "Test/Attachments");
            assert_eq!(
                directive["Dimensions"],
                serde_json::json!([["Operation", "Outcome"], ["Operation"]])
            );
            let names: Vec<&str> = directive["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["Name"].as_str().unwrap())
                .collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            let mut all = METRIC_NAMES.to_vec();
            all.sort_unstable();
            assert_eq!(sorted, all, "{record}");
            let latency = directive["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["Name"] == "Latency")
                .unwrap();
            assert_eq!(latency["Unit"], "Milliseconds");
            assert!(record["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
            assert_eq!(record["Operation"], *operation);
            assert_eq!(record["Outcome"], *outcome);
            assert_eq!(record["Requests"], 1);
            assert_eq!(record["Latency"], 1.5);
            assert_eq!(record["DynamoDbCalls"], 1);
            assert_eq!(record["S3Calls"], 2);
            assert_eq!(
                record["ColdStart"],
                u64::from(index == 0),
                "only the first is cold"
            );
            for dimension in DIMENSIONS {
                assert!(record[dimension].is_string(), "{dimension} in {record}");
            }
        }
    }

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
