//! The binary refuses to start on a bad setting, and says which.

use std::process::Command;

fn start(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_connect-attachments"))
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "id")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .envs(vars.iter().copied())
        .output()
        .expect("run the binary");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn an_invalid_setting_stops_start_up_naming_it() {
    for (name, value) in [
        ("MAX_ATTACHMENTS_PER_CONTACT", "0"),
        ("IDEMPOTENCY_TTL_SECONDS", "one day"),
        ("CONNECTIONS_TABLE", "x"),
        ("DYNAMODB_TIMEOUT_MS", "-5"),
        ("ATTACHMENTS_BUCKET", "Not A Bucket"),
        ("ALLOWED_CONTENT_TYPES", "text/plain,,"),
    ] {
        let (code, stderr) = start(&[(name, value)]);
        assert_eq!(code, Some(2), "{name}={value}: {stderr}");
        assert!(stderr.contains(name), "{name}={value}: {stderr}");
    }
}

#[test]
fn a_missing_region_stops_start_up_naming_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_connect-attachments"))
        .env_clear()
        .output()
        .expect("run the binary");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("AWS_REGION"));
}

#[test]
fn a_connections_table_that_does_not_exist_stops_start_up_naming_it() {
    let endpoint = devkit::local::dynamodb_endpoint();
    let (code, stderr) = start(&[
        ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint),
        ("CONNECTIONS_TABLE", "no-such-table"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("CONNECTIONS_TABLE") && stderr.contains("no-such-table"),
        "{stderr}"
    );
}
