//! Whether DynamoDB or S3 throttled any attempt of a call that then ran out of time. The SDK
//! backs off after each throttled attempt; when the call's time bound (`DYNAMODB_TIMEOUT_MS`,
//! `S3_TIMEOUT_MS` or the invocation's deadline) ends during that back-off, the SDK reports a
//! timeout that carries no response, and the call would read as our own failure (500). It is
//! the service asking the caller to slow down: 429, whatever the bound and the back-off's luck.
//!
//! We classify rather than fit the back-off inside the bound: no back-off schedule can promise
//! that a throttled service answers before the bound ends, while the witness below knows.

use std::cell::Cell;
use std::future::Future;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

tokio::task_local! {
    static THROTTLED: Cell<bool>;
}

/// Runs `call`, and tells whether any of its attempts was throttled.
pub async fn watch<F: Future>(call: F) -> (F::Output, bool) {
    // On the heap: an SDK call's future is large, and each wrapper would copy it on the stack
    // again (one allocation, against the SDK's hundreds per call).
    let call = Box::pin(call);
    THROTTLED
        .scope(Cell::new(false), async move {
            let output = call.await;
            (output, THROTTLED.with(Cell::get))
        })
        .await
}

/// Sees every attempt's answer (the SDK runs interceptors in the task of the call being
/// [`watch`]ed) and notes a throttled one.
#[derive(Debug)]
pub struct Witness {
    statuses: &'static [u16],
    /// Error codes, as they appear in an error body.
    codes: &'static [&'static str],
}

impl Witness {
    /// DynamoDB throttles with a 400 and an error code in the body.
    pub const fn dynamodb(codes: &'static [&'static str]) -> Self {
        Self {
            statuses: &[],
            codes,
        }
    }

    /// S3 throttles with `503 SlowDown` (or 429).
    pub const fn s3(statuses: &'static [u16]) -> Self {
        Self {
            statuses,
            codes: &[],
        }
    }

    fn throttled(&self, status: u16, body: Option<&[u8]>) -> bool {
        self.statuses.contains(&status)
            || (status >= 400
                && body.is_some_and(|body| {
                    self.codes.iter().any(|code| {
                        body.windows(code.len())
                            .any(|window| window == code.as_bytes())
                    })
                }))
    }
}

impl Intercept for Witness {
    fn name(&self) -> &'static str {
        "ThrottleWitness"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        if self.throttled(response.status().as_u16(), response.body().bytes()) {
            // Outside a watched call (the reaper, set-up tools) there is nobody to tell.
            let _ = THROTTLED.try_with(|throttled| throttled.set(true));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttling_status_or_code_is_seen_and_nothing_else() {
        let s3 = Witness::s3(&[429, 503]);
        assert!(s3.throttled(503, None));
        assert!(!s3.throttled(500, Some(b"SlowDown")));
        let dynamodb = Witness::dynamodb(&["ThrottlingException"]);
        let body = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException"}"#;
        assert!(dynamodb.throttled(400, Some(body)));
        assert!(!dynamodb.throttled(200, Some(body)));
        assert!(!dynamodb.throttled(400, Some(b"{\"__type\":\"ValidationException\"}")));
    }

    #[tokio::test]
    async fn a_watched_call_tells_whether_an_attempt_was_throttled() {
        let note = || THROTTLED.with(|t| t.set(true));
        assert_eq!(watch(async { 1 }).await, (1, false));
        assert_eq!(watch(async { note() }).await, ((), true));
        assert_eq!(
            watch(async {}).await,
            ((), false),
            "each call starts afresh"
        );
    }
}
