//! template.yaml cannot drift from the code: the route, the tables' keys and TTL attributes,
//! the environment variables and the IAM policy are checked against the names the code uses.

use std::collections::BTreeSet;

use complete_attachment_upload::config::FUNCTION_VARIABLES;
use complete_attachment_upload::http::OPERATION_PATH;
use complete_attachment_upload::store::dynamodb::{
    ATTACHMENT_ID, EXPIRES_AT, IDEMPOTENCY_KEY, TOKEN_HASH,
};
use serde_yaml_ng::Value;

fn template() -> Value {
    let text = std::fs::read_to_string("template.yaml").expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

fn resource<'a>(template: &'a Value, name: &str) -> &'a Value {
    &template["Resources"][name]
}

/// `!Ref X` as its target, `!GetAtt X.Arn` as "X.Arn", anything else as its YAML text.
fn intrinsic(value: &Value) -> String {
    match value {
        Value::Tagged(tagged) => format!("{}:{}", tagged.tag, intrinsic(&tagged.value)),
        Value::String(s) => s.clone(),
        Value::Sequence(items) => items.iter().map(intrinsic).collect::<Vec<_>>().join(","),
        other => serde_yaml_ng::to_string(other).unwrap().trim().to_owned(),
    }
}

#[test]
fn the_function_is_a_cargo_lambda_arm64_bootstrap() {
    let template = template();
    let function = resource(&template, "CompleteAttachmentUploadFunction");
    let properties = &function["Properties"];
    assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(
        function["Metadata"]["BuildProperties"]["Binary"],
        env!("CARGO_PKG_NAME")
    );
    assert_eq!(properties["Runtime"], "provided.al2023");
    assert_eq!(properties["Handler"], "bootstrap");
    assert_eq!(properties["Architectures"][0], "arm64");
    assert_eq!(properties["LoggingConfig"]["LogFormat"], "JSON");
}

#[test]
fn the_operations_route_and_every_other_request_reach_the_function() {
    let template = template();
    let events = &resource(&template, "CompleteAttachmentUploadFunction")["Properties"]["Events"];
    assert_eq!(events.as_mapping().unwrap().len(), 2);
    let operation = &events["CompleteAttachmentUpload"];
    assert_eq!(operation["Type"], "HttpApi");
    assert_eq!(operation["Properties"]["Method"], "POST");
    assert_eq!(operation["Properties"]["Path"], OPERATION_PATH);
    // The fixture tests replay events in this payload format.
    assert_eq!(operation["Properties"]["PayloadFormatVersion"], "2.0");
    // Everything else too, so that the function answers 404/405 in the contract's format.
    let unmatched = &events["Unmatched"];
    assert_eq!(unmatched["Type"], "HttpApi");
    assert_eq!(unmatched["Properties"]["Method"], "ANY");
    assert_eq!(unmatched["Properties"]["Path"], "$default");
}

#[test]
fn the_environment_is_exactly_what_the_code_reads() {
    let template = template();
    let variables = &resource(&template, "CompleteAttachmentUploadFunction")["Properties"]
        ["Environment"]["Variables"];
    let names: BTreeSet<&str> = variables
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(names, FUNCTION_VARIABLES.into_iter().collect());
    assert_eq!(
        intrinsic(&variables["CONNECTIONS_TABLE"]),
        "!If:CreateConnectionsTable,!Ref:ConnectionsTable,!Ref:ConnectionsTableName"
    );
    assert_eq!(
        intrinsic(&variables["ATTACHMENTS_TABLE"]),
        "!If:CreateAttachmentsTable,!Ref:AttachmentsTable,!Ref:AttachmentsTableName"
    );
    assert_eq!(
        intrinsic(&variables["IDEMPOTENCY_TABLE"]),
        "!Ref:IdempotencyTable"
    );
}

