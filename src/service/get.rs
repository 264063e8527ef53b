//! GetAttachment: a pre-signed S3 `GET` of an approved attachment, for any participant of its
//! contact.
//!
//! One `TransactGetItems` reads the connection and the attachment together, so a revoked
//! connection is refused at once, whatever this container remembers; the URL is signed locally,
//! never for a file whose retention ends before the URL does.

use std::time::{Duration, SystemTime};

use super::{Answer, Meter, Service};
use crate::domain::{epoch_seconds, AttachmentId, ObjectKey, TokenHash};
use crate::error::ApiError;
use crate::objects::{Download, Objects};
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequest {
    pub token_hash: TokenHash,
    pub attachment_id: AttachmentId,
    pub url_expiry: Duration,
}

impl<S: Store, O: Objects> Service<S, O> {
    pub async fn get(
        &self,
        request: &GetRequest,
        now: SystemTime,
        meter: &mut Meter,
    ) -> Result<Answer, ApiError> {
        let attachment = self
            .retrying(meter, || {
                self.store
                    .approved_attachment(&request.token_hash, &request.attachment_id, now)
            })
            .await?;
        // Never a URL to a file that is gone or would go while the URL lives: once its
        // retention ends, the attachment is refused like any other that is not there.
        let valid_until = epoch_seconds(now + request.url_expiry);
        if attachment
            .expires_at
            .is_some_and(|expires| expires <= valid_until)
        {
            return Err(ApiError::AccessDenied);
        }
        let key = ObjectKey::new(&attachment.contact_id, &request.attachment_id);
        let download = Download {
            file_name: &attachment.name,
            content_type: &attachment.content_type,
        };
        let download = self
            .objects
            .presign_download(&key, download, now, request.url_expiry)
            .await?;
        Ok(Answer::Attachment {
            download,
            size: attachment.size,
        })
    }
}
