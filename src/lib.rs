//! Amazon Connect Participant Service `CompleteAttachmentUpload`, as an AWS Lambda function
//! behind API Gateway, with its state in DynamoDB.
//!
//! A request flows one way: [`http`] routes and answers, [`request`] parses and validates,
//! [`service`] authenticates and completes, [`store`] talks to DynamoDB, and [`error`] is the
//! one place where a failure becomes a response.

pub mod config;
pub mod error;
pub mod http;
pub mod logging;
pub mod request;
pub mod service;
pub mod store;
