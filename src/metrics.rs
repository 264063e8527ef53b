//! CloudWatch metrics: one Embedded Metric Format record per request, written to stdout next to
//! the request's log line (Lambda's log pipeline turns it into metrics, no API call needed). Low
//! cardinality only: the operation and the outcome are the dimensions; no token, ClientToken,
//! URL or id is ever part of a record.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use metrique::emf::Emf;
use metrique::unit::Millisecond;
use metrique::unit_of_work::metrics;
use metrique::writer::format::FormatExt;
use metrique::writer::EntryIoStream;
use metrique::CloseValue;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::MakeWriter;

use crate::domain::Operation;
use crate::operations::Report;

/// The metric names, as template.yaml's alarms and dashboard use them.
pub const METRIC_NAMES: [&str; 5] = [
    "Requests",
    "Latency",
    "DynamoDbCalls",
    "S3Calls",
    "ColdStart",
];
/// The dimension names.
pub const DIMENSIONS: [&str; 2] = ["Operation", "Outcome"];
/// The `Operation` of a request that reached no operation (404, 405).
pub const UNKNOWN_OPERATION: &str = "Unknown";
pub const DEFAULT_NAMESPACE: &str = "ChatAttachments";

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

    pub fn record(&self, report: &Report, latency: Duration) {
        let outcome = match &report.result {
            Ok(_) => "OK",
            Err(error) => error.name(),
        };
        let entry = RequestMetrics {
            operation: report.operation.map_or(UNKNOWN_OPERATION, Operation::name),
            outcome,
            requests: 1,
            latency,
            dynamodb_calls: report.dynamodb_calls,
            s3_calls: report.s3_calls,
            cold_start: u64::from(!self.warm.swap(true, Ordering::Relaxed)),
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
    use crate::domain::Outcome;
    use crate::error::{ApiError, ConflictReason};
    use crate::operations::{Answer, Report};

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

    fn every_outcome() -> Vec<Result<Answer, ApiError>> {
        vec![
            Ok(Answer::Completed(Outcome::Done)),
            Err(ApiError::Validation(vec![])),
            Err(ApiError::AccessDenied),
            Err(ApiError::Conflict(ConflictReason::NotUploaded)),
            Err(ApiError::QuotaExceeded),
            Err(ApiError::Throttling),
            Err(ApiError::internal("down")),
            Err(ApiError::UnknownOperation),
            Err(ApiError::MethodNotAllowed),
        ]
    }

    #[test]
    fn every_outcome_of_every_operation_is_one_valid_emf_record() {
        let buffer = Buffer::default();
        let metrics = Metrics::new("Test/Attachments", buffer.clone());
        let operations = Operation::ALL.into_iter().map(Some).chain([None]);
        let mut expected = Vec::new();
        for operation in operations {
            for result in every_outcome() {
                let outcome = result.as_ref().map_or_else(|e| e.name(), |_| "OK");
                expected.push((
                    operation.map_or(UNKNOWN_OPERATION, Operation::name),
                    outcome,
                ));
                let report = Report {
                    operation,
                    result,
                    dynamodb_calls: 1,
                    s3_calls: 2,
                };
                metrics.record(&report, Duration::from_micros(1500));
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
}
