//! The Amazon Connect Participant Service chat-attachment operations (StartAttachmentUpload,
//! CompleteAttachmentUpload, GetAttachment) as one AWS Lambda function behind API Gateway, with
//! its state in DynamoDB and the files in S3.
//!
//! A request flows one way, each layer calling only the ones below it:
//!
//! ```text
//! api      route, CORS, parse (tokens hashed here), respond, log and metrics
//!  └─ service   authenticate, run start / complete / get, retry collisions, meter calls
//!      ├─ store     DynamoDB: one read or transaction per operation (layout in store::schema)
//!      └─ objects   S3: pre-signing, HeadObject, DeleteObject
//! ```
//!
//! Beside them: [`domain`] (values, no I/O), [`content`] (a file's bytes against its type), [`error`] (the one error type and mapping),
//! [`validation`] (what a validation error says), [`config`] (every setting), [`telemetry`]
//! (logs and metrics), [`throttle`] (throttled attempts seen), [`startup`] (the wiring) and
//! [`reaper`] (the second function).

pub mod api;
pub mod config;
pub mod content;
pub mod domain;
pub mod error;
pub mod objects;
pub mod reaper;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod validation;
