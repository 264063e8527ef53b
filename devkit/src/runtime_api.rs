//! A stub of the Lambda Runtime API, and the function's binary started against it as Lambda
//! would start it: the production path (`lambda_http::run`) end to end, without AWS.
//! Shared by the integration tests and the benches.

use std::collections::HashMap;
use std::convert::Infallible;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use tokio::sync::{mpsc, oneshot};

use crate::cgroup::CpuCgroup;
use crate::usage::Usage;

/// The X-Ray trace header every stub invocation carries.
pub const TRACE_ID: &str =
    "Root=1-6750c2a1-5f3d2b9e8c7a6d5e4f3a2b1c;Parent=53995c3f42cd8ad8;Sampled=1";

/// What the function posted: the path (`…/response`, `…/error`), when it arrived, the body.
type Posted = (String, Instant, String);

struct Queue {
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, String)>>,
    /// Invocations whose caller waits for their answer (the HTTP front, [`serve_http_api`]).
    waiting: Mutex<HashMap<String, oneshot::Sender<Posted>>>,
    /// The answers to the events given at start, in order.
    responses: mpsc::UnboundedSender<Posted>,
    /// Every call the function made, in order of arrival.
    calls: Mutex<Vec<Call>>,
    /// The function's pid, once started, if its usage is read at each call.
    measured_pid: OnceLock<u32>,
}

impl Queue {
    /// Notes a call that just arrived (with the process's usage, if measured); its index.
    fn note(&self, path: String, arrived: Instant) -> usize {
        let usage = self.measured_pid.get().and_then(|pid| Usage::of(*pid));
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.push(Call {
            path,
            arrived,
            answered: None,
            usage,
        });
        calls.len() - 1
    }
}

/// One call the function made to the Runtime API, as the stub saw it.
#[derive(Clone, Debug)]
pub struct Call {
    /// The path: `…/invocation/next`, `…/invocation/{id}/response`, `…/error`, `…/init/error`.
    pub path: String,
    /// When it arrived.
    pub arrived: Instant,
    /// For a `/next`: when the stub handed an event out (`None`: no event came).
    pub answered: Option<Instant>,
    /// The process's usage as the call arrived (started with [`Launch::measure`]).
    pub usage: Option<Usage>,
}

impl Call {
    pub fn is_next(&self) -> bool {
        self.path.ends_with("/invocation/next")
    }
}

async fn runtime_api(
    queue: Arc<Queue>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let arrived = Instant::now();
    let path = request.uri().path().to_owned();
    let call = queue.note(path.clone(), arrived);
    if path.ends_with("/invocation/next") {
        let next = queue.events.lock().await.recv().await;
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
        if let Some(call) = queue
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(call)
        {
            call.answered = Some(Instant::now());
        }
        return Ok(response);
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let posted = (path, arrived, String::from_utf8_lossy(&body).into_owned());
    // `/2018-06-01/runtime/invocation/{id}/response` (or `/error`): the id says who waits.
    let id = posted
        .0
        .split('/')
        .rev()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let waiter = queue.waiting.lock().unwrap().remove(&id);
    match waiter {
        Some(waiter) => drop(waiter.send(posted)),
        None => drop(queue.responses.send(posted)),
    }
    Ok(hyper::Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .unwrap())
}

/// Serves the Runtime API on a free port of 127.0.0.1 until the returned guard is dropped.
async fn serve(queue: Arc<Queue>) -> std::io::Result<(String, Server)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        // The connections live in the set: stopping the server stops them, a parked `/next`
        // included, instead of leaving them behind for the life of the caller's process.
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { break };
                    // No Nagle: a small answer must not wait for the function's delayed ACK.
                    let _ = stream.set_nodelay(true);
                    let queue = queue.clone();
                    connections.spawn(async move {
                        let service =
                            hyper::service::service_fn(move |r| runtime_api(queue.clone(), r));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
                Some(_) = connections.join_next() => {}
            }
        }
    });
    Ok((address.to_string(), Server(task)))
}

/// The stub's server, stopped when dropped.
struct Server(tokio::task::JoinHandle<()>);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How [`FunctionProcess::launch`] starts the function.
pub struct Launch<'a> {
    /// The program exec'd: the function's binary, or a wrapper that execs it (`perf record`).
    pub program: &'a str,
    pub args: &'a [&'a str],
    /// Set after the Lambda-like environment, so that these win.
    pub env: &'a [(&'a str, &'a str)],
    /// The events handed out, in order, to the function's `/next` calls.
    pub events: Vec<String>,
    /// Start the process inside this capped CPU cgroup.
    pub cgroup: Option<&'a CpuCgroup>,
    /// Read the process's [`Usage`] as each of its calls arrives (see [`FunctionProcess::calls`]).
    pub measure: bool,
}

impl<'a> Launch<'a> {
    /// `binary` fed `events`, with the default environment, uncapped, unmeasured.
    pub fn new(binary: &'a str, events: Vec<String>) -> Self {
        Self {
            program: binary,
            args: &[],
            env: &[],
            events,
            cgroup: None,
            measure: false,
        }
    }
}

