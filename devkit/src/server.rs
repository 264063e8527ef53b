//! Serves the function's handler over HTTP on a local port, the way API Gateway would put it in
//! front of the Lambda: for clients that speak HTTP (the AWS SDK, schemathesis).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use connect_attachments::http::Handler;
use connect_attachments::objects::Objects;
use connect_attachments::store::Store;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Starts serving on 127.0.0.1 (a free port) and returns the address; the server lives as long
/// as the test's runtime.
pub async fn serve<S, O>(handler: Arc<Handler<S, O>>) -> SocketAddr
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
    let dir: Arc<std::path::Path> = dir.into().into();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
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
    address
}

/// The headers of every request a [`recording_proxy`] forwarded, in order.
pub type Recorded = std::sync::Arc<std::sync::Mutex<Vec<hyper::HeaderMap>>>;

/// An HTTP proxy on 127.0.0.1 that forwards every request to `upstream` (`http://host:port`) and
/// records its headers: what a client sends, seen from the wire.
pub async fn recording_proxy(upstream: String) -> (String, Recorded) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let recorded = Recorded::default();
    let seen = recorded.clone();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (upstream, seen, client) = (upstream.clone(), seen.clone(), client.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let (upstream, seen, client) = (upstream.clone(), seen.clone(), client.clone());
                    async move {
                        let (mut parts, body) = request.into_parts();
                        seen.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(parts.headers.clone());
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                        parts.uri = format!("{upstream}{path}").parse().expect("a URI");
                        let forwarded = hyper::Request::from_parts(parts, Full::new(body));
                        let response = match client.request(forwarded).await {
                            Ok(response) => {
                                let (parts, body) = response.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                hyper::Response::from_parts(parts, Full::new(body))
                            }
                            Err(_) => hyper::Response::builder()
                                .status(502)
                                .body(Full::new(Bytes::new()))
                                .expect("a response"),
                        };
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{address}"), recorded)
}
