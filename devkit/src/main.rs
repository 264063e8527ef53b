//! `devkit`: the Rust behind `make run` and `make test`.
//!
//!   devkit setup             create the tables and the bucket (if missing) on the local services
//!   devkit seed              seed the demo afresh
//!   devkit events [DIR]      write the sample events (default `events/`)
//!   devkit walkthrough PORT  print the walk-through for a function served on PORT
//!   devkit function-env      print NAME=value for each setting of the function set here
//!   devkit serve ADDRESS DIR serve the files of DIR (the demo page) on ADDRESS until stopped
//!   devkit free-ports COUNT [OFFSET]  print COUNT free ports of 127.0.0.1, one a line (with
//!                            OFFSET, port + OFFSET is free too)

use devkit::{demo, events, local, walkthrough};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["setup"] => {
            local::create_tables_and_bucket(
                &local::dynamodb_client(),
                &local::s3_client(),
                &local::tables(),
                &local::bucket(),
            )
            .await
        }
        ["seed"] => demo::seed_local().await,
        ["events", rest @ ..] => {
            let dir = std::path::PathBuf::from(rest.first().copied().unwrap_or("events"));
            std::fs::create_dir_all(&dir)?;
            let all = events::all();
            for event in &all {
                std::fs::write(
                    dir.join(format!("{}.json", event.name)),
                    events::file_text(event),
                )?;
            }
            let reaper = dir.join("reaper");
            std::fs::create_dir_all(&reaper)?;
            for (name, event) in events::reaper_samples() {
                let text = format!("{}\n", serde_json::to_string_pretty(&event)?);
                std::fs::write(reaper.join(format!("{name}.json")), text)?;
            }
            println!("wrote {} events to {}", all.len(), dir.display());
            Ok(())
        }
        ["walkthrough", port] => {
            print!("{}", walkthrough::commands(port.parse()?));
            Ok(())
        }
        ["function-env"] => {
            // Every setting the function reads, and the SDK's, passed through as they are set.
            let sdk = [
                "AWS_REGION",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_ENDPOINT_URL",
                "AWS_ENDPOINT_URL_DYNAMODB",
                "AWS_ENDPOINT_URL_S3",
            ];
            for name in connect_attachments::config::FUNCTION_VARIABLES
                .iter()
                .chain(&sdk)
            {
                if let Ok(value) = std::env::var(name) {
                    println!("{name}={value}");
                }
            }
            Ok(())
        }
        ["serve", address, dir] => {
            devkit::server::serve_dir_at(address, *dir).await?;
            std::future::pending::<()>().await;
            Ok(())
        }
        ["free-ports", count, rest @ ..] => {
            let offset = rest.first().map_or(Ok(0), |o| o.parse())?;
            for port in devkit::server::free_ports(count.parse()?, offset)? {
                println!("{port}");
            }
            Ok(())
        }
        _ => Err(
            "usage: devkit setup | seed | events [DIR] | walkthrough PORT | function-env \
                  | serve ADDRESS DIR | free-ports COUNT [OFFSET]"
                .into(),
        ),
    }
}
