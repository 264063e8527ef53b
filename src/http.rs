//! The HTTP adapter: route to an operation, hand it the header and body, write the response.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_util::FutureExt;
use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};

use crate::cors::Origins;
use crate::domain::Operation;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::objects::Objects;
use crate::operations::{self, Answer, Report};
use crate::service::Service;
use crate::store::Store;

const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";
const ERROR_TYPE_HEADER: &str = "X-Amzn-ErrorType";
/// Time kept back from the invocation's deadline to write and post the response.
const DEADLINE_MARGIN: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
#[error("the handler panicked: {0}")]
struct HandlerPanicked(String);

pub struct Handler<S, O> {
    service: Service<S, O>,
    origins: Origins,
    metrics: Option<Metrics>,
}

impl<S: Store, O: Objects> Handler<S, O> {
    pub fn new(service: Service<S, O>) -> Self {
        Self {
            service,
            origins: Origins::default(),
            metrics: None,
        }
    }

    /// Writes one CloudWatch EMF record per request.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self {
            metrics: Some(metrics),
            ..self
        }
    }

    /// Answers preflights and lets pages of these origins read the answers.
    pub fn with_cors(self, origins: Origins) -> Self {
        Self { origins, ..self }
    }

    /// Answers one API Gateway request. Never fails and never panics: every problem, a panic
    /// included, becomes one of the contract's responses.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        if let Some(preflight) = self.origins.preflight(request.method(), request.headers()) {
            return preflight;
        }
        let started = Instant::now();
        let request_id = request_id(&request);
        let operation = route(&request);
        let routed = operation.as_ref().ok().copied();
        let report = AssertUnwindSafe(self.dispatch(operation, &request))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                let panicked = HandlerPanicked(panic_message(&*panic));
                Report::without_calls(routed, ApiError::internal(panicked))
            });
        let trace_id = request
            .lambda_context_ref()
            .and_then(|c| c.xray_trace_id.as_deref());
        log_request(&request_id, trace_id.unwrap_or_default(), &report, started);
        if let Some(metrics) = &self.metrics {
            metrics.record(&report, started.elapsed());
        }
        let mut response = respond(&request_id, &report.result);
        self.origins.decorate(request.headers(), &mut response);
        response
    }

    async fn dispatch(&self, operation: Result<Operation, ApiError>, request: &Request) -> Report {
        match operation {
            Ok(operation) => {
                operations::run(
                    &self.service,
                    operation,
                    request.headers(),
                    request.body(),
                    deadline(request),
                )
                .await
            }
            Err(error) => Report::without_calls(None, error),
        }
    }
}

/// Serves a `Handler` as a `lambda_http` service, for `lambda_http::run`.
pub async fn serve<S, O>(handler: Arc<Handler<S, O>>) -> Result<(), lambda_http::Error>
where
    S: Store + 'static,
    O: Objects + 'static,
{
    lambda_http::run(lambda_http::service_fn(move |request| {
        let handler = Arc::clone(&handler);
        async move { Ok::<_, std::convert::Infallible>(handler.handle(request).await) }
    }))
    .await
}

fn route(request: &Request) -> Result<Operation, ApiError> {
    // REST API events carry the stage in `uri().path()`; the raw path never does.
    let path = match request.raw_http_path() {
        "" => request.uri().path(),
        raw => raw,
    };
    let operation = Operation::from_path(path).ok_or(ApiError::UnknownOperation)?;
    if request.method() != Method::POST {
        return Err(ApiError::MethodNotAllowed);
    }
    Ok(operation)
}

/// When DynamoDB work must stop so that the answer still reaches API Gateway before Lambda ends
/// the invocation: a 500 (or a 429) in the contract's format beats Lambda's own timeout error.
/// A deadline that leaves no time at all is not one Lambda would give (local emulators send
/// such values): it is ignored, and the SDK's own timeouts bound the work.
fn deadline(request: &Request) -> Option<Instant> {
    let lambda_deadline = request.lambda_context_ref()?.deadline();
    let remaining = lambda_deadline.duration_since(SystemTime::now()).ok()?;
    let usable = remaining
        .checked_sub(DEADLINE_MARGIN)
        .filter(|d| !d.is_zero())?;
    Some(Instant::now() + usable)
}

