//! StartAttachmentUpload: declare a file, get a pre-signed S3 `PUT` for it.
//!
//! One transaction creates the `IN_PROGRESS` record, the idempotency record and the contact's
//! started-attachments count; the URL is then signed locally. A replay answers the same
//! attachment with a freshly signed URL.

use std::time::SystemTime;

use super::{Answer, Meter, Service, WriteRequest};
use crate::domain::{AttachmentId, DeclaredUpload, ObjectKey};
use crate::error::ApiError;
use crate::objects::Objects;
use crate::store::{Start, Store};

/// A validated start, secrets already hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartRequest {
    pub write: WriteRequest,
    pub upload: DeclaredUpload,
}

impl<S: Store, O: Objects> Service<S, O> {
    pub async fn start(
        &self,
        request: &StartRequest,
        now: SystemTime,
        meter: &mut Meter,
    ) -> Result<Answer, ApiError> {
        let write = &request.write;
        let connection = self.authenticate(&write.token_hash, now, meter).await?;
        // Drawn once, so that every retry of the transaction creates the same attachment.
        let attachment_id = AttachmentId::generate();
        let start = Start {
            caller: self.caller(write, &connection, now),
            attachment_id: &attachment_id,
            upload: &request.upload,
        };
        let started = self.retrying(meter, || self.store.start(&start)).await;
        self.connections.refused(&write.token_hash, &started);
        let started = started?;
        let key = ObjectKey::new(&connection.contact_id, &started.attachment_id);
        let upload = self
            .objects
            .presign_upload(
                &key,
                &request.upload.content_type,
                request.upload.size,
                now,
                self.settings.uploads.url_ttl,
            )
            .await?;
        Ok(Answer::Started {
            attachment_id: started.attachment_id,
            upload,
            effect: started.effect,
        })
    }
}
