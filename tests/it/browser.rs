//! Real browsers upload and download as they would from a deployed stack: headless Chromium
//! (Debian's packages, driven by selenium) runs the demo page and Amazon's own chat library,
//! amazon-connect-chatjs, against the function's release path (its binary under a Lambda
//! runtime that sets a trace id on every invocation, behind an HTTP API that adds no CORS of its
//! own), DynamoDB Local and the local S3 server with the bucket's CORS as deployed. The browser
//! must start: without it the test fails.

use std::path::Path;

use connect_attachments::config::Origins;
use connect_attachments::config::ALLOWED_ORIGINS;
use devkit::fixtures::*;
use devkit::runtime_api::{serve_http_api, FunctionProcess};
use devkit::{demo, local};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_connect-attachments");
/// Where the test leaves the pages' screenshots for a reviewer (ignored by git).
const SCREENSHOTS: &str = "target/browser";

fn browser_python() -> String {
    let path = format!("{}/venv-browser/bin/python", cache_dir());
    assert!(
        Path::new(&path).exists(),
        "{path} is missing: run `make test`, which installs chromium, chromium-driver and selenium"
    );
    path
}

fn cache_dir() -> String {
    std::env::var("BROWSER_VENV_DIR").unwrap_or_else(|_| ".cache".into())
}

/// The origins of every page the tests serve: the bucket is shared, so its CORS rule allows
/// them all (the API of each test allows its own only).
static BUCKET_ORIGINS: tokio::sync::Mutex<Vec<String>> = tokio::sync::Mutex::const_new(Vec::new());

/// The function as Lambda runs it, behind an HTTP API, allowing `origin` (on the API and on the
/// bucket): the API's URL, and the process, which stops when dropped.
async fn deployed_function(origin: &str) -> (String, FunctionProcess) {
    let mut origins = BUCKET_ORIGINS.lock().await;
    origins.extend(Origins::parse(origin).unwrap().as_slice().iter().cloned());
    local::put_bucket_cors(&local::s3_client(), &local::bucket(), &origins)
        .await
        .expect("the bucket's CORS");
    drop(origins);
    let function = FunctionProcess::start(BINARY, &[(ALLOWED_ORIGINS, origin)], vec![]).await;
    let api = serve_http_api(function.invoker()).await;
    (format!("http://{api}"), function)
}

/// What a page did with `file`, as `tests/it/clients/browser_client.py` reports it.
async fn in_the_browser(client: &str, page: &str, file: &Path, screenshot: &str) -> Value {
    std::fs::create_dir_all(SCREENSHOTS).unwrap();
    let output = tokio::process::Command::new(browser_python())
        .arg("tests/it/clients/browser_client.py")
        .arg(client)
        .arg(page)
        .arg(file)
        .arg(format!("{SCREENSHOTS}/{screenshot}.png"))
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

/// A few hundred KB of bytes that are not text, in a file named `name` (`.png`): a genuine PNG's
/// start (the completion checks it), then random bytes, uploaded exactly.
fn binary_file(name: &str) -> (std::path::PathBuf, Vec<u8>) {
    let dir = std::env::temp_dir().join(unique("browser"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = devkit::samples::png();
    bytes.extend((0..300 * 1024).map(|_| fastrand::u8(..)));
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

fn downloaded(shown: &Value) -> Vec<u8> {
    use base64::Engine as _;
    let text = shown["downloaded"]
        .as_str()
        .unwrap_or_else(|| panic!("the page did not download the file: {shown}"));
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_uploads_a_file_on_the_demo_page_and_downloads_it_back() {
    demo::seed_local().await.expect("seed the demo");
    let site = devkit::server::serve_dir("demo").await;
    let origin = format!("http://{site}");
    let (api, _function) = deployed_function(&origin).await;
    let page = format!("{origin}/?api={api}&token={}", demo::TOKEN);
    let (picture, bytes) = binary_file("photo.png");

    let shown = in_the_browser("demo", &page, &picture, "demo-uploaded").await;

    let id = shown["attachment_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no download link on the page: {shown}"));
    assert_eq!(attachment_status(id).await, "APPROVED", "{shown}");
    assert!(
        downloaded(&shown) == bytes,
        "the bytes the page downloaded are the uploaded ones"
    );

    let dir = picture.parent().unwrap();
    let page_file = dir.join("page.html");
    std::fs::write(&page_file, "<p>not accepted in a chat</p>").unwrap();
    let refused = in_the_browser("demo", &page, &page_file, "demo-refused").await;
    let error = refused["error"].as_str().unwrap();
    assert!(refused["attachment_id"].is_null(), "{refused}");
    assert!(
        error.contains("ValidationException") && error.contains("cannot be sent"),
        "the page names the error in words: {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_on_an_origin_that_is_not_allowed_cannot_call_the_api() {
    demo::seed_local().await.expect("seed the demo");
    let allowed = devkit::server::serve_dir("demo").await;
    let (api, _function) = deployed_function(&format!("http://{allowed}")).await;
    let other = devkit::server::serve_dir("demo").await;
    let page = format!("http://{other}/?api={api}&token={}", demo::TOKEN);
    let (file, _) = binary_file("photo.png");

    let shown = in_the_browser("demo", &page, &file, "demo-other-origin").await;

    let error = shown["error"].as_str().unwrap();
    assert!(shown["attachment_id"].is_null(), "{shown}");
    assert!(
        error.contains("NetworkError"),
        "the browser refused the answer: {error}"
    );
}

/// The chatjs page of tests/it/clients/chatjs with the library's bundle beside it, served on a
/// free port: its origin.
async fn chatjs_site() -> String {
    let bundle = format!("{}/chatjs/package/dist/amazon-connect-chat.js", cache_dir());
    assert!(
        Path::new(&bundle).exists(),
        "{bundle} is missing: run `make test`, which installs amazon-connect-chatjs"
    );
    let dir = std::env::temp_dir().join(unique("chatjs"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&bundle, dir.join("amazon-connect-chat.js")).unwrap();
    for page in ["index.html", "chat.js"] {
        std::fs::copy(format!("tests/it/clients/chatjs/{page}"), dir.join(page)).unwrap();
    }
    format!("http://{}", devkit::server::serve_dir(dir).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amazon_connect_chatjs_sends_and_downloads_an_attachment_with_its_own_code() {
    let alice = Participant::connected(&unique("contact")).await;
    let origin = chatjs_site().await;
    let (api, _function) = deployed_function(&origin).await;
    let page = format!("{origin}/?api={api}&token={}", alice.token);
    let (picture, bytes) = binary_file("photo.png");

    let shown = in_the_browser("chatjs", &page, &picture, "chatjs-sent").await;

    let id = shown["attachment_id"]
        .as_str()
        .unwrap_or_else(|| panic!("chatjs did not start an upload: {shown}"));
    assert!(shown["error"].is_null(), "{shown}");
    assert_eq!(attachment_status(id).await, "APPROVED", "{shown}");
    assert!(
        downloaded(&shown) == bytes,
        "chatjs downloaded the bytes it sent"
    );

    let text = picture.with_file_name("page.html");
    std::fs::write(&text, "<p>not accepted in a chat</p>").unwrap();
    let refused = in_the_browser("chatjs", &page, &text, "chatjs-refused").await;
    let error = refused["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("ValidationException") && refused["attachment_id"].is_null(),
        "chatjs names the service's error: {refused}"
    );
}
