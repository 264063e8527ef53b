//! Writes the figures of the latest `make bench` into BENCHMARKS.md, between its result markers;
//! the prose around them stays as it is. Reads `target/bench/lambda.json` (benches/lambda.rs),
//! criterion's estimates (benches/cpu.rs), the arm64 `bootstrap` (scripts/build.sh) and
//! `target/bench/coldstart.json` (benches/coldstart.rs).

use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const START: &str = "<!-- results:start -->";
const END: &str = "<!-- results:end -->";

fn json(path: &str) -> Result<Value, BoxError> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(serde_json::from_str(&text)?)
}

fn f(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

/// Criterion's median of `cpu/<name>`, µs.
fn criterion_median_us(name: &str) -> Result<f64, BoxError> {
    let estimates = json(&format!("target/criterion/cpu/{name}/new/estimates.json"))?;
    Ok(f(&estimates["median"]["point_estimate"]) / 1000.0)
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        None => "(information)",
        Some(true) => "met",
        Some(false) => "**missed**",
    }
}

/// The DynamoDB + S3 calls each kind of request is expected to make, in the order
/// benches/lambda.rs sends them.
const EXPECTED_CALLS: [(&str, u64, u64); 8] = [
    ("complete, cold", 2, 1),
    ("complete, warm", 1, 1),
    ("complete, replay", 1, 1),
    ("start, warm", 1, 0),
    ("start, replay", 1, 0),
    ("get", 1, 0),
    ("unknown token", 1, 0),
    ("validation error", 0, 0),
];

