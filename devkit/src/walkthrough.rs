//! The walk-through `make run` prints, and the README shows for the default port: the whole
//! lifecycle with curl, on the demo connections. `scripts/smoke-run.sh` runs the very lines
//! `make run` prints.

use connect_attachments::domain::Operation;

use crate::demo;

/// The shell lines, ready to paste. Each run uploads a new file under a new ClientToken.
pub fn commands(port: u16) -> String {
    let api = format!("http://127.0.0.1:{port}");
    let start = Operation::StartAttachmentUpload.path();
    let complete = Operation::CompleteAttachmentUpload.path();
    let get = Operation::GetAttachment.path();
    let (customer, agent) = (demo::TOKEN, demo::AGENT_TOKEN);
    format!(
        r#"cd "$(mktemp -d)" && echo 'Hello from the walk-through!' > hello.txt
json() {{ python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }}
# 1. StartAttachmentUpload: declare the file, get a pre-signed upload URL
START=$(curl -s {api}{start} -H 'X-Amz-Bearer: {customer}' \
  -d "{{\"AttachmentName\":\"hello.txt\",\"AttachmentSizeInBytes\":$(stat -c %s hello.txt),\"ContentType\":\"text/plain\",\"ClientToken\":\"$RANDOM$RANDOM\"}}")
echo "$START"; ID=$(echo "$START" | json '["AttachmentId"]')
# 2. Upload straight to S3, with the URL and the HeadersToInclude
curl -s -o /dev/null -w 'upload: %{{http_code}}\n' -X PUT -T hello.txt \
  -H 'Content-Type: text/plain' -H 'If-None-Match: *' "$(echo "$START" | json '["UploadMetadata"]["Url"]')"
# 3. CompleteAttachmentUpload: the function checks S3, then approves
curl -s -o /dev/null -w 'complete: %{{http_code}}\n' {api}{complete} -H 'X-Amz-Bearer: {customer}' \
  -d "{{\"AttachmentIds\":[\"$ID\"],\"ClientToken\":\"complete-$ID\"}}"
# 4. GetAttachment, as the agent of the same chat, then the download
GET=$(curl -s {api}{get} -H 'X-Amz-Bearer: {agent}' -d "{{\"AttachmentId\":\"$ID\"}}")
echo "$GET"; curl -s -D - "$(echo "$GET" | json '["Url"]')"
"#
    )
}
