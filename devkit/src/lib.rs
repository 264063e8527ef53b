//! Test support and local tooling for `connect-attachments`, shared by the integration tests,
//! the benches and `make run`: the local services and their clients, the tables and bucket from
//! the function's schema, the demo data, the sample events, the walk-through, test fixtures and a
//! stub Lambda Runtime API; for the cold-start benchmark, a TLS terminator with a test CA, a
//! capped CPU cgroup and per-process usage from `/proc`. Nothing here is part of the function.

pub mod cgroup;
pub mod demo;
pub mod events;
pub mod fixtures;
pub mod local;
pub mod runtime_api;
pub mod samples;
pub mod server;
pub mod tls;
pub mod usage;
pub mod walkthrough;
