//! The call meter of one request: every DynamoDB and S3 call is counted (the counts go to the
//! request's log line and metrics), and none runs past the invocation's deadline. A call that
//! ran out of time after throttled attempts is throttling (429), not a failure.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::objects::ObjectError;
use crate::store::StoreError;
use crate::throttle;

#[derive(Debug, Default)]
pub struct Meter {
    deadline: Option<Instant>,
    pub dynamodb_calls: u32,
    pub s3_calls: u32,
}

impl Meter {
    /// With a `deadline` (the invocation's, less a margin to answer in), no call or retry runs
    /// past it.
    pub fn new(deadline: Option<Instant>) -> Self {
        Self {
            deadline,
            ..Self::default()
        }
    }

    pub async fn dynamodb<T>(
        &mut self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.dynamodb_calls += 1;
        self.bounded(call).await
    }

    pub async fn s3<T>(
        &mut self,
        call: impl Future<Output = Result<T, ObjectError>>,
    ) -> Result<T, ObjectError> {
        self.s3_calls += 1;
        self.bounded(call).await
    }

    /// The call's answer, within the deadline; a time bound that ended after throttled
    /// attempts is throttling.
    async fn bounded<T, E: Bounded>(
        &self,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let bounded = async {
            match self.deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), call)
                    .await
                    .unwrap_or(Err(E::DEADLINE_EXCEEDED)),
                None => call.await,
            }
        };
        match throttle::watch(bounded).await {
            (Err(error), true) if error.is_deadline_exceeded() => Err(E::THROTTLED),
            (result, _) => result,
        }
    }

    /// Whether a retry after `delay` would still start before the deadline.
    pub fn allows(&self, delay: Duration) -> bool {
        self.deadline
            .is_none_or(|deadline| Instant::now() + delay < deadline)
    }
}

/// The errors of a call the meter bounds: DynamoDB's and S3's.
trait Bounded {
    const DEADLINE_EXCEEDED: Self;
    const THROTTLED: Self;
    fn is_deadline_exceeded(&self) -> bool;
}

impl Bounded for StoreError {
    const DEADLINE_EXCEEDED: Self = Self::DeadlineExceeded;
    const THROTTLED: Self = Self::Throttled;
    fn is_deadline_exceeded(&self) -> bool {
        matches!(self, Self::DeadlineExceeded)
    }
}

impl Bounded for ObjectError {
    const DEADLINE_EXCEEDED: Self = Self::DeadlineExceeded;
    const THROTTLED: Self = Self::Throttled;
    fn is_deadline_exceeded(&self) -> bool {
        matches!(self, Self::DeadlineExceeded)
    }
}
