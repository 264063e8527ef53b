//! The function served over HTTP and called with boto3 (Python), as the README shows: each answer
//! must arrive as boto3's modeled exception.

mod common;

use common::*;
use complete_attachment_upload::service::Settings;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_parses_every_answer_as_its_modeled_exception() {
    let python = api_tool("python");
    let handler = handler_with(
        client(),
        Settings {
            max_attachments_per_contact: 2,
            ..settings()
        },
    );
    let address = server::serve(handler).await;
    let alice = Participant::connected(&unique("contact")).await;
    let attachments = [
        alice.attachment().await,
        alice.attachment().await,
        alice.attachment().await,
    ];

    let output = tokio::process::Command::new(python)
        .arg("tests/boto3_client.py")
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
