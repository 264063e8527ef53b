//! What one request may spend on DynamoDB and S3, and what it has spent: every call is counted
//! (the counts go to the request's log line) and none runs past the invocation's deadline. A
//! call that ran out of time after throttled attempts is throttling (429), not a failure.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::objects::ObjectError;
use crate::store::StoreError;
use crate::throttle;

#[derive(Debug, Default)]
pub struct Budget {
    deadline: Option<Instant>,
    pub dynamodb_calls: u32,
    pub s3_calls: u32,
}

impl Budget {
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
        match throttle::watch(self.bounded(call)).await {
            (None | Some(Err(StoreError::DeadlineExceeded)), true) => Err(StoreError::Throttled),
            (result, _) => result.unwrap_or(Err(StoreError::DeadlineExceeded)),
        }
    }

    pub async fn s3<T>(
        &mut self,
        call: impl Future<Output = Result<T, ObjectError>>,
    ) -> Result<T, ObjectError> {
        self.s3_calls += 1;
        match throttle::watch(self.bounded(call)).await {
            (None | Some(Err(ObjectError::DeadlineExceeded)), true) => Err(ObjectError::Throttled),
            (result, _) => result.unwrap_or(Err(ObjectError::DeadlineExceeded)),
        }
    }

    /// `None` if the deadline passed first.
    async fn bounded<T>(&self, call: impl Future<Output = T>) -> Option<T> {
        match self.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.into(), call).await.ok(),
            None => Some(call.await),
        }
    }

    /// Whether a retry after `delay` would still start before the deadline.
    pub fn allows(&self, delay: Duration) -> bool {
        self.deadline
            .is_none_or(|deadline| Instant::now() + delay < deadline)
    }
}
