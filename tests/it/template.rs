//! template.yaml cannot drift from the code: the route, the tables' keys and TTL attributes,
//! the environment variables and the IAM policy are checked against the names the code uses.

use std::collections::BTreeSet;

use connect_attachments::config::Tables;
use connect_attachments::config::FUNCTION_VARIABLES;
use connect_attachments::domain::Operation;
use serde_yaml_ng::Value;

const FUNCTION: &str = "AttachmentsFunction";

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
    let function = resource(&template, FUNCTION);
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
fn the_operations_routes_and_every_other_request_reach_the_function() {
    let template = template();
    let events = &resource(&template, FUNCTION)["Properties"]["Events"];
    assert_eq!(events.as_mapping().unwrap().len(), Operation::ALL.len() + 1);
    for operation in Operation::ALL {
        let route = &events[operation.name()];
        assert_eq!(route["Type"], "HttpApi");
        assert_eq!(route["Properties"]["Method"], "POST");
        assert_eq!(route["Properties"]["Path"], operation.path());
        // The fixture tests replay events in this payload format.
        assert_eq!(route["Properties"]["PayloadFormatVersion"], "2.0");
    }
    // Everything else too, so that the function answers 404/405 in the contract's format.
    let unmatched = &events["Unmatched"];
    assert_eq!(unmatched["Type"], "HttpApi");
    assert_eq!(unmatched["Properties"]["Method"], "ANY");
    assert_eq!(unmatched["Properties"]["Path"], "$default");
}