/// What the function posted: the path, the time from exec to its arrival, and the body.
#[derive(Clone, Debug)]
pub struct Answer {
    pub path: String,
    pub after: Duration,
    pub body: String,
}

impl Answer {
    /// A `/response` whose API Gateway answer says `statusCode` 200.
    pub fn is_ok(&self) -> bool {
        self.path.ends_with("/response")
            && serde_json::from_str::<serde_json::Value>(&self.body)
                .is_ok_and(|answer| answer["statusCode"] == 200)
    }
}

/// Invokes the function of a [`FunctionProcess`] with one event at a time, as Lambda does.
#[derive(Clone)]
pub struct Invoker {
    queue: Arc<Queue>,
    events: mpsc::UnboundedSender<(String, String)>,
    next_id: Arc<AtomicUsize>,
}

impl Invoker {
    /// Sends `event` and waits for what the function posts back: the path and the body.
    pub async fn invoke(&self, event: String) -> (String, String) {
        let id = format!("request-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let (sender, answer) = oneshot::channel();
        self.queue
            .waiting
            .lock()
            .unwrap()
            .insert(id.clone(), sender);
        self.events
            .send((id, event))
            .expect("the runtime API is up");
        let (path, _, body) = tokio::time::timeout(Duration::from_secs(30), answer)
            .await
            .expect("the function answers within 30 s")
            .expect("the runtime API is up");
        (path, body)
    }
}

/// The function's process, fed `events` one at a time.
pub struct FunctionProcess {
    child: tokio::process::Child,
    started: Instant,
    responses: mpsc::UnboundedReceiver<Posted>,
    invoker: Invoker,
    log: tokio::task::JoinHandle<String>,
    queue: Arc<Queue>,
    _server: Server,
}

impl FunctionProcess {
    /// Execs `binary` with a clean, Lambda-like environment plus `env`, pointed at the local
    /// DynamoDB and S3 (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_S3`).
    pub async fn start(binary: &str, env: &[(&str, &str)], events: Vec<String>) -> Self {
        Self::launch(Launch {
            env,
            ..Launch::new(binary, events)
        })
        .await
        .unwrap_or_else(|e| panic!("start {binary}: {e}"))
    }

    /// Starts the function as [`start`](Self::start) does, as `launch` says: inside a CPU
    /// cgroup, its usage read at each of its calls, or through a wrapper.
    pub async fn launch(launch: Launch<'_>) -> std::io::Result<Self> {
        let (sender, responses) = mpsc::unbounded_channel();
        let (event_sender, event_receiver) = mpsc::unbounded_channel();
        for (i, event) in launch.events.into_iter().enumerate() {
            let _ = event_sender.send((format!("invocation-{i}"), event));
        }
        let queue = Arc::new(Queue {
            events: tokio::sync::Mutex::new(event_receiver),
            waiting: Mutex::default(),
            responses: sender,
            calls: Mutex::default(),
            measured_pid: OnceLock::new(),
        });
        let invoker = Invoker {
            queue: queue.clone(),
            events: event_sender,
            next_id: Arc::default(),
        };
        let (address, server) = serve(queue.clone()).await?;
        let (dynamodb, s3) = (
            crate::local::dynamodb_endpoint(),
            crate::local::s3_endpoint(),
        );
        let mut command = tokio::process::Command::new(launch.program);
        command
            .args(launch.args)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "connect-attachments")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "group")
            .env("AWS_REGION", crate::local::REGION)
            .envs(credentials(&crate::local::credentials()))
            .env("AWS_ENDPOINT_URL_DYNAMODB", dynamodb)
            .env("AWS_ENDPOINT_URL_S3", s3)
            .env("ATTACHMENTS_BUCKET", crate::local::bucket())
            .envs(launch.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = match launch.cgroup {
            Some(cgroup) => cgroup.spawn_inside(|| command.spawn())?,
            None => command.spawn()?,
        };
        let pid = child
            .id()
            .ok_or_else(|| std::io::Error::other("exited at once"))?;
        if launch.measure {
            let _ = queue.measured_pid.set(pid);
        }
        if let Some(cgroup) = launch.cgroup {
            if !cgroup.holds(pid) {
                return Err(std::io::Error::other(format!(
                    "pid {pid} is not in {}",
                    cgroup.path().display()
                )));
            }
        }
        // Drain the output as it comes: a full pipe would block the function.
        let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take())
        else {
            return Err(std::io::Error::other("no output pipes"));
        };
        let log = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let (mut out, mut err) = (String::new(), String::new());
            let _ = tokio::join!(
                stdout.read_to_string(&mut out),
                stderr.read_to_string(&mut err)
            );
            out + &err
        });
        Ok(Self {
            child,
            started,
            responses,
            invoker,
            log,
            queue,
            _server: server,
        })
    }

    /// The process's id (the wrapper's, if started through one).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// When the process was exec'd.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Every call the function has made to the Runtime API so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.queue
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The next thing the function posted for the events given at start (a response or an
    /// error), or `None` if nothing came within `timeout`.
    pub async fn next_answer(&mut self, timeout: Duration) -> Option<Answer> {
        let (path, arrived, body) = tokio::time::timeout(timeout, self.responses.recv())
            .await
            .ok()??;
        Some(Answer {
            path,
            after: arrived - self.started,
            body,
        })
    }

    /// A handle that invokes the function with one more event (also through [`serve_http_api`]).
    pub fn invoker(&self) -> Invoker {
        self.invoker.clone()
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
        crate::usage::peak_rss_kib(pid).expect("VmHWM")
    }

    /// Stops the function; everything it wrote to stdout and stderr.
    pub async fn stop(mut self) -> String {
        self.child.kill().await.unwrap();
        self.log.await.unwrap()
    }

    /// Asks the process to end with SIGINT (a wrapper such as `perf record` then writes its
    /// output and ends what it runs), waits up to `grace` for it, then kills it; everything it
    /// wrote to stdout and stderr.
    pub async fn interrupt(mut self, grace: Duration) -> std::io::Result<String> {
        if let Some(pid) = self.child.id() {
            tokio::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status()
                .await?;
        }
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await?;
        }
        self.log.await.map_err(std::io::Error::other)
    }
}

