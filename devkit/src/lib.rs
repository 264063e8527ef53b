//! Test support and local tooling for `connect-attachments`, shared by the integration tests,
//! the benches and `make run`: the local services and their clients, the tables and bucket from
//! the function's schema, the demo data, the sample events, the walk-through, test fixtures and a
//! stub Lambda Runtime API. Nothing here is part of the function.

pub mod demo;
pub mod events;
pub mod fixtures;
pub mod local;
pub mod runtime_api;
pub mod server;
pub mod walkthrough;