#[test]
fn the_environment_is_exactly_what_the_code_reads() {
    let template = template();
    let variables = &resource(&template, FUNCTION)["Properties"]["Environment"]["Variables"];
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
    let names = ["ConnectionsTable", "AttachmentsTable", "IdempotencyTable"];
    for (name, definition) in
        names
            .into_iter()
            .zip(connect_attachments::store::schema::definitions(
                &Tables::default(),
            ))
    {
        let (key, ttl) = (definition.partition_key, definition.ttl_attribute);
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
fn the_policy_grants_what_the_three_operations_need_and_nothing_more() {
    let template = template();
    let policies = &resource(&template, FUNCTION)["Properties"]["Policies"];
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
    let objects = "!Sub:arn:${AWS::Partition}:s3:::${Bucket}/*,Bucket: !If\n- CreateAttachmentsBucket\n- !Ref AttachmentsBucket\n- !Ref ExistingBucketName";
    let expected: BTreeSet<(String, String)> = [
        // Authentication, and the connection re-checked inside every transaction.
        ("dynamodb:GetItem", connections),
        ("dynamodb:ConditionCheckItem", connections),
        // Start creates the record, Complete approves it, Get reads it.
        ("dynamodb:PutItem", attachments),
        ("dynamodb:UpdateItem", attachments),
        ("dynamodb:GetItem", attachments),
        // Idempotency records and quota counters; Complete reads them back after a lost upload.
        ("dynamodb:PutItem", idempotency),
        ("dynamodb:UpdateItem", idempotency),
        ("dynamodb:GetItem", idempotency),
        // Pre-signed PUT, pre-signed GET and the ranged GetObject, on the bucket's objects only.
        ("s3:PutObject", objects),
        ("s3:GetObject", objects),
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
    assert!(intrinsic(&template["Outputs"]["InvokeUrl"]["Value"])
        .ends_with(Operation::CompleteAttachmentUpload.path()));
}

#[test]
fn the_bucket_is_private_encrypted_tls_only_and_open_to_the_widgets_origins() {
    let template = template();
    let bucket = resource(&template, "AttachmentsBucket");
    assert_eq!(bucket["Type"], "AWS::S3::Bucket");
    assert_eq!(bucket["Condition"], "CreateAttachmentsBucket");
    let properties = &bucket["Properties"];
    let block = &properties["PublicAccessBlockConfiguration"];
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[setting], true, "{setting}");
    }
    assert!(
        properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            ["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
            .is_string()
    );
    let cors = &properties["CorsConfiguration"]["CorsRules"][0];
    assert_eq!(intrinsic(&cors["AllowedOrigins"]), "!Ref:AllowedOrigins");
    let methods: BTreeSet<&str> = cors["AllowedMethods"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(methods, BTreeSet::from(["GET", "PUT"]));
    let headers: Vec<&str> = cors["AllowedHeaders"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    // The headers the pre-signed PUT signs and the browser must send.
    for signed in ["Content-Type", "If-None-Match"] {
        assert!(headers.contains(&signed), "{signed} in {headers:?}");
    }
    let policy = &resource(&template, "AttachmentsBucketPolicy")["Properties"]["PolicyDocument"]
        ["Statement"][0];
    assert_eq!(policy["Effect"], "Deny");
    assert_eq!(
        policy["Condition"]["Bool"]["aws:SecureTransport"].as_str(),
        Some("false")
    );
    let variables = &resource(&template, FUNCTION)["Properties"]["Environment"]["Variables"];
    assert_eq!(
        intrinsic(&variables["ATTACHMENTS_BUCKET"]),
        "!If:CreateAttachmentsBucket,!Ref:AttachmentsBucket,!Ref:ExistingBucketName"
    );
}

#[test]
fn the_apis_cors_is_the_functions_and_the_buckets_rule_is_the_local_ones() {
    use connect_attachments::api::cors;
    let template = template();
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let api = &resource(&template, "HttpApi")["Properties"]["CorsConfiguration"];
    assert_eq!(intrinsic(&api["AllowOrigins"]), "!Ref:AllowedOrigins");
    assert_eq!(strings(&api["AllowMethods"]), cors::ALLOWED_METHODS);
    assert_eq!(strings(&api["AllowHeaders"]), cors::ALLOWED_HEADERS);
    assert_eq!(strings(&api["ExposeHeaders"]), cors::EXPOSED_HEADERS);
    assert_eq!(
        api["MaxAge"].as_u64(),
        Some(u64::from(cors::MAX_AGE_SECONDS))
    );
    let variables = &resource(&template, FUNCTION)["Properties"]["Environment"]["Variables"];
    assert_eq!(
        intrinsic(&variables["ALLOWED_ORIGINS"]),
        "!Join:,,!Ref:AllowedOrigins"
    );
    let bucket = &resource(&template, "AttachmentsBucket")["Properties"]["CorsConfiguration"]
        ["CorsRules"][0];
    let mut methods = strings(&bucket["AllowedMethods"]);
    methods.sort();
    let mut expected = cors::BUCKET_METHODS.map(String::from).to_vec();
    expected.sort();
    assert_eq!(methods, expected);
    assert_eq!(strings(&bucket["AllowedHeaders"]), cors::BUCKET_HEADERS);
    assert_eq!(
        strings(&bucket["ExposedHeaders"]),
        cors::BUCKET_EXPOSED_HEADERS
    );
    assert_eq!(
        bucket["MaxAge"].as_i64(),
        Some(i64::from(cors::BUCKET_MAX_AGE_SECONDS))
    );
}

/// The metric rows of the dashboard (`[namespace, name, dimension, value, ...]`).
fn dashboard_metrics(template: &Value) -> Vec<Vec<serde_json::Value>> {
    let body = &resource(template, "OperationsDashboard")["Properties"]["DashboardBody"];
    let Value::Tagged(sub) = body else {
        panic!("DashboardBody is a !Sub")
    };
    let text = sub.value[0].as_str().expect("the !Sub's template string");
    // The one number substituted in: JSON once CloudFormation has replaced it.
    let text = text.replace("${LatencyP99ThresholdMs}", "1000");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("a JSON dashboard");
    dashboard["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|widget| widget["properties"]["metrics"].as_array())
        .flatten()
        .map(|row| row.as_array().unwrap().clone())
        .collect()
}

#[test]
fn the_dashboard_and_alarms_use_the_metrics_the_code_emits() {
    use connect_attachments::domain::Operation;
    use connect_attachments::telemetry::{DIMENSIONS, METRIC_NAMES};
    let template = template();
    let ours = "${MetricsNamespace}";
    let rows: Vec<_> = dashboard_metrics(&template)
        .into_iter()
        .filter(|row| row[0] == ours)
        .collect();
    for row in &rows {
        let name = row[1].as_str().unwrap();
        assert!(METRIC_NAMES.contains(&name), "{name} is not emitted");
        for dimension in row[2..].iter().step_by(2).filter_map(|d| d.as_str()) {
            assert!(
                DIMENSIONS.contains(&dimension),
                "{dimension} is not a dimension"
            );
        }
    }
    for name in METRIC_NAMES {
        assert!(
            rows.iter().any(|row| row[1] == name),
            "{name} is on the dashboard"
        );
    }
    let resources = template["Resources"].as_mapping().unwrap();
    let alarms: Vec<(&str, &Value)> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(id, r)| (id.as_str().unwrap(), &r["Properties"]))
        .collect();
    for (id, alarm) in &alarms {
        assert_eq!(
            intrinsic(&alarm["AlarmActions"]),
            "!If:HasAlarmTopic,!Ref:AlarmTopicArn,!Ref:AWS::NoValue",
            "{id}"
        );
        if intrinsic(&alarm["Namespace"]) == "!Ref:MetricsNamespace" {
            let name = alarm["MetricName"].as_str().unwrap();
            assert!(METRIC_NAMES.contains(&name), "{id}: {name}");
            let dimensions = alarm["Dimensions"].as_sequence().unwrap();
            for dimension in dimensions {
                let dimension_name = dimension["Name"].as_str().unwrap();
                assert!(DIMENSIONS.contains(&dimension_name), "{id}");
                assert!(
                    Operation::ALL
                        .iter()
                        .any(|o| dimension["Value"] == o.name()),
                    "{id}: an operation the code names"
                );
            }
        }
    }
    let ids: BTreeSet<&str> = alarms.iter().map(|(id, _)| *id).collect();
    for expected in [
        "Api5xxAlarm",
        "FunctionErrorsAlarm",
        "FunctionThrottlesAlarm",
        "LatencyP99StartAlarm",
        "LatencyP99CompleteAlarm",
        "LatencyP99GetAlarm",
        "ConnectionsTableThrottlesAlarm",
        "AttachmentsTableThrottlesAlarm",
        "IdempotencyTableThrottlesAlarm",
        "S3ServerErrorsAlarm",
    ] {
        assert!(ids.contains(expected), "{expected}");
    }
    assert_eq!(
        resource(&template, FUNCTION)["Properties"]["Tracing"],
        "Active"
    );
}

#[test]
fn lambda_keeps_the_log_lines_of_the_level_the_log_level_parameter_names() {
    let template = template();
    let parameter = &template["Parameters"]["LogLevel"];
    let levels = &template["Mappings"]["LogLevels"];
    // Every level the parameter allows is one Lambda knows, and the function's filter takes.
    for level in parameter["AllowedValues"].as_sequence().unwrap() {
        let level = level.as_str().unwrap();
        assert_eq!(levels[level]["Application"], level.to_uppercase().as_str());
        assert!(["DEBUG", "INFO", "WARN"].contains(&levels[level]["System"].as_str().unwrap()));
        assert!(
            connect_attachments::config::Config::from_lookup(|name| match name {
                "RUST_LOG" => Some(level.to_owned()),
                "AWS_REGION" | "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("x".into()),
                _ => None,
            })
            .is_ok(),
            "{level}"
        );
    }
    assert_eq!(
        levels.as_mapping().unwrap().len(),
        parameter["AllowedValues"].as_sequence().unwrap().len()
    );
    for function in [FUNCTION, "ReaperFunction"] {
        let properties = &resource(&template, function)["Properties"];
        let logging = &properties["LoggingConfig"];
        assert_eq!(logging["LogFormat"], "JSON");
        assert_eq!(
            intrinsic(&logging["ApplicationLogLevel"]),
            "!FindInMap:LogLevels,!Ref:LogLevel,Application"
        );
        assert_eq!(
            intrinsic(&logging["SystemLogLevel"]),
            "!FindInMap:LogLevels,!Ref:LogLevel,System"
        );
        // Directives (`info,connect_attachments=debug`) through LogFilter, the level otherwise.
        assert_eq!(
            intrinsic(&properties["Environment"]["Variables"]["RUST_LOG"]),
            "!If:HasLogFilter,!Ref:LogFilter,!Ref:LogLevel"
        );
    }
    assert_eq!(
        intrinsic(&template["Conditions"]["HasLogFilter"]),
        "!Not:!Equals:!Ref:LogFilter,"
    );
}

#[test]
fn the_reaper_reads_only_ttl_deletions_of_pending_records_and_may_only_delete_objects() {
    use connect_attachments::store::schema::{Status, STATUS};
    let template = template();
    let reaper = resource(&template, "ReaperFunction");
    assert_eq!(reaper["Metadata"]["BuildProperties"]["Binary"], "reaper");
    // No SAM event: it would attach AWSLambdaDynamoDBExecutionRole (stream reads on *).
    assert!(reaper["Properties"].get("Events").is_none());
    assert!(reaper["Properties"].get("Policies").is_none());
    assert!(
        reaper["Properties"].get("Tracing").is_none(),
        "X-Ray writes need *"
    );
    assert_eq!(
        intrinsic(&reaper["Properties"]["Role"]),
        "!GetAtt:ReaperRole.Arn"
    );
    let mapping = resource(&template, "ReaperStreamMapping");
    assert_eq!(mapping["Type"], "AWS::Lambda::EventSourceMapping");
    let source = &mapping["Properties"];
    assert_eq!(intrinsic(&source["FunctionName"]), "!Ref:ReaperFunction");
    assert_eq!(
        intrinsic(&source["EventSourceArn"]),
        "!GetAtt:AttachmentsTable.StreamArn"
    );
    assert_eq!(
        source["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
    let pattern: serde_json::Value = serde_json::from_str(
        source["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["REMOVE"]));
    assert_eq!(
        pattern["userIdentity"],
        serde_json::json!({"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]})
    );
    assert_eq!(
        pattern["dynamodb"]["OldImage"][STATUS]["S"],
        serde_json::json!([Status::InProgress.as_str(), Status::Rejected.as_str()])
    );
    let role = &resource(&template, "ReaperRole")["Properties"];
    assert_eq!(role["ManagedPolicyArns"], Value::Null, "no managed policy");
    assert_eq!(role["Policies"].as_sequence().unwrap().len(), 1);
    let grants: BTreeSet<(String, String)> = role["Policies"][0]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|statement| {
            let resource = intrinsic(&statement["Resource"]);
            statement["Action"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(move |a| (a.as_str().unwrap().to_owned(), resource.clone()))
        })
        .collect();
    let objects = "!Sub:arn:${AWS::Partition}:s3:::${Bucket}/*,Bucket: !If\n- CreateAttachmentsBucket\n- !Ref AttachmentsBucket\n- !Ref ExistingBucketName";
    let stream = "!GetAtt:AttachmentsTable.StreamArn";
    let logs = "!GetAtt:ReaperLogGroup.Arn";
    let expected: BTreeSet<(String, String)> = [
        ("logs:CreateLogStream", logs),
        ("logs:PutLogEvents", logs),
        ("s3:DeleteObject", objects),
        ("dynamodb:DescribeStream", stream),
        ("dynamodb:GetRecords", stream),
        ("dynamodb:GetShardIterator", stream),
        ("dynamodb:ListStreams", stream),
    ]
    .into_iter()
    .map(|(a, r)| (a.to_owned(), r.to_owned()))
    .collect();
    assert_eq!(grants, expected);
    let variables = reaper["Properties"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap();
    let names: BTreeSet<&str> = variables.keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(
        names,
        connect_attachments::config::REAPER_VARIABLES
            .into_iter()
            .collect()
    );
}

#[test]
fn with_a_retention_the_bucket_expires_the_files_and_the_function_knows_for_how_long() {
    use connect_attachments::config::ATTACHMENT_RETENTION_DAYS;
    let template = template();
    let parameter = &template["Parameters"]["AttachmentRetentionDays"];
    assert_eq!(parameter["Default"], 0, "files are kept unless asked");
    let variables = &resource(&template, FUNCTION)["Properties"]["Environment"]["Variables"];
    assert_eq!(
        intrinsic(&variables[ATTACHMENT_RETENTION_DAYS]),
        "!Ref:AttachmentRetentionDays"
    );
    let rules = resource(&template, "AttachmentsBucket")["Properties"]["LifecycleConfiguration"]
        ["Rules"]
        .as_sequence()
        .unwrap();
    let retention = rules
        .iter()
        .find(|rule| rule["Id"] == "AttachmentRetention")
        .expect("the retention rule");
    assert_eq!(
        intrinsic(&retention["Status"]),
        "!If:HasRetention,Enabled,Disabled"
    );
    assert_eq!(
        intrinsic(&retention["ExpirationInDays"]),
        "!If:HasRetention,!Ref:AttachmentRetentionDays,1"
    );
    assert!(retention.get("Prefix").is_none() && retention.get("Filter").is_none());
}
