//! CompleteAttachmentUpload: confirm that the file was uploaded, then approve it.
//!
//! One ranged `GetObject` first ("confirm that the attachment has been uploaded": its size, type,
//! `ETag` and first bytes), the bytes checked against the type ([`crate::content`]), then one
//! transaction that approves the attachment, records S3's `ETag`, counts it toward the quota and
//! records the idempotency item, or, for a disguised file, rejects it. When S3 holds nothing, one
//! transactional read tells a replay from a refusal.

use std::time::SystemTime;

use super::{Answer, Meter, Service, WriteRequest};
use crate::content::{self, Verdict, PEEK_BYTES};
use crate::domain::{AttachmentId, ObjectKey};
use crate::error::ApiError;
use crate::objects::Objects;
use crate::store::{Completion, Store};

/// A validated completion, secrets already hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteRequest {
    pub write: WriteRequest,
    pub attachment_id: AttachmentId,
}

impl<S: Store, O: Objects> Service<S, O> {
    pub async fn complete(
        &self,
        request: &CompleteRequest,
        now: SystemTime,
        meter: &mut Meter,
    ) -> Result<Answer, ApiError> {
        let write = &request.write;
        let connection = self.authenticate(&write.token_hash, now, meter).await?;
        let caller = self.caller(write, &connection, now);
        // An attachment of another contact has no object under this contact's key: the read
        // below then answers 403 for it, as the contract's order wants.
        let key = ObjectKey::new(&connection.contact_id, &request.attachment_id);
        let object = meter.s3(self.objects.peek(&key, PEEK_BYTES)).await?;
        let result = match &object {
            None => {
                self.retrying(meter, || {
                    self.store.replay_or_refuse(&caller, &request.attachment_id)
                })
                .await
            }
            Some(object) => {
                // The bytes, not the label: a disguised file is rejected in the transaction
                // that would have approved it.
                let verdict =
                    content::check(&object.content_type, &object.first_bytes, object.size);
                let completion = Completion {
                    caller,
                    attachment_id: &request.attachment_id,
                    object,
                    expected_content_type: &object.content_type,
                    rejection: match verdict {
                        Verdict::Mismatch(why) => Some(why),
                        Verdict::Matches | Verdict::Unchecked => None,
                    },
                };
                self.retrying(meter, || self.store.complete(&completion))
                    .await
            }
        };
        self.connections.refused(&write.token_hash, &result);
        Ok(Answer::Completed(result?))
    }
}