/// The environment variables Lambda hands the function its role's credentials in.
fn credentials(credentials: &aws_sdk_dynamodb::config::Credentials) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id().to_owned()),
        (
            "AWS_SECRET_ACCESS_KEY",
            credentials.secret_access_key().to_owned(),
        ),
    ];
    if let Some(token) = credentials.session_token() {
        env.push(("AWS_SESSION_TOKEN", token.to_owned()));
    }
    env
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

/// An HTTP API (payload 2.0) in front of the function on 127.0.0.1 (a free port): every request,
/// preflights included, becomes an event as API Gateway builds it, and the function's answer
/// the HTTP response. Nothing else answers: the CORS a browser sees is the function's own.
/// Returns the address.
pub async fn serve_http_api(invoker: Invoker) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let invoker = invoker.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                        let invoker = invoker.clone();
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let event =
                                http_api_request_event(&parts, &body, &peer.ip().to_string());
                            let (path, answer) = invoker.invoke(event.to_string()).await;
                            Ok::<_, Infallible>(http_api_response(&path, &answer))
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address
}

/// The event API Gateway's HTTP API sends for `request`: lowercase headers (repeated ones
/// joined with commas), the body as text or base64.
fn http_api_request_event(
    request: &hyper::http::request::Parts,
    body: &[u8],
    source_ip: &str,
) -> serde_json::Value {
    use base64::Engine as _;
    let mut headers = serde_json::Map::new();
    for (name, value) in &request.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str())
            .and_modify(|joined| {
                *joined = format!("{},{value}", joined.as_str().unwrap_or_default()).into()
            })
            .or_insert(value.into());
    }
    let header = |name: &str| headers.get(name).cloned().unwrap_or_default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.uri.path(),
        "rawQueryString": request.uri.query().unwrap_or_default(),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": header("host"),
            "domainPrefix": "local",
            "http": {
                "method": request.method.as_str(),
                "path": request.uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": header("user-agent"),
            },
            "requestId": format!("local-{}", now.as_nanos()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "06/Dec/2026:00:00:00 +0000",
            "timeEpoch": now.as_millis() as u64,
        },
        "isBase64Encoded": false,
    });
    event["headers"] = headers.into();
    if !body.is_empty() {
        event["body"] = match std::str::from_utf8(body) {
            Ok(text) => text.into(),
            Err(_) => {
                event["isBase64Encoded"] = true.into();
                base64::engine::general_purpose::STANDARD
                    .encode(body)
                    .into()
            }
        };
    }
    event
}

/// The HTTP response API Gateway makes of the function's answer (a 500 for a reported error).
fn http_api_response(path: &str, answer: &str) -> hyper::Response<Full<Bytes>> {
    use base64::Engine as _;
    let answer: serde_json::Value = serde_json::from_str(answer).unwrap_or_default();
    if !path.ends_with("/response") || !answer.is_object() {
        return hyper::Response::builder()
            .status(500)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(
                br#"{"message":"Internal Server Error"}"#,
            )))
            .unwrap();
    }
    let mut response =
        hyper::Response::builder().status(answer["statusCode"].as_u64().unwrap_or(200) as u16);
    for (name, value) in answer["headers"].as_object().into_iter().flatten() {
        response = response.header(name.as_str(), value.as_str().unwrap_or_default());
    }
    for (name, values) in answer["multiValueHeaders"]
        .as_object()
        .into_iter()
        .flatten()
    {
        for value in values.as_array().into_iter().flatten() {
            response = response.header(name.as_str(), value.as_str().unwrap_or_default());
        }
    }
    let body = answer["body"].as_str().unwrap_or_default();
    let body = if answer["isBase64Encoded"].as_bool() == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap_or_default()
    } else {
        body.as_bytes().to_vec()
    };
    response.body(Full::new(Bytes::from(body))).unwrap()
}
