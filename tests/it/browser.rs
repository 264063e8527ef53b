//! A real browser uploads: the demo page in headless Chromium (Debian's packages, driven by
//! selenium) against the function, DynamoDB Local and the local S3 server, with CORS on both the
//! API and the bucket as deployed. The browser must start: without it the test fails.

use std::sync::Arc;

use connect_attachments::cors::Origins;
use connect_attachments::http::Handler;
use connect_attachments::objects::S3Objects;
use connect_attachments::service::Service;
use connect_attachments::store::DynamoDbStore;
use devkit::fixtures::*;
use devkit::{demo, local};
use serde_json::Value;

/// Where the test leaves the page's screenshots for a reviewer (ignored by git).
const SCREENSHOTS: &str = "target/browser";

fn browser_python() -> String {
    let path = format!("{}/venv-browser/bin/python", cache_dir());
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} is missing: run `make test`, which installs chromium, chromium-driver and selenium"
    );
    path
}

fn cache_dir() -> String {
    std::env::var("BROWSER_VENV_DIR").unwrap_or_else(|_| ".cache".into())
}

/// The function and the demo page on free ports, CORS allowing the page's origin on the API and
/// on the bucket: the page's URL.
async fn page() -> String {
    let site = devkit::server::serve_dir("demo").await;
    let origin = format!("http://{site}");
    let origins = Origins::parse(&origin).unwrap();
    local::put_bucket_cors(&local::s3_client(), &local::bucket(), origins.as_slice())
        .await
        .expect("the bucket's CORS");
    let handler = Handler::new(Service::new(
        DynamoDbStore::new(local::dynamodb_client(), local::tables()),
        S3Objects::new(local::s3_client(), local::bucket()),
        settings(),
    ))
    .with_cors(origins);
    let api = devkit::server::serve(Arc::new(handler)).await;
    format!("{origin}/?api=http://{api}&token={}", demo::TOKEN)
}

/// Picks `file` on the page, presses Upload, and returns what the page shows.
async fn upload_in_the_browser(page: &str, file: &std::path::Path, name: &str) -> Value {
    std::fs::create_dir_all(SCREENSHOTS).unwrap();
    let output = tokio::process::Command::new(browser_python())
        .arg("tests/it/browser_client.py")
        .arg(page)
        .arg(file)
        .arg(format!("{SCREENSHOTS}/{name}.png"))
        .output()
        .await
        .expect("run the browser driver");
    assert!(
        output.status.success(),
        "the browser did not run:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_uploads_a_file_in_the_browser_and_downloads_it_back() {
    demo::seed_local().await.expect("seed the demo");
    let page = page().await;
    let dir = std::env::temp_dir().join(unique("browser"));
    std::fs::create_dir_all(&dir).unwrap();

    // A few hundred KB of bytes that are not text: uploaded exactly, whatever they hold.
    let bytes: Vec<u8> = (0..300 * 1024).map(|_| fastrand::u8(..)).collect();
    let picture = dir.join("photo.png");
    std::fs::write(&picture, &bytes).unwrap();
    let shown = upload_in_the_browser(&page, &picture, "uploaded").await;
    let id = shown["attachment_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no download link on the page: {shown}"));
    assert_eq!(attachment_status(id).await, "APPROVED", "{shown}");
    let download = http("GET", shown["href"].as_str().unwrap(), &[], b"").await;
    assert_eq!(download.status, 200);
    assert!(
        download.body == bytes,
        "the downloaded bytes are the uploaded ones"
    );

    let page_file = dir.join("page.html");
    std::fs::write(&page_file, "<p>not accepted in a chat</p>").unwrap();
    let refused = upload_in_the_browser(&page, &page_file, "refused").await;
    let error = refused["error"].as_str().unwrap();
    assert!(refused["attachment_id"].is_null(), "{refused}");
    assert!(
        error.contains("ValidationException") && error.contains("cannot be sent"),
        "the page names the error in words: {error}"
    );
}
