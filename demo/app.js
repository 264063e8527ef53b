// The demo page: what a chat widget does, in plain JavaScript. Start → upload to S3 with the
// returned URL and HeadersToInclude → complete → get a download link. Every error shows its
// X-Amzn-ErrorType and a sentence a person understands.
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
$("api").value = params.get("api") || "http://127.0.0.1:9000";
if (params.get("token")) $("token").value = params.get("token");

/** An API error: its X-Amzn-ErrorType, the service's message, and words for a person. */
class ApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

function explain(error) {
  const message = error.message || "";
  switch (error.type) {
    case "ValidationException":
      if (/contentType/.test(message)) return "This type of file cannot be sent in the chat.";
      if (/attachmentSizeInBytes/.test(message) && /less than or equal/.test(message))
        return "This file is too large to send in the chat.";
      if (/attachmentSizeInBytes/.test(message)) return "This file is empty.";
      if (/connectionToken/.test(message)) return "Enter the chat's connection token.";
      return "The request was not accepted.";
    case "AccessDeniedException":
      return "Your chat session has ended or the connection token is not valid.";
    case "ServiceQuotaExceededException":
      return "This chat has reached its limit of attachments.";
    case "ThrottlingException":
      return "Too many requests right now: try again in a moment.";
    case "ConflictException":
      if (/content does not match/.test(message))
        return "This file is not what its type says, so it cannot be sent in the chat.";
      return "The upload did not complete: send the file again.";
    case "UploadFailed":
      return "The file could not be uploaded to storage.";
    case "NetworkError":
      return "The service could not be reached.";
    default:
      return "Something went wrong on our side: try again.";
  }
}

/** POSTs one operation; its JSON answer, or an ApiError from X-Amzn-ErrorType and the body. */
async function call(path, body) {
  let response;
  try {
    response = await fetch($("api").value.replace(/\/$/, "") + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Amz-Bearer": $("token").value },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError("NetworkError", String(e), 0);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { message = JSON.parse(text).Message; } catch (_) { /* not JSON */ }
    const type = response.headers.get("X-Amzn-ErrorType") || "HTTP " + response.status;
    throw new ApiError(type, message, response.status);
  }
  return text ? JSON.parse(text) : {};
}

/** PUTs the file to the pre-signed URL with every header of HeadersToInclude, showing progress. */
function upload(metadata, file) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", metadata.Url);
    for (const [name, value] of Object.entries(metadata.HeadersToInclude || {})) {
      request.setRequestHeader(name, value);
    }
    const bar = $("progress");
    bar.hidden = false;
    bar.value = 0;
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) bar.value = Math.round((100 * event.loaded) / event.total);
    };
    request.onload = () =>
      request.status >= 200 && request.status < 300
        ? resolve()
        : reject(new ApiError("UploadFailed", `S3 answered ${request.status}`, request.status));
    request.onerror = () => reject(new ApiError("UploadFailed", "the upload was refused", 0));
    request.send(file);
  });
}

function status(text) {
  $("status").textContent = text;
}

function showError(error) {
  const box = $("error");
  box.textContent = "";
  const type = document.createElement("code");
  type.textContent = error.type || "Error";
  box.append(type, ": " + explain(error));
  if (error.message) {
    const detail = document.createElement("div");
    const small = document.createElement("small");
    small.textContent = error.message;
    detail.append(small);
    box.append(detail);
  }
}

function listAttachment(name, id, got) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.className = "download";
  link.href = got.Url;
  link.textContent = name;
  link.dataset.attachmentId = id;
  link.download = name;
  item.append(link, ` (${got.AttachmentSizeInBytes} bytes; link valid until ${got.UrlExpiry})`);
  $("attachments").append(item);
}

$("upload").addEventListener("click", async () => {
  const file = $("file").files[0];
  $("error").textContent = "";
  if (!file) {
    status("Pick a file first.");
    return;
  }
  $("upload").disabled = true;
  try {
    status(`Starting the upload of ${file.name}…`);
    const started = await call("/participant/start-attachment-upload", {
      AttachmentName: file.name,
      AttachmentSizeInBytes: file.size,
      ContentType: file.type || "application/octet-stream",
      ClientToken: crypto.randomUUID(),
    });
    status(`Uploading ${file.name}…`);
    await upload(started.UploadMetadata, file);
    status("Completing…");
    await call("/participant/complete-attachment-upload", {
      AttachmentIds: [started.AttachmentId],
      ClientToken: crypto.randomUUID(),
    });
    const got = await call("/participant/attachment", { AttachmentId: started.AttachmentId });
    listAttachment(file.name, started.AttachmentId, got);
    status(`${file.name} was sent.`);
  } catch (error) {
    status("");
    showError(error);
  } finally {
    $("upload").disabled = false;
    $("progress").hidden = true;
  }
});