/// API Gateway's request id where there is one, else Lambda's, else a fresh one.
fn request_id(request: &Request) -> String {
    use lambda_http::request::RequestContext;
    let gateway = request
        .request_context_ref()
        .and_then(|context| match context {
            RequestContext::ApiGatewayV1(c) => c.request_id.clone(),
            RequestContext::ApiGatewayV2(c) => c.request_id.clone(),
            _ => None,
        });
    gateway
        .or_else(|| request.lambda_context_ref().map(|c| c.request_id.clone()))
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| format!("{:032x}", fastrand::u128(..)))
}

fn respond(request_id: &str, result: &Result<Answer, ApiError>) -> Response<Body> {
    let (status, body, error_type) = match result {
        Ok(answer) => (
            StatusCode::OK,
            answer
                .body()
                .map_or(Body::Empty, |json| Body::Text(json.to_string())),
            None,
        ),
        Err(error) => (
            error.status(),
            Body::Text(serde_json::json!({ "Message": error.to_string() }).to_string()),
            Some(error.name()),
        ),
    };
    let has_body = !matches!(body, Body::Empty);
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    if let Some(name) = error_type {
        headers.insert(ERROR_TYPE_HEADER, HeaderValue::from_static(name));
    }
    if has_body {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if matches!(result, Err(ApiError::MethodNotAllowed)) {
        headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// The one log line of a request. It carries no header or body content and no URL: only
/// hashes travel past the parser, and they are not logged either.
fn log_request(request_id: &str, xray_trace_id: &str, report: &Report, started: Instant) {
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let operation = report.operation.map_or("none", Operation::name);
    let (dynamodb_calls, s3_calls) = (report.dynamodb_calls, report.s3_calls);
    match &report.result {
        Ok(answer) => tracing::info!(
            request_id,
            xray_trace_id,
            operation,
            outcome = "OK",
            replay = answer.replayed(),
            status = 200,
            latency_ms,
            dynamodb_calls,
            s3_calls,
            "request completed"
        ),
        Err(error @ ApiError::Internal(_)) => tracing::error!(
            request_id,
            xray_trace_id,
            operation,
            outcome = error.name(),
            status = error.status().as_u16(),
            latency_ms,
            dynamodb_calls,
            s3_calls,
            error_detail = %crate::logging::error_chain(error),
            "request failed"
        ),
        Err(error) => tracing::info!(
            request_id,
            xray_trace_id,
            operation,
            outcome = error.name(),
            status = error.status().as_u16(),
            latency_ms,
            dynamodb_calls,
            s3_calls,
            "request refused"
        ),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn with_deadline(deadline: SystemTime) -> Request {
        let mut context = lambda_http::Context::default();
        context.deadline = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        Request::default().with_lambda_context(context)
    }

    #[test]
    fn work_stops_a_margin_before_the_invocations_deadline() {
        let deadline = deadline(&with_deadline(SystemTime::now() + Duration::from_secs(10)));
        let left = deadline.unwrap() - Instant::now();
        assert!(
            left <= Duration::from_secs(10) - DEADLINE_MARGIN,
            "{left:?}"
        );
        assert!(left > Duration::from_secs(9), "{left:?}");
    }

    #[test]
    fn no_context_or_a_deadline_without_time_left_sets_no_deadline() {
        assert!(deadline(&Request::default()).is_none());
        assert!(deadline(&with_deadline(UNIX_EPOCH)).is_none());
        assert!(deadline(&with_deadline(SystemTime::now() + DEADLINE_MARGIN / 2)).is_none());
    }
}
