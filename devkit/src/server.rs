//! Serves the function's handler over HTTP on a local port, the way API Gateway would put it in
//! front of the Lambda: for clients that speak HTTP (the AWS SDK, schemathesis).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use connect_attachments::api::Handler;
use connect_attachments::objects::Objects;
use connect_attachments::store::Store;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Starts serving on 127.0.0.1 (a free port) and returns the address; the server lives as long
/// as the test's runtime.
pub async fn serve_handler<S, O>(handler: Arc<Handler<S, O>>) -> SocketAddr
where
    S: Store + 'static,
    O: Objects + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(Arc::clone(&handler), request));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address
}

async fn answer<S: Store, O: Objects>(
    handler: Arc<Handler<S, O>>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let request = lambda_http::Request::from_parts(parts, lambda_http::Body::from(bytes.to_vec()));
    let (parts, body) = handler.handle(request).await.into_parts();
    Ok(hyper::Response::from_parts(
        parts,
        Full::new(Bytes::from(body.to_vec())),
    ))
}

/// Serves the files of `dir` (the demo page) on 127.0.0.1 (a free port), as `make run` does.
pub async fn serve_dir(dir: impl Into<std::path::PathBuf>) -> SocketAddr {
    serve_dir_at("127.0.0.1:0", dir)
        .await
        .expect("bind a free port")
}

/// Serves the files of `dir` on `address` (`127.0.0.1:8080`): `make run`'s demo page.
pub async fn serve_dir_at(
    address: &str,
    dir: impl Into<std::path::PathBuf>,
) -> std::io::Result<SocketAddr> {
    let dir: Arc<std::path::Path> = dir.into().into();
    let listener = TcpListener::bind(address).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let dir = dir.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let dir = dir.clone();
                    async move {
                        let name = match request.uri().path().trim_start_matches('/') {
                            "" => "index.html".to_owned(),
                            name if !name.contains("..") => name.to_owned(),
                            _ => String::new(),
                        };
                        let file = std::fs::read(dir.join(&name)).ok();
                        let content_type = match name.rsplit('.').next() {
                            Some("html") => "text/html; charset=utf-8",
                            Some("js") => "text/javascript; charset=utf-8",
                            _ => "application/octet-stream",
                        };
                        let response = match file {
                            Some(bytes) => hyper::Response::builder()
                                .header("content-type", content_type)
                                .body(Full::new(Bytes::from(bytes))),
                            None => hyper::Response::builder()
                                .status(404)
                                .body(Full::new(Bytes::new())),
                        };
                        Ok::<_, Infallible>(response.expect("a response"))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(address)
}

/// What a [`fault_proxy`] does to one request.
pub enum Fault {
    /// Forwards it and hands back the answer.
    Pass,
    /// Never forwards it: the service never sees it.
    StallBefore,
    /// Waits, then answers this instead of the service (a throttled service).
    Answer(std::time::Duration, hyper::Response<Full<Bytes>>),
    /// Forwards it, lets the service act on it, then drops the connection instead of answering.
    DropAnswer,
    /// Forwards it, lets the service act on it, then never answers.
    StallAfter,
}

/// Decides the fate of each request a [`fault_proxy`] receives, from its head.
pub type Decide = Arc<dyn Fn(&hyper::http::request::Parts) -> Fault + Send + Sync>;

/// An HTTP proxy on 127.0.0.1 in front of `upstream` (`http://host:port`), doing to each request
/// what `decide` says: the faults of a network and of a service the local ones cannot produce.
/// Returns its endpoint.
pub async fn fault_proxy(upstream: String, decide: Decide) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (upstream, decide, client) = (upstream.clone(), decide.clone(), client.clone());
            let service = service_fn(move |request: hyper::Request<Incoming>| {
                let (upstream, decide, client) = (upstream.clone(), decide.clone(), client.clone());
                async move {
                    let (mut parts, body) = request.into_parts();
                    let fault = decide(&parts);
                    match fault {
                        Fault::StallBefore => std::future::pending::<()>().await,
                        Fault::Answer(delay, answer) => {
                            tokio::time::sleep(delay).await;
                            return Ok(answer);
                        }
                        _ => {}
                    }
                    let body = collect(body).await;
                    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                    parts.uri = format!("{upstream}{path}").parse().expect("a URI");
                    let forwarded = hyper::Request::from_parts(parts, Full::new(body));
                    let answer = match client.request(forwarded).await {
                        Ok(response) => {
                            let (parts, body) = response.into_parts();
                            hyper::Response::from_parts(parts, Full::new(collect(body).await))
                        }
                        Err(_) => hyper::Response::builder()
                            .status(502)
                            .body(Full::new(Bytes::new()))
                            .expect("a response"),
                    };
                    match fault {
                        Fault::DropAnswer => Err("answer dropped"),
                        Fault::StallAfter => std::future::pending().await,
                        _ => Ok(answer),
                    }
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    format!("http://{address}")
}

async fn collect(body: Incoming) -> Bytes {
    body.collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default()
}

/// The headers of every request a [`recording_proxy`] forwarded, in order.
pub type Recorded = Arc<std::sync::Mutex<Vec<hyper::HeaderMap>>>;

/// A proxy that forwards every request to `upstream` and records its headers: what a client
/// sends, seen from the wire.
pub async fn recording_proxy(upstream: String) -> (String, Recorded) {
    let recorded = Recorded::default();
    let seen = recorded.clone();
    let record: Decide = Arc::new(move |request| {
        seen.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(request.headers.clone());
        Fault::Pass
    });
    (fault_proxy(upstream, record).await, recorded)
}

/// `count` distinct free ports on 127.0.0.1, all held open until all are chosen so that no two
/// are the same; with `offset`, port + offset is free too (SeaweedFS listens for gRPC on its
/// HTTP port + 10000). Another process may still take one before the caller binds it: callers
/// check, and fail clearly.
pub fn free_ports(count: usize, offset: u16) -> std::io::Result<Vec<u16>> {
    use std::net::TcpListener as StdListener;
    let (mut held, mut ports) = (Vec::new(), Vec::new());
    for _ in 0..1000 {
        if ports.len() == count {
            return Ok(ports);
        }
        let listener = StdListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        held.push(listener);
        if offset > 0 {
            match port
                .checked_add(offset)
                .map(|other| StdListener::bind(("127.0.0.1", other)))
            {
                Some(Ok(other)) => held.push(other),
                _ => continue,
            }
        }
        ports.push(port);
    }
    Err(std::io::Error::other(format!(
        "no {count} free ports found"
    )))
}
