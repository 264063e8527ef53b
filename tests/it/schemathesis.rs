//! A property-based API test: schemathesis (from PyPI, installed by `make test`) generates
//! requests from openapi.yaml, valid and invalid, and checks every answer against it.

use devkit::fixtures::*;

async fn run(url: &str, extra: &[&str]) {
    let output = tokio::process::Command::new(api_tool("st"))
        .args(["run", "openapi.yaml", "--url", url])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance,negative_data_rejection,\
             missing_required_header,unsupported_method",
            "--max-examples",
            "500",
            "--seed",
            "20261128",
            "--workers",
            "2",
            // Its coverage phase fails inside schemathesis 4.32.5 itself on the start operation's
            // body (a Hypothesis FlakyFailure while building a strategy, before any request).
            "--phases",
            "examples,fuzzing,stateful",
        ])
        .args(extra)
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .output()
        .await
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_function_conforms_to_openapi_yaml() {
    // No quota to run out of: generated requests must answer the same whenever they run.
    let handler = handler_with(devkit::local::dynamodb_client(), with_quota(u32::MAX));
    let address = devkit::server::serve_handler(handler).await;
    let url = format!("http://{address}");
    let alice = Participant::connected(&unique("contact")).await;
    for _ in 0..4 {
        alice.attachment().await;
    }

    // Generated headers: mostly unknown tokens and invalid values.
    run(&url, &[]).await;
    // A live connection's token, so that generated bodies reach the transaction.
    run(
        &url,
        &["--header", &format!("X-Amz-Bearer: {}", alice.token)],
    )
    .await;
}
