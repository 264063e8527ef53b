// Amazon's chat library runs its own attachment code against the endpoint in the query string
// (?api=...&token=...): ChatSession.sendAttachment (StartAttachmentUpload, the PUT with
// HeadersToInclude, CompleteAttachmentUpload) and ChatSession.downloadAttachment (GetAttachment,
// then a fetch of the URL). window.chatRoundTrip() does both with the picked file.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const token = params.get("token");
  const region = "us-east-1";
  connect.ChatSession.setGlobalConfig({ endpoint: params.get("api"), region });
  // The only public way to chatjs's client. Nothing is sent before connect(), which the
  // attachment calls do not need: CreateParticipantConnection is not part of this service.
  const session = connect.ChatSession.create({
    chatDetails: { ContactId: "contact", ParticipantId: "participant", ParticipantToken: "unused" },
    type: connect.ChatSession.SessionTypes.CUSTOMER,
    options: { region },
    disableCSM: true,
  });
  // Without connect(), the session has no connection helper: this one hands over the
  // connection token that CreateParticipantConnection would have returned.
  session.controller.connectionHelper = { getConnectionToken: () => token, getStatus: () => "Connected" };
  // sendAttachment answers CompleteAttachmentUpload's response, not the id (a widget learns it
  // from the websocket): the id is read from StartAttachmentUpload's answer on its way through.
  let started = null;
  const sdk = session.controller.chatClient.chatClient;
  const send = sdk.send.bind(sdk);
  sdk.send = (command, ...rest) =>
    send(command, ...rest).then((out) => {
      if (out && out.AttachmentId && out.UploadMetadata) started = out.AttachmentId;
      return out;
    });

  // chatjs rejects with {type, message, statusCode}, a string, or a fetch TypeError.
  function describe(e) {
    if (typeof e === "string") return e;
    if (e instanceof Error) return `${e.name}: ${e.message}`;
    return `${e.type || e.name || "Error"}: ${e.message || JSON.stringify(e)}`;
  }

  async function base64(blob) {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }

  window.chatRoundTrip = async function () {
    const result = { version: connect.ChatJS && connect.ChatJS.version, attachment_id: null };
    started = null;
    try {
      await session.sendAttachment({ attachment: document.getElementById("file").files[0] });
      result.attachment_id = started;
      const blob = await session.downloadAttachment({ attachmentId: started });
      result.downloaded = await base64(blob);
    } catch (e) {
      result.error = describe(e);
    }
    document.getElementById("result").textContent = JSON.stringify(result, null, 2);
    return result;
  };
  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("version").textContent = (connect.ChatJS && connect.ChatJS.version) || "";
  });
})();
