//! The function served over HTTP and called with boto3 (Python), as the README shows: each answer
//! must arrive as boto3's modeled exception, and the whole lifecycle must work through it.

use devkit::fixtures::*;
use devkit::local;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_parses_every_answer_as_its_modeled_exception() {
    let python = api_tool("python");
    let handler = handler_with(local::dynamodb_client(), with_quota(3));
    let address = devkit::server::serve_handler(handler).await;
    let alice = Participant::connected(&unique("contact")).await;
    let attachments = [
        alice.attachment().await,
        alice.attachment().await,
        alice.attachment().await,
    ];

    let output = tokio::process::Command::new(python)
        .arg("tests/it/clients/boto3_client.py")
        .arg(format!("http://{address}"))
        .arg(&alice.token)
        .args(&attachments)
        .output()
        .await
        .expect("run python");

    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
