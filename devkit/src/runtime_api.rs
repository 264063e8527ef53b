//! A stub of the Lambda Runtime API, and the function's binary started against it as Lambda
//! would start it: the production path (`lambda_http::run`) end to end, without AWS.
//! Shared by the integration tests and the benches.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use tokio::sync::mpsc;

/// The X-Ray trace header every stub invocation carries.
pub const TRACE_ID: &str =
    "Root=1-6750c2a1-5f3d2b9e8c7a6d5e4f3a2b1c;Parent=53995c3f42cd8ad8;Sampled=1";

struct Queue {
    events: Mutex<VecDeque<(String, String)>>,
    responses: mpsc::UnboundedSender<(String, Instant, String)>,
}

async fn runtime_api(
    queue: Arc<Queue>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    if path.ends_with("/invocation/next") {
        let next = queue.events.lock().unwrap().pop_front();
        let Some((id, body)) = next else {
            // No more events: park the function until it is stopped.
            std::future::pending::<()>().await;
            unreachable!()
        };
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 30_000;
        let response = hyper::Response::builder()
            .header("lambda-runtime-aws-request-id", id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:connect-attachments",
            )
            .header("lambda-runtime-trace-id", TRACE_ID)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        return Ok(response);
    }
    let arrived = Instant::now();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let _ = queue
        .responses
        .send((path, arrived, String::from_utf8_lossy(&body).into_owned()));
    Ok(hyper::Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .unwrap())
}

async fn serve(queue: Arc<Queue>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let queue = queue.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |r| runtime_api(queue.clone(), r));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address.to_string()
}

/// The function's process, fed `events` one at a time.
pub struct FunctionProcess {
    child: tokio::process::Child,
    started: Instant,
    responses: mpsc::UnboundedReceiver<(String, Instant, String)>,
    log: tokio::task::JoinHandle<String>,
}

impl FunctionProcess {
    /// Execs `binary` with a clean, Lambda-like environment plus `env`, pointed at the local
    /// DynamoDB and S3 (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_S3`).
    pub async fn start(binary: &str, env: &[(&str, &str)], events: Vec<String>) -> Self {
        let (sender, responses) = mpsc::unbounded_channel();
        let queue = Arc::new(Queue {
            events: Mutex::new(
                events
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| (format!("invocation-{i}"), e))
                    .collect(),
            ),
            responses: sender,
        });
        let address = serve(queue).await;
        let (dynamodb, s3) = (
            crate::local::dynamodb_endpoint(),
            crate::local::s3_endpoint(),
        );
        let started = Instant::now();
        let mut child = tokio::process::Command::new(binary)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "connect-attachments")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "group")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", crate::local::ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", crate::local::SECRET_ACCESS_KEY)
            .env("AWS_ENDPOINT_URL_DYNAMODB", dynamodb)
            .env("AWS_ENDPOINT_URL_S3", s3)
            .env("ATTACHMENTS_BUCKET", crate::local::bucket())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        // Drain the output as it comes: a full pipe would block the function.
        let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let log = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let (mut out, mut err) = (String::new(), String::new());
            let _ = tokio::join!(
                stdout.read_to_string(&mut out),
                stderr.read_to_string(&mut err)
            );
            out + &err
        });
        Self {
            child,
            started,
            responses,
            log,
        }
    }

    /// The next response the function posted, as API Gateway would get it, and the time from
    /// exec to its arrival.
    pub async fn next_response(&mut self) -> (Duration, serde_json::Value) {
        let (path, arrived, body) =
            tokio::time::timeout(Duration::from_secs(30), self.responses.recv())
                .await
                .expect("the function answers within 30 s")
                .expect("the runtime API is up");
        assert!(
            path.ends_with("/response"),
            "the function reported an error on {path}: {body}"
        );
        (
            arrived - self.started,
            serde_json::from_str(&body).expect("a JSON response"),
        )
    }

    /// Peak resident memory so far, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("running");
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    /// Stops the function; everything it wrote to stdout and stderr.
    pub async fn stop(mut self) -> String {
        self.child.kill().await.unwrap();
        self.log.await.unwrap()
    }
}

/// An HTTP API (payload 2.0) event of `operation`, as API Gateway sends it.
pub fn http_api_event(
    operation: connect_attachments::domain::Operation,
    token: &str,
    body: &serde_json::Value,
) -> String {
    crate::events::http_api(
        "bench",
        operation,
        Some(token),
        &body.to_string(),
        "POST",
        operation.path(),
    )
    .to_string()
}
