//! openapi.yaml describes the operations the code implements: path, header, limits, and each
//! error's status and `X-Amzn-ErrorType`.

use std::collections::BTreeMap;

use connect_attachments::api::parse::{
    ATTACHMENT_IDS_PER_REQUEST, BEARER_HEADER, MAX_ATTACHMENT_ID_CHARS, MAX_ATTACHMENT_NAME_CHARS,
    MAX_CLIENT_TOKEN_CHARS, MAX_CONNECTION_TOKEN_CHARS, MAX_CONTENT_TYPE_CHARS,
    MAX_URL_EXPIRY_SECONDS, MIN_URL_EXPIRY_SECONDS,
};
use connect_attachments::domain::Operation;
use connect_attachments::error::{ApiError, ConflictReason};
use serde_yaml_ng::Value;

fn spec() -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string("openapi.yaml").unwrap()).unwrap()
}

/// Follows a local `$ref`.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .trim_start_matches("#/")
            .split('/')
            .fold(spec, |node, key| &node[key]),
        None => value,
    }
}

#[test]
fn the_operations_headers_and_limits_match_the_code() {
    let spec = spec();
    let paths = spec["paths"].as_mapping().unwrap();
    let described: Vec<&str> = paths.keys().map(|k| k.as_str().unwrap()).collect();
    let implemented: Vec<&str> = Operation::ALL.iter().map(|o| o.path()).collect();
    assert_eq!(described.len(), implemented.len());
    for operation in Operation::ALL {
        let path = &spec["paths"][operation.path()];
        assert_eq!(path.as_mapping().unwrap().len(), 1, "POST only");
        assert_eq!(path["post"]["operationId"], operation.name());
        let header = &path["post"]["parameters"][0];
        assert!(header["name"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(BEARER_HEADER));
        assert_eq!(header["in"], "header");
        assert_eq!(header["required"], true);
        assert_eq!(header["schema"]["minLength"], 1);
        assert_eq!(
            header["schema"]["maxLength"],
            MAX_CONNECTION_TOKEN_CHARS as u64
        );
    }
    let body = |operation: Operation| {
        resolve(
            &spec,
            &spec["paths"][operation.path()]["post"]["requestBody"]["content"]["application/json"]
                ["schema"],
        )
        .clone()
    };
    let length = |member: &Value, max: usize| {
        assert_eq!(member["minLength"], 1, "{member:?}");
        assert_eq!(member["maxLength"], max as u64, "{member:?}");
    };

    let start = body(Operation::StartAttachmentUpload);
    length(
        &start["properties"]["AttachmentName"],
        MAX_ATTACHMENT_NAME_CHARS,
    );
    length(&start["properties"]["ContentType"], MAX_CONTENT_TYPE_CHARS);
    length(&start["properties"]["ClientToken"], MAX_CLIENT_TOKEN_CHARS);
    assert_eq!(start["properties"]["AttachmentSizeInBytes"]["minimum"], 1);

    let complete = body(Operation::CompleteAttachmentUpload);
    let ids = &complete["properties"]["AttachmentIds"];
    assert_eq!(ids["minItems"], ATTACHMENT_IDS_PER_REQUEST as u64);
    assert_eq!(ids["maxItems"], ATTACHMENT_IDS_PER_REQUEST as u64);
    length(&ids["items"], MAX_ATTACHMENT_ID_CHARS);
    length(
        &complete["properties"]["ClientToken"],
        MAX_CLIENT_TOKEN_CHARS,
    );

    let get = body(Operation::GetAttachment);
    length(&get["properties"]["AttachmentId"], MAX_ATTACHMENT_ID_CHARS);
    let expiry = &get["properties"]["UrlExpiryInSeconds"];
    assert_eq!(expiry["minimum"], MIN_URL_EXPIRY_SECONDS);
    assert_eq!(expiry["maximum"], MAX_URL_EXPIRY_SECONDS);
}

#[test]
fn every_error_each_operation_answers_is_described_with_its_status_and_type() {
    let spec = spec();
    let common = || {
        vec![
            ApiError::Validation(Vec::new()),
            ApiError::AccessDenied,
            ApiError::Throttling,
            ApiError::internal("any"),
        ]
    };
    let mut start = common();
    start.push(ApiError::QuotaExceeded);
    let mut complete = common();
    complete.extend([
        ApiError::QuotaExceeded,
        ApiError::Conflict(ConflictReason::NotInProgress),
        ApiError::Conflict(ConflictReason::ClientTokenReused),
        ApiError::Conflict(ConflictReason::NotUploaded),
        ApiError::Conflict(ConflictReason::UploadMismatch),
    ]);
    for (operation, errors) in [
        (Operation::StartAttachmentUpload, start),
        (Operation::CompleteAttachmentUpload, complete),
        (Operation::GetAttachment, common()),
    ] {
        let responses = &spec["paths"][operation.path()]["post"]["responses"];
        let described: BTreeMap<u16, String> = responses
            .as_mapping()
            .unwrap()
            .iter()
            .filter(|(status, _)| status.as_str() != Some("200"))
            .map(|(status, response)| {
                let response = resolve(&spec, response);
                let error_type = &response["headers"]["X-Amzn-ErrorType"]["schema"]["enum"][0];
                (
                    status.as_str().unwrap().parse().unwrap(),
                    error_type.as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let implemented: BTreeMap<u16, String> = errors
            .iter()
            .map(|e| (e.status(), e.name().to_owned()))
            .collect();
        assert_eq!(described, implemented, "{}", operation.name());
    }
}
