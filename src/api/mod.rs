//! The HTTP adapter, the one way in: answer a preflight, route to an operation, parse its
//! request ([`parse`]), run it on the [`Service`] under a call [`Meter`], write the response
//! ([`response`]), and tell the log and the metrics what happened.

pub mod cors;
pub mod parse;
pub mod response;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_util::FutureExt;
use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};

use self::response::{respond, Report};
use crate::config::Origins;
use crate::domain::Operation;
use crate::error::ApiError;
use crate::objects::Objects;
use crate::service::{Meter, Service};
use crate::store::Store;
use crate::telemetry::{self, Metrics};

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
        if let Some(preflight) = cors::preflight(&self.origins, request.method(), request.headers())
        {
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
        let record = report.record(&request_id, trace_id.unwrap_or_default(), started.elapsed());
        telemetry::log_request(&record);
        if let Some(metrics) = &self.metrics {
            metrics.record(&record);
        }
        let mut response = respond(&request_id, &report.result);
        cors::decorate(&self.origins, request.headers(), &mut response);
        response
    }

    /// Parses and runs one request of `operation`.
    async fn dispatch(&self, operation: Result<Operation, ApiError>, request: &Request) -> Report {
        let operation = match operation {
            Ok(operation) => operation,
            Err(error) => return Report::without_calls(None, error),
        };
        let (headers, body) = (request.headers(), request.body().as_ref());
        let now = SystemTime::now();
        let mut meter = Meter::new(deadline(request));
        let service = &self.service;
        let result = match operation {
            Operation::StartAttachmentUpload => {
                match parse::start(headers, body, &service.settings().uploads) {
                    Ok(request) => service.start(&request, now, &mut meter).await,
                    Err(error) => Err(error),
                }
            }
            Operation::CompleteAttachmentUpload => match parse::complete(headers, body) {
                Ok(request) => service.complete(&request, now, &mut meter).await,
                Err(error) => Err(error),
            },
            Operation::GetAttachment => match parse::get(headers, body) {
                Ok(request) => service.get(&request, now, &mut meter).await,
                Err(error) => Err(error),
            },
        };
        Report {
            operation: Some(operation),
            result,
            dynamodb_calls: meter.dynamodb_calls,
            s3_calls: meter.s3_calls,
        }
    }
}

/// Runs a `Handler` as the Lambda function, with `lambda_http::run`.
pub async fn run<S, O>(handler: Arc<Handler<S, O>>) -> Result<(), lambda_http::Error>
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