#[test]
fn the_tables_have_the_codes_keys_and_ttl() {
    let template = template();
    for (name, key, ttl) in [
        ("ConnectionsTable", TOKEN_HASH, Some(EXPIRES_AT)),
        ("AttachmentsTable", ATTACHMENT_ID, None),
        ("IdempotencyTable", IDEMPOTENCY_KEY, Some(EXPIRES_AT)),
    ] {
        let table = resource(&template, name);
        let properties = &table["Properties"];
        assert_eq!(table["Type"], "AWS::DynamoDB::Table");
        assert_eq!(
            properties["KeySchema"].as_sequence().unwrap().len(),
            1,
            "{name}"
        );
        assert_eq!(properties["KeySchema"][0]["AttributeName"], key, "{name}");
        assert_eq!(properties["KeySchema"][0]["KeyType"], "HASH");
        assert_eq!(properties["AttributeDefinitions"][0]["AttributeName"], key);
        assert_eq!(properties["AttributeDefinitions"][0]["AttributeType"], "S");
        assert_eq!(properties["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(
            properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
            true
        );
        assert_eq!(properties["SSESpecification"]["SSEEnabled"], true);
        assert_eq!(table["DeletionPolicy"], "Retain", "{name}");
        assert_eq!(table["UpdateReplacePolicy"], "Retain", "{name}");
        match ttl {
            Some(attribute) => {
                assert_eq!(
                    properties["TimeToLiveSpecification"]["AttributeName"],
                    attribute
                );
                assert_eq!(properties["TimeToLiveSpecification"]["Enabled"], true);
            }
            None => assert!(
                properties.get("TimeToLiveSpecification").is_none(),
                "{name}"
            ),
        }
    }
}

#[test]
fn the_policy_grants_the_lookup_and_the_transaction_parts_only() {
    let template = template();
    let policies =
        &resource(&template, "CompleteAttachmentUploadFunction")["Properties"]["Policies"];
    assert_eq!(
        policies.as_sequence().unwrap().len(),
        1,
        "one inline policy, no broad templates"
    );
    let grants: BTreeSet<(String, String)> = policies[0]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|statement| {
            assert_eq!(statement["Effect"], "Allow");
            let resource = intrinsic(&statement["Resource"]);
            statement["Action"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(move |action| (action.as_str().unwrap().to_owned(), resource.clone()))
        })
        .collect();
    let connections = "!If:CreateConnectionsTable,!GetAtt:ConnectionsTable.Arn,!Sub:arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${ConnectionsTableName}";
    let attachments = "!If:CreateAttachmentsTable,!GetAtt:AttachmentsTable.Arn,!Sub:arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${AttachmentsTableName}";
    let idempotency = "!GetAtt:IdempotencyTable.Arn";
    let expected: BTreeSet<(String, String)> = [
        ("dynamodb:GetItem", connections),
        ("dynamodb:ConditionCheckItem", connections),
        ("dynamodb:UpdateItem", attachments),
        ("dynamodb:PutItem", idempotency),
        ("dynamodb:UpdateItem", idempotency),
    ]
    .into_iter()
    .map(|(a, r)| (a.to_owned(), r.to_owned()))
    .collect();
    assert_eq!(grants, expected);
}

#[test]
fn the_api_is_throttled_and_logged_and_its_url_is_an_output() {
    let template = template();
    let api = &resource(&template, "HttpApi")["Properties"];
    assert_eq!(
        intrinsic(&api["DefaultRouteSettings"]["ThrottlingBurstLimit"]),
        "!Ref:ThrottlingBurstLimit"
    );
    assert_eq!(
        intrinsic(&api["DefaultRouteSettings"]["ThrottlingRateLimit"]),
        "!Ref:ThrottlingRateLimit"
    );
    assert_eq!(
        intrinsic(&api["AccessLogSettings"]["DestinationArn"]),
        "!GetAtt:AccessLogGroup.Arn"
    );
    assert!(intrinsic(&template["Outputs"]["InvokeUrl"]["Value"]).ends_with(OPERATION_PATH));
}

#[test]
fn the_local_tables_script_creates_the_same_keys() {
    let script = std::fs::read_to_string("scripts/tables.sh").unwrap();
    for line in [
        format!("create_table \"$connections\" {TOKEN_HASH} {EXPIRES_AT}"),
        format!("create_table \"$attachments\" {ATTACHMENT_ID}\n"),
        format!("create_table \"$idempotency\" {IDEMPOTENCY_KEY} {EXPIRES_AT}"),
    ] {
        assert!(
            script.contains(&line),
            "scripts/tables.sh lacks `{}`",
            line.trim()
        );
    }
}