fn table() -> Result<Vec<String>, BoxError> {
    let lambda = json("target/bench/lambda.json")?;
    let (start, complete, get) = (
        criterion_median_us("start")?,
        criterion_median_us("complete")?,
        criterion_median_us("get")?,
    );
    let replay = criterion_median_us("complete_replay")?;
    let parse = criterion_median_us("parse_and_validate_complete")?;
    let metered = criterion_median_us("complete_with_metrics")?;
    let size = std::fs::metadata("target/lambda/connect-attachments/bootstrap")
        .map_err(|e| format!("target/lambda/connect-attachments/bootstrap: {e}"))?
        .len();
    let (overhead, cold) = (&lambda["handler_overhead"], &lambda["cold_start"]);
    let rss = f(&lambda["peak_rss"]["peak_rss_mib"]);

    let pairs = |calls: &[(String, u64, u64)]| {
        calls
            .iter()
            .map(|(kind, d, s)| format!("{kind} {d} + {s}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let expected: Vec<(String, u64, u64)> = EXPECTED_CALLS
        .iter()
        .map(|(k, d, s)| ((*k).to_owned(), *d, *s))
        .collect();
    let measured: Vec<(String, u64, u64)> = cold["calls"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(kind, c)| {
            (
                kind.clone(),
                c["dynamodb"].as_u64().unwrap_or(u64::MAX),
                c["s3"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    // The file's order need not be the sending order: compare as sets.
    let (mut sorted_expected, mut sorted_measured) = (expected.clone(), measured.clone());
    sorted_expected.sort();
    sorted_measured.sort();
    let calls_met = sorted_measured == sorted_expected;
    let measured_in_order: Vec<(String, u64, u64)> = expected
        .iter()
        .filter_map(|(kind, _, _)| measured.iter().find(|(k, _, _)| k == kind).cloned())
        .collect();

    let ratio = f(&overhead["ratio"]);
    let cold_median = f(&cold["exec_to_first_response_median_ms"]);
    let invocations = lambda["peak_rss"]["invocations"].as_u64().unwrap_or(0);
    let rows: Vec<(String, String, String, Option<bool>)> = vec![
        (
            "DynamoDB + S3 calls per request, counted by the release binary (also asserted by `tests/it/counts.rs` in `make test`)".into(),
            pairs(&expected),
            pairs(&measured_in_order),
            Some(calls_met),
        ),
        (
            "Handler overhead: median CompleteAttachmentUpload through the handler ÷ median of its bare calls (a ranged `GetObject` of the file's first 8 KiB + `TransactWriteItems` of the same items, same clients, local services)".into(),
            "≤ 1.10".into(),
            format!(
                "{ratio:.3} ({:.3} ms ÷ {:.3} ms, {} samples each)",
                f(&overhead["handler_median_ms"]),
                f(&overhead["bare_calls_median_ms"]),
                overhead["samples"]
            ),
            Some(ratio <= 1.10),
        ),
        (
            "CPU path without I/O, real handler, pre-signing included: event in → route, parse, validate, hash, cached connection, build the transaction, classify, sign the URL, log line → response (criterion median)".into(),
            "report".into(),
            format!("start {start:.1} µs, complete {complete:.1} µs, complete replay {replay:.1} µs, get {get:.1} µs (parse + validate + hash of a completion: {parse:.2} µs)"),
            None,
        ),
        (
            "Metrics: the per-request cost of the CloudWatch EMF record (a completion's CPU path with the record written, minus without)".into(),
            "< 5 µs".into(),
            format!("{:.2} µs ({metered:.1} µs with, {complete:.1} µs without)", metered - complete),
            Some(metered - complete < 5.0),
        ),
        (
            "Cold start: exec of the release binary → first completed invocation, both clients built and warmed in init (stub Runtime API, local services; median)".into(),
            "≤ 15 ms".into(),
            format!(
                "{cold_median:.2} ms (median of {}; best {:.2} ms)",
                cold["runs"],
                f(&cold["exec_to_first_response_min_ms"])
            ),
            Some(cold_median <= 15.0),
        ),
        (
            "Release `bootstrap` for arm64, stripped (`cargo lambda build --release --arm64`)".into(),
            "≤ 8 MB".into(),
            format!("{:.2} MB ({size} bytes)", size as f64 / 1e6),
            Some(size <= 8_000_000),
        ),
        (
            format!("Peak RSS after {invocations} invocations (starts and gets; release binary, VmHWM)"),
            "≤ 20 MiB".into(),
            format!("{rss:.1} MiB"),
            Some(rss <= 20.0),
        ),
    ];

    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut lines = vec![
        format!(
            "Measured by `make bench` on {} cores ({cpu_model}), {rustc}.",
            lambda["cores"]
        ),
        String::new(),
        "| target | aim | measured | |".into(),
        "|---|---|---|---|".into(),
    ];
    for (target, aim, measured, met) in rows {
        lines.push(format!(
            "| {target} | {aim} | {measured} | {} |",
            verdict(met)
        ));
    }
    if std::path::Path::new("target/bench/coldstart.json").exists() {
        lines.extend(coldstart_table(&json("target/bench/coldstart.json")?));
    }
    Ok(lines)
}

/// The cold starts at Lambda's CPU share, against the baseline, and the profile.
fn coldstart_table(cs: &Value) -> Vec<String> {
    let results = &cs["results"];
    let med =
        |name: &str, mode: &str, figure: &str| f(&results[name][mode]["median"][figure]["median"]);
    let share = f(&cs["settings"]["quota_us"]) / f(&cs["settings"]["period_us"]);
    let roots = &cs["settings"]["tls"]["roots_in_SSL_CERT_FILE"];
    let mut lines = vec![
        String::new(),
        format!(
            "Cold starts (`benches/coldstart.rs`, {}): the release binaries exec'd against devkit's stub \
             Runtime API, in a CPU cgroup capped at {:.1}% of one CPU (Lambda at 128 MB) and uncapped; \
             DynamoDB Local and the S3 server behind devkit's TLS terminator ({roots} roots in \
             `SSL_CERT_FILE`). CPU = all threads' schedstat; medians, ms.",
            cs["generated_at"].as_str().unwrap_or_default(),
            share * 100.0
        ),
        String::new(),
        "| binary, mode | init wall | init CPU | 1st invocation wall | 1st CPU | init + 1st CPU | warm wall | warm CPU |".into(),
        "|---|---|---|---|---|---|---|---|".into(),
    ];
    // The function first, then any builds tried beside it, the baseline and the floor.
    let rank = |name: &str| match name {
        "function" => 0,
        "baseline" => 2,
        "hello" => 3,
        _ => 1,
    };
    let mut names: Vec<&String> = results
        .as_object()
        .into_iter()
        .flatten()
        .map(|(n, _)| n)
        .collect();
    names.sort_by_key(|name| rank(name));
    for name in names {
        for mode in ["capped", "uncapped"] {
            if results[name][mode].is_null() {
                continue;
            }
            lines.push(format!(
                "| {name}, {mode} | {:.1} | {:.2} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} |",
                med(name, mode, "init_wall_ms"),
                med(name, mode, "init_cpu_ms"),
                med(name, mode, "first_wall_ms"),
                med(name, mode, "first_cpu_ms"),
                med(name, mode, "cold_cpu_ms"),
                med(name, mode, "warm_wall_ms"),
                med(name, mode, "warm_cpu_ms"),
            ));
        }
    }
    let ratio = f(&cs["ratios"]["cpu_init_plus_first_function_over_baseline_all_runs"]);
    let first_warm = f(&cs["ratios"]["first_over_warm_wall_function_capped"]);
    lines.extend([
        String::new(),
        "| target | aim | measured | |".into(),
        "|---|---|---|---|".into(),
        format!(
            "| CPU time of init + first invocation, TLS included, function ÷ baseline (all runs) | ≤ 0.5 | {ratio:.3} | {} |",
            verdict(Some(ratio <= 0.5))
        ),
        format!(
            "| First invocation ÷ warm invocation, wall, capped at 7.2% | ≤ 1.5 | {first_warm:.2} | {} |",
            verdict(Some(first_warm <= 1.5))
        ),
    ]);
    for (name, profile) in cs["perf"].as_object().into_iter().flatten() {
        lines.extend([
            String::new(),
            format!(
                "Profile of the {name}'s init + first invocation (`perf record`, cpu-clock at 20 kHz, {} uncapped cold starts of `{}`): {:.1} ms of CPU per run under perf (its sampling inflates it). Shares by what the code is for (symbol-name heuristics):",
                profile["runs"],
                profile["binary"].as_str().unwrap_or_default(),
                f(&profile["cpu_ms_per_run"])
            ),
            String::new(),
            "| share | where |".into(),
            "|---:|---|".into(),
        ]);
        for row in profile["by_category"].as_array().into_iter().flatten() {
            let share = f(&row["share"]) * 100.0;
            if share >= 0.1 {
                lines.push(format!(
                    "| {share:.1}% | {} |",
                    row["what"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    lines
}

fn write() -> Result<(), BoxError> {
    let lines = table()?;
    let block = format!("{START}\n{}\n{END}", lines.join("\n"));
    let text = std::fs::read_to_string("BENCHMARKS.md")
        .unwrap_or_else(|_| format!("# Benchmarks\n\n{START}\n{END}\n"));
    let (Some(from), Some(to)) = (text.find(START), text.find(END)) else {
        return Err(format!("BENCHMARKS.md has no {START} … {END} markers").into());
    };
    let text = format!("{}{block}{}", &text[..from], &text[to + END.len()..]);
    std::fs::write("BENCHMARKS.md", text)?;
    println!("{}", lines.join("\n"));
    Ok(())
}

fn main() {
    // `cargo test --benches` runs this as a test: it writes only under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("benches/report.rs writes BENCHMARKS.md only under `make bench`");
        return;
    }
    if let Err(error) = write() {
        eprintln!("report: {error}");
        std::process::exit(1);
    }
}
