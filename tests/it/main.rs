//! The integration tests: one binary, a module per topic, on the shared support of `devkit`.
//! They run against the DynamoDB Local and the S3 server that `make test` starts; without them
//! a test fails, it never skips.

use connect_attachments::domain::Operation;

mod boto3;
mod browser;
mod content;
mod contract;
mod counts;
mod events;
mod faults;
mod hostile;
mod lifecycle;
mod logs;
mod openapi;
mod races;
mod reaper;
mod runtime;
mod schemathesis;
mod sdk_client;
mod startup;
mod template;
mod throttling;

/// The operation most of the older tests exercise.
pub const COMPLETE: Operation = Operation::CompleteAttachmentUpload;
