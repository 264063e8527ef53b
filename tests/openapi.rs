//! openapi.yaml describes the operation the code implements: path, header, limits, and each
//! error's status and `X-Amzn-ErrorType`.

use std::collections::BTreeMap;

use complete_attachment_upload::error::{ApiError, ConflictReason};
use complete_attachment_upload::http::OPERATION_PATH;
use complete_attachment_upload::request::{
    ATTACHMENT_IDS_PER_REQUEST, BEARER_HEADER, MAX_ATTACHMENT_ID_CHARS, MAX_CLIENT_TOKEN_CHARS,
    MAX_CONNECTION_TOKEN_CHARS,
};
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
fn the_operation_header_and_limits_match_the_code() {
    let spec = spec();
    let paths = spec["paths"].as_mapping().unwrap();
    assert_eq!(paths.len(), 1);
    assert_eq!(paths.keys().next().unwrap(), OPERATION_PATH);
    let operation = &spec["paths"][OPERATION_PATH]["post"];
    assert_eq!(
        spec["paths"][OPERATION_PATH].as_mapping().unwrap().len(),
        1,
        "POST only"
    );

    let header = &operation["parameters"][0];
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

    let body = resolve(
        &spec,
        &operation["requestBody"]["content"]["application/json"]["schema"],
    );
    let ids = &body["properties"]["AttachmentIds"];
    assert_eq!(ids["minItems"], ATTACHMENT_IDS_PER_REQUEST as u64);
    assert_eq!(ids["maxItems"], ATTACHMENT_IDS_PER_REQUEST as u64);
    assert_eq!(ids["items"]["minLength"], 1);
    assert_eq!(ids["items"]["maxLength"], MAX_ATTACHMENT_ID_CHARS as u64);
    let client_token = &body["properties"]["ClientToken"];
    assert_eq!(client_token["minLength"], 1);
    assert_eq!(client_token["maxLength"], MAX_CLIENT_TOKEN_CHARS as u64);
}

#[test]
fn every_error_the_operation_answers_is_described_with_its_status_and_type() {
    let spec = spec();
    let responses = &spec["paths"][OPERATION_PATH]["post"]["responses"];
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
    let errors = [
        ApiError::Validation(Vec::new()),
        ApiError::AccessDenied,
        ApiError::Conflict(ConflictReason::NotInProgress),
        ApiError::Conflict(ConflictReason::ClientTokenReused),
        ApiError::QuotaExceeded,
        ApiError::Throttling,
        ApiError::internal("any"),
    ];
    let implemented: BTreeMap<u16, String> = errors
        .iter()
        .map(|e| (e.status().as_u16(), e.name().to_owned()))
        .collect();
    assert_eq!(described, implemented);
}
