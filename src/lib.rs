//! The Amazon Connect Participant Service chat-attachment operations (StartAttachmentUpload,
//! CompleteAttachmentUpload, GetAttachment) as one AWS Lambda function behind API Gateway, with
//! its state in DynamoDB and the files in S3.
//!
//! A request flows one way: [`http`] routes and answers; [`operations`] parses each operation's
//! body (with [`request`]) into [`domain`] values and runs it on the [`service`], which
//! authenticates with [`auth`]; [`store`] talks to DynamoDB in the layout of [`schema`], and
//! [`objects`] to S3; [`error`] is the one place where a failure becomes a response.

pub mod auth;
pub mod budget;
pub mod config;
pub mod cors;
pub mod domain;
pub mod error;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod objects;
pub mod operations;
pub mod reaper;
pub mod request;
pub mod schema;
pub mod service;
pub mod startup;
pub mod store;
pub mod throttle;
pub mod validation;
