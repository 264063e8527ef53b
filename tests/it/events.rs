//! Every sample event in `events/` (the files `cargo lambda invoke` and `sam local invoke` use) is
//! what `devkit events` writes, loads with `lambda_http::request::from_str`, and answers as
//! expected against a freshly seeded demo, in order.

use devkit::{demo, events};

use devkit::fixtures::*;

#[test]
fn the_files_in_events_are_exactly_what_devkit_writes() {
    let mut files: Vec<String> = std::fs::read_dir("events")
        .expect("events/")
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let all = events::all();
    let mut expected: Vec<String> = all.iter().map(|e| format!("{}.json", e.name)).collect();
    expected.sort();
    assert_eq!(files, expected, "run `cargo run -p devkit -- events`");
    for event in &all {
        let file = std::fs::read_to_string(format!("events/{}.json", event.name)).unwrap();
        assert_eq!(
            file,
            events::file_text(event),
            "events/{}.json is stale: run `cargo run -p devkit -- events`",
            event.name
        );
    }
}

#[test]
fn the_reapers_sample_events_are_what_devkit_writes() {
    for (name, event) in events::reaper_samples() {
        let file = std::fs::read_to_string(format!("events/reaper/{name}.json")).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&file).unwrap();
        assert_eq!(parsed, event, "events/reaper/{name}.json is stale");
    }
}

#[tokio::test]
async fn every_event_answers_as_expected_on_a_fresh_demo() {
    demo::seed_local().await.expect("seed the demo");
    let handler = handler();
    for event in events::all() {
        let request = lambda_http::request::from_str(&event.event.to_string())
            .expect("a valid API Gateway event");
        let response = handler.handle(request).await;
        let (status, error_type, body) = parts(&response);
        assert_eq!(
            (status, error_type.as_deref()),
            (event.status, event.error_type),
            "events/{}.json: {body}",
            event.name
        );
        assert_eq!(
            response.headers()["x-amzn-requestid"],
            format!("evt-{}", event.name).as_str(),
            "the API Gateway request id is echoed"
        );
    }
    for id in demo::UPLOADED {
        assert_eq!(attachment_status(id).await, "APPROVED");
    }
}

#[test]
fn rest_api_events_carry_the_stage_in_the_uri_and_still_route() {
    let json = std::fs::read_to_string("events/rest-api-success.json").unwrap();
    let request = lambda_http::request::from_str(&json).unwrap();
    assert!(
        request.uri().path().starts_with("/prod/"),
        "{}",
        request.uri()
    );
}

#[test]
fn the_readme_shows_the_very_walk_through_make_run_prints() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let commands = devkit::walkthrough::commands(9000);
    assert!(
        readme.contains(&commands),
        "README.md's walk-through differs from `cargo run -p devkit -- walkthrough 9000`:\n{commands}"
    );
}
