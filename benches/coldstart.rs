//! Cold starts at Lambda's CPU share, TLS included, against a baseline built in the same run.
//!
//! Each run execs a release binary on devkit's stub Runtime API (`FunctionProcess`), hands its
//! first `/next` a CompleteAttachmentUpload (the cold invocation) and its second one another
//! (the warm one), and reads the process's CPU time (every thread's schedstat) as each of its
//! calls arrives: init = exec → first `/next`, first = cold event handed out → its `/response`,
//! warm = the same for the second event. The binaries (the function, the baseline of
//! `devkit/examples/coldstart-baseline.rs`, a lambda_http hello world, and any `COLDSTART_EXTRA`)
//! are interleaved, uncapped and then inside a cgroup v1 CPU group capped at 7.2% of one CPU
//! (Lambda at 128 MB), removed afterwards, pass or fail. DynamoDB Local and the S3 server sit
//! behind devkit's TLS terminator with a test CA, which the function trusts through
//! `SSL_CERT_FILE` (the system bundle plus the test CA). Then `perf record` profiles init + first
//! invocation of the function and of the baseline.
//!
//! Runs under `scripts/with-services.sh` (`make bench`); writes `target/bench/coldstart.json`,
//! `target/bench/perf-coldstart*.txt` and each run's output in `target/bench/coldstart-logs/`.
//! Settings (environment), defaults in brackets: `COLDSTART_CAPPED` [10] and
//! `COLDSTART_UNCAPPED` [20] runs per binary; `COLDSTART_FUNCTION`
//! [target/bench/bin/connect-attachments], `COLDSTART_BASELINE` and `COLDSTART_HELLO`
//! [target/baseline/release/examples/coldstart-{baseline,hello}]; `COLDSTART_EXTRA` ["": more
//! builds, `name=path ...`]; `COLDSTART_PERF` [1; 0: no profile]; `COLDSTART_PERF_RUNS` [20];
//! `COLDSTART_PERF_FUNCTION` [target/perf/release/connect-attachments if built, a copy with
//! symbols; else the function]; `COLDSTART_SYSTEM_ROOTS` [1; 0: the test CA alone in
//! `SSL_CERT_FILE`]; `COLDSTART_HOST` [localhost: the name the function connects to].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use devkit::cgroup::CpuCgroup;
use devkit::local;
use devkit::runtime_api::{Call, FunctionProcess, Launch};
use devkit::tls::{endpoint_address, Terminator, TestCa};
use serde_json::{json, Value};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// One run's figures, by name (ms, counts).
type Figures = BTreeMap<String, f64>;

const OUT: &str = "target/bench";
/// Lambda's CPU share at 128 MB: 7.2% of one CPU.
const QUOTA: Duration = Duration::from_micros(7_200);
const PERIOD: Duration = Duration::from_micros(100_000);
const TIMEOUT: Duration = Duration::from_secs(60);
const SYSTEM_BUNDLES: [&str; 2] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];
/// Threads that are not the cold-started process's in a profile.
const NOT_OURS: [&str; 4] = ["perf", "perf-exec", "sh", "dash"];

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn count(name: &str, default: usize) -> Result<usize, BoxError> {
    Ok(setting(name, &default.to_string()).parse()?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The two events: `events/success.json` (CompleteAttachmentUpload of `demo-attachment`) cold,
/// the same for `demo-attachment-rest` with another ClientToken warm; re-seeding before each run
/// makes both real completions.
fn events() -> Result<Vec<String>, BoxError> {
    let cold: Value = serde_json::from_str(&std::fs::read_to_string("events/success.json")?)?;
    let mut warm = cold.clone();
    let mut body: Value = serde_json::from_str(warm["body"].as_str().unwrap_or("{}"))?;
    body["AttachmentIds"] = json!(["demo-attachment-rest"]);
    body["ClientToken"] = json!("demo-2");
    warm["body"] = body.to_string().into();
    warm["requestContext"]["requestId"] = json!("evt-success-warm");
    Ok(vec![cold.to_string(), warm.to_string()])
}

/// The Lambda-like environment on top of what `FunctionProcess` sets (credentials, region,
/// bucket): memory size 128, the endpoints behind TLS, the trust store.
struct Environment {
    vars: Vec<(String, String)>,
}

impl Environment {
    fn pairs(&self) -> Vec<(&str, &str)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn with(&self, name: &str, value: &str) -> Self {
        let mut vars: Vec<_> = self
            .vars
            .iter()
            .filter(|(k, _)| k != name)
            .cloned()
            .collect();
        vars.push((name.to_owned(), value.to_owned()));
        Self { vars }
    }
}

/// Everything a run needs and leaves.
struct Bench {
    env: Environment,
    events: Vec<String>,
    dynamodb_tls: Terminator,
    s3_tls: Terminator,
    logs: PathBuf,
}

/// One process's life under the stub: its calls, its output, its peak memory.
struct Life {
    started: Instant,
    calls: Vec<Call>,
    answers: Vec<devkit::runtime_api::Answer>,
    peak_rss_kib: Option<u64>,
}

impl Bench {
    /// Seeds the demo afresh, execs `binary`, feeds it `events`, waits for an answer to each
    /// (or `timeout`), stops it and keeps its output.
    async fn live(
        &self,
        binary: &str,
        env: &Environment,
        cgroup: Option<&CpuCgroup>,
        log: &str,
        timeout: Duration,
    ) -> Result<Life, BoxError> {
        devkit::demo::seed_local().await?;
        if cgroup.is_some() {
            // A cold start begins with the whole quota of a period, as a new Lambda sandbox does:
            // the previous run may have spent this period's quota (a function's whole life is
            // about one quota), and a process started then would wait for the next period. A full
            // period with nothing running in the group refills it (CFS keeps no burst).
            tokio::time::sleep(PERIOD).await;
        }
        let pairs = env.pairs();
        let mut process = FunctionProcess::launch(Launch {
            env: &pairs,
            cgroup,
            measure: true,
            ..Launch::new(binary, self.events.clone())
        })
        .await
        .map_err(|e| format!("start {binary}: {e}"))?;
        let mut answers = Vec::new();
        for _ in 0..self.events.len() {
            match process.next_answer(timeout).await {
                Some(answer) => answers.push(answer),
                None => break,
            }
        }
        let (started, calls) = (process.started(), process.calls());
        let peak_rss_kib = process.pid().and_then(devkit::usage::peak_rss_kib);
        std::fs::write(self.logs.join(log), process.stop().await)?;
        Ok(Life {
            started,
            calls,
            answers,
            peak_rss_kib,
        })
    }

    /// One measured run: the figures of init, the first and the warm invocation.
    async fn run(
        &self,
        binary: &str,
        cgroup: Option<&CpuCgroup>,
        log: &str,
    ) -> Result<Figures, BoxError> {
        let life = self.live(binary, &self.env, cgroup, log, TIMEOUT).await?;
        let failed = |why: String| format!("{binary} ({OUT}/coldstart-logs/{log}): {why}");
        if life.answers.len() < 2 || !life.answers.iter().all(|a| a.is_ok()) {
            let answers: Vec<_> = life.answers.iter().map(|a| (&a.path, &a.body)).collect();
            return Err(failed(format!("not two 200 answers: {answers:?}")).into());
        }
        let nexts: Vec<&Call> = life.calls.iter().filter(|c| c.is_next()).collect();
        let posts: Vec<&Call> = life.calls.iter().filter(|c| !c.is_next()).collect();
        let (Some(next0), Some(next1), Some(post0), Some(post1)) =
            (nexts.first(), nexts.get(1), posts.first(), posts.get(1))
        else {
            return Err(failed(format!("calls: {:?}", life.calls)).into());
        };
        let usage = |call: &Call| call.usage.ok_or_else(|| failed("no /proc reading".into()));
        let answered = |call: &Call| call.answered.ok_or_else(|| failed("no event".into()));
        let (u_next0, u_post0, u_next1, u_post1) =
            (usage(next0)?, usage(post0)?, usage(next1)?, usage(post1)?);
        let (h0, h1) = (answered(next0)?, answered(next1)?);
        let mut figures = Figures::new();
        let mut put = |name: &str, value: f64| figures.insert(name.to_owned(), value);
        put("init_wall_ms", ms(next0.arrived - life.started));
        put("init_cpu_ms", ms(u_next0.cpu));
        put("first_wall_ms", ms(post0.arrived - h0));
        put("first_cpu_ms", ms(u_post0.cpu.saturating_sub(u_next0.cpu)));
        put("cold_wall_ms", ms(post0.arrived - life.started));
        put("cold_cpu_ms", ms(u_post0.cpu));
        put("warm_wall_ms", ms(post1.arrived - h1));
        put("warm_cpu_ms", ms(u_post1.cpu.saturating_sub(u_next1.cpu)));
        put("threads_at_first_next", u_next0.threads as f64);
        put("minor_faults_init", u_next0.minor_faults as f64);
        put(
            "minor_faults_first",
            u_post0.minor_faults.saturating_sub(u_next0.minor_faults) as f64,
        );
        put(
            "peak_rss_kib",
            life.peak_rss_kib.map_or(f64::NAN, |kib| kib as f64),
        );
        // Handshakes the terminators completed in each phase.
        for (service, terminator) in [("dynamodb", &self.dynamodb_tls), ("s3", &self.s3_tls)] {
            let handshakes = terminator.handshakes();
            let within = |from: Instant, to: Instant| {
                handshakes
                    .iter()
                    .filter(|t| **t >= from && **t <= to)
                    .count() as f64
            };
            put(
                &format!("tls_{service}_init"),
                within(life.started, next0.arrived),
            );
            put(&format!("tls_{service}_first"), within(h0, post0.arrived));
            put(&format!("tls_{service}_warm"), within(h1, post1.arrived));
        }
        Ok(figures)
    }
}

/// Median, min and max of each figure over `runs`.
fn summarize(runs: &[Figures]) -> Value {
    let mut out = serde_json::Map::new();
    let names: Vec<&String> = runs.first().map(|r| r.keys().collect()).unwrap_or_default();
    for name in names {
        let mut values: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.get(name).copied())
            .filter(|v| v.is_finite())
            .collect();
        if values.is_empty() {
            continue;
        }
        let (min, max) = values
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        out.insert(
            name.clone(),
            json!({ "median": median(&mut values), "min": min, "max": max }),
        );
    }
    Value::Object(out)
}

fn med(results: &Value, name: &str, mode: &str, figure: &str) -> Option<f64> {
    results[name][mode]["median"][figure]["median"].as_f64()
}

/// CPU of init + first invocation of each build over the baseline's (per mode, and over all
/// runs); first over warm invocation, wall.
fn ratios(results: &Value, names: &[String]) -> Value {
    let mut out = serde_json::Map::new();
    let all_runs = |name: &str| {
        let mut values: Vec<f64> = ["capped", "uncapped"]
            .iter()
            .flat_map(|mode| results[name][mode]["runs"].as_array().cloned())
            .flatten()
            .filter_map(|run| run["cold_cpu_ms"].as_f64())
            .collect();
        (!values.is_empty()).then(|| median(&mut values))
    };
    let baseline_all = all_runs("baseline");
    for name in names {
        for mode in ["capped", "uncapped"] {
            if name != "baseline" {
                if let (Some(f), Some(b)) = (
                    med(results, name, mode, "cold_cpu_ms"),
                    med(results, "baseline", mode, "cold_cpu_ms"),
                ) {
                    out.insert(
                        format!("cpu_init_plus_first_{name}_over_baseline_{mode}"),
                        json!(f / b),
                    );
                }
            }
            if let (Some(first), Some(warm)) = (
                med(results, name, mode, "first_wall_ms"),
                med(results, name, mode, "warm_wall_ms"),
            ) {
                out.insert(
                    format!("first_over_warm_wall_{name}_{mode}"),
                    json!(first / warm),
                );
            }
        }
        if let (false, Some(mine), Some(base)) = (name == "baseline", all_runs(name), baseline_all)
        {
            out.insert(
                format!("cpu_init_plus_first_{name}_over_baseline_all_runs"),
                json!(mine / base),
            );
        }
    }
    Value::Object(out)
}

fn print_table(results: &Value, names: &[String], ratios: &Value) {
    const COLUMNS: [(&str, &str); 12] = [
        ("init wall", ""),
        ("init CPU", ""),
        ("1st wall", ""),
        ("1st CPU", ""),
        ("init+1st", "wall"),
        ("init+1st", "CPU"),
        ("warm wall", ""),
        ("warm CPU", ""),
        ("1st/warm", "wall"),
        ("RSS", "MiB"),
        ("threads", "at next"),
        ("faults", "init+1"),
    ];
    let header =
        |pick: fn(&(&str, &str)) -> String| COLUMNS.iter().map(pick).collect::<Vec<_>>().join(" ");
    println!(
        "\n{:24} {}",
        "(medians, ms)",
        header(|c| format!("{:>9}", c.0))
    );
    println!("{:24} {}", "", header(|c| format!("{:>9}", c.1)));
    for name in names {
        for mode in ["capped", "uncapped"] {
            if results[name][mode].is_null() {
                continue;
            }
            let g = |figure: &str| med(results, name, mode, figure).unwrap_or(f64::NAN);
            let row = [
                g("init_wall_ms"),
                g("init_cpu_ms"),
                g("first_wall_ms"),
                g("first_cpu_ms"),
                g("cold_wall_ms"),
                g("cold_cpu_ms"),
                g("warm_wall_ms"),
                g("warm_cpu_ms"),
                g("first_wall_ms") / g("warm_wall_ms"),
                g("peak_rss_kib") / 1024.0,
                g("threads_at_first_next"),
                g("minor_faults_init") + g("minor_faults_first"),
            ];
            let row: Vec<String> = row.iter().map(|v| format!("{v:>9.2}")).collect();
            println!("{:24} {}", format!("{name}, {mode}"), row.join(" "));
        }
    }
    for (key, value) in ratios.as_object().into_iter().flatten() {
        println!("{key}: {:.3}", value.as_f64().unwrap_or(f64::NAN));
    }
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

async fn measure() -> Result<(), BoxError> {
    let capped_runs = count("COLDSTART_CAPPED", 10)?;
    let uncapped_runs = count("COLDSTART_UNCAPPED", 20)?;
    let host = setting("COLDSTART_HOST", "localhost");
    let mut binaries = vec![(
        "function".to_owned(),
        setting("COLDSTART_FUNCTION", "target/bench/bin/connect-attachments"),
    )];
    for pair in setting("COLDSTART_EXTRA", "").split_whitespace() {
        let (name, path) = pair
            .split_once('=')
            .ok_or("COLDSTART_EXTRA: name=path ...")?;
        binaries.push((name.to_owned(), path.to_owned()));
    }
    let examples = "target/baseline/release/examples";
    binaries.push((
        "baseline".to_owned(),
        setting(
            "COLDSTART_BASELINE",
            &format!("{examples}/coldstart-baseline"),
        ),
    ));
    binaries.push((
        "hello".to_owned(),
        setting("COLDSTART_HELLO", &format!("{examples}/coldstart-hello")),
    ));
    for (name, path) in &binaries {
        if !Path::new(path).is_file() {
            return Err(format!("{name}: no binary at {path} (scripts/bench.sh builds it)").into());
        }
    }
    let names: Vec<String> = binaries.iter().map(|(n, _)| n.clone()).collect();

    let logs = PathBuf::from(OUT).join("coldstart-logs");
    std::fs::create_dir_all(&logs)?;
    println!("==> cold start: a test CA (root → intermediate → RSA 2048 leaf for {host}) and TLS in front of DynamoDB Local and S3");
    let mut names_in_leaf = vec![host.as_str(), "localhost", "127.0.0.1"];
    names_in_leaf.dedup();
    let ca = TestCa::new(&names_in_leaf)?;
    let system_bundle = SYSTEM_BUNDLES.iter().find(|p| Path::new(p).is_file());
    let system_pem = match (
        setting("COLDSTART_SYSTEM_ROOTS", "1").as_str(),
        system_bundle,
    ) {
        ("1", Some(path)) => std::fs::read_to_string(path)?,
        _ => String::new(),
    };
    let tls_dir = PathBuf::from(OUT).join("coldstart-tls");
    std::fs::create_dir_all(&tls_dir)?;
    let (trusted, untrusted) = (tls_dir.join("bundle.pem"), tls_dir.join("untrusted.pem"));
    std::fs::write(&trusted, format!("{system_pem}\n{}", ca.root_pem()))?;
    std::fs::write(&untrusted, &system_pem)?;
    let roots = std::fs::read_to_string(&trusted)?
        .matches("BEGIN CERTIFICATE")
        .count();
    let dynamodb_tls =
        Terminator::start(&ca, endpoint_address(&local::dynamodb_endpoint())?).await?;
    let s3_tls = Terminator::start(&ca, endpoint_address(&local::s3_endpoint())?).await?;

    let mut vars: Vec<(String, String)> = [
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]coldstart",
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "/aws/lambda/connect-attachments",
        ),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "C.UTF-8"),
        ("TZ", ":UTC"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    vars.push((
        "AWS_ENDPOINT_URL_DYNAMODB".into(),
        format!("https://{host}:{}", dynamodb_tls.port()),
    ));
    vars.push((
        "AWS_ENDPOINT_URL_S3".into(),
        format!("https://{host}:{}", s3_tls.port()),
    ));
    vars.push(("SSL_CERT_FILE".into(), trusted.display().to_string()));
    let bench = Bench {
        env: Environment { vars },
        events: events()?,
        dynamodb_tls,
        s3_tls,
        logs,
    };

    // The TLS path is real: the function answers through the terminator, and not without the
    // test CA in its trust store.
    let function = &binaries[0].1;
    bench
        .run(function, None, "check.log")
        .await
        .map_err(|e| format!("the function does not answer 200 through TLS: {e}"))?;
    let without_ca = bench
        .env
        .with("SSL_CERT_FILE", &untrusted.display().to_string());
    let refused = bench
        .live(
            function,
            &without_ca,
            None,
            "untrusted-ca.log",
            Duration::from_secs(30),
        )
        .await?;
    if refused.answers.iter().any(|a| a.is_ok()) {
        return Err(
            "the function answered 200 without trusting the test CA: TLS is not what is measured"
                .into(),
        );
    }
    println!("    checked: 200 through TLS with the test CA in SSL_CERT_FILE ({roots} roots), and no 200 without it");

    println!(
        "==> cold start: {uncapped_runs} uncapped and {capped_runs} capped runs (7.2% of a CPU) of {}",
        names.join(", ")
    );
    let cgroup = if capped_runs > 0 {
        Some(CpuCgroup::create(
            &format!("coldstart-{}", std::process::id()),
            QUOTA,
            PERIOD,
        )?)
    } else {
        None
    };
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut results = serde_json::Map::new();
    for (mode, runs, group) in [
        ("uncapped", uncapped_runs, None),
        ("capped", capped_runs, cgroup.as_ref()),
    ] {
        let mut figures: BTreeMap<&str, Vec<Figures>> = BTreeMap::new();
        // Interleaved, so that the binaries share whatever else loads the machine; the first run
        // of each only warms the page cache.
        for i in 0..runs.min(1) + runs {
            for (name, path) in &binaries {
                let run = bench
                    .run(path, group, &format!("{name}-{mode}-{i}.log"))
                    .await?;
                println!(
                    "  {mode:8} {name:10} run {i:2}: init {:7.1} ms wall {:6.2} ms CPU | first {:7.1} ms wall {:6.2} ms CPU | warm {:6.1} ms wall{}",
                    run["init_wall_ms"], run["init_cpu_ms"], run["first_wall_ms"], run["first_cpu_ms"],
                    run["warm_wall_ms"], if i == 0 { "  (discarded)" } else { "" }
                );
                if i > 0 {
                    figures.entry(name).or_default().push(run);
                }
            }
        }
        for (name, runs) in figures {
            results
                .entry(name.to_owned())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .ok_or("results")?
                .insert(
                    mode.to_owned(),
                    json!({ "median": summarize(&runs), "runs": runs }),
                );
        }
    }
    let cgroup_setting = cgroup.as_ref().map(CpuCgroup::describe);
    drop(cgroup);
    let results = Value::Object(results);
    let ratios = ratios(&results, &names);
    print_table(&results, &names, &ratios);

    let mut shown_env: BTreeMap<&str, &str> = bench.env.pairs().into_iter().collect();
    shown_env.retain(|k, _| !k.contains("SECRET"));
    let mut report = json!({
        "generated_at": command_output("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
        "machine": {
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
            "loadavg_at_start": loadavg.split_whitespace().take(3).collect::<Vec<_>>(),
        },
        "settings": {
            "quota_us": QUOTA.as_micros() as u64,
            "period_us": PERIOD.as_micros() as u64,
            "cgroup": cgroup_setting,
            "runs": { "capped": capped_runs, "uncapped": uncapped_runs },
            "discarded_first_runs": 1,
            "cold_event": "events/success.json",
            "warm_event": "events/success.json with AttachmentIds=[demo-attachment-rest], ClientToken=demo-2",
            "cpu_source": "sum of the first field of /proc/PID/task/*/schedstat (ns on CPU, every live thread)",
            "init": "exec (posix_spawn) -> first GET /next arrives at the stub",
            "first": "first event handed out -> its POST /response arrives",
            "warm": "second event (same operation, another attachment) handed out -> its /response",
            "env": shown_env,
            "tls": {
                "terminator": "devkit::tls (tokio-rustls on aws-lc-rs; X25519, P-256, P-384), RSA-2048 leaf + intermediate",
                "roots_in_SSL_CERT_FILE": roots,
                "handshakes": {
                    "dynamodb": bench.dynamodb_tls.handshakes().len(),
                    "s3": bench.s3_tls.handshakes().len(),
                },
            },
        },
        "binaries": binaries.iter().map(|(name, path)| {
            (name.clone(), json!({ "path": path, "size_bytes": std::fs::metadata(path).map_or(0, |m| m.len()) }))
        }).collect::<serde_json::Map<_, _>>(),
        "results": results,
        "ratios": ratios,
    });

    if setting("COLDSTART_PERF", "1") == "1" {
        let runs = count("COLDSTART_PERF_RUNS", 20)?;
        let with_symbols = "target/perf/release/connect-attachments";
        let default_perf = if Path::new(with_symbols).is_file() {
            with_symbols
        } else {
            function.as_str()
        };
        let perf_function = setting("COLDSTART_PERF_FUNCTION", default_perf);
        let baseline = binaries
            .iter()
            .find(|(name, _)| name == "baseline")
            .map(|(_, path)| path.clone())
            .unwrap_or_default();
        let mut profiles = serde_json::Map::new();
        for (name, binary, suffix) in [
            ("function", perf_function.as_str(), ""),
            ("baseline", baseline.as_str(), "-baseline"),
        ] {
            println!("==> cold start: perf record of {runs} uncapped cold starts of {binary} (init + first invocation)");
            let profile = bench.profile(binary, runs, suffix).await?;
            profiles.insert(name.to_owned(), profile);
        }
        report["perf"] = Value::Object(profiles);
    }
    std::fs::write(
        format!("{OUT}/coldstart.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    println!("wrote {OUT}/coldstart.json");
    Ok(())
}

/// What a profile's samples were spent on, by symbol-name heuristics: the first row that matches.
/// (name, the shared object contains one of, the symbol contains one of; space-separated, empty
/// for any.)
const CATEGORIES: [(&str, &str, &str); 12] = [
    (
        "aws-lc CPU jitter entropy (RNG seeding)",
        "",
        "jent_ rol64 xoshiro128starstar ptr_to_le uint32rotl jitter",
    ),
    (
        "dynamic loader (ld.so: relocations, symbol lookup)",
        "ld-linux ld-2 ld.so",
        "",
    ),
    (
        "kernel: exec, mmap, page faults",
        "kernel",
        "page fault exec mmap elf vma pte lru folio memcg zap unmap do_wp handle_mm filemap \
         rmqueue alloc_pages clear_",
    ),
    ("kernel: scheduler, syscalls, network, other", "kernel", ""),
    (
        "root certificates (PEM read, parse)",
        "",
        "rustls_native_certs rustls_pki_types::pem rustls_pki_types::base64 RootCertStore \
         TrustAnchor anchor_from x509_parser add_parsable",
    ),
    (
        "TLS handshake + crypto (rustls, ring, aws-lc)",
        "",
        "rustls ring:: ring_core aws_lc webpki x25519 sha256 sha512 gcm aes bn_ ec_ EVP_ RSA p256 \
         p384 mlkem kyber fiat CRYPTO_ OPENSSL_ hmac hkdf",
    ),
    (
        "memory (malloc, free, memcpy)",
        "libc connect baseline hello",
        "malloc free memmove memcpy memset realloc calloc _int_ tcache arena",
    ),
    (
        "tracing / logging / JSON",
        "",
        "tracing serde_json fmt:: Formatter write_str metrique",
    ),
    ("tokio runtime", "", "tokio:: mio:: epoll"),
    (
        "hyper / http / smithy / SDK",
        "",
        "hyper http:: h2:: aws_smithy aws_sdk aws_sigv4 aws_runtime aws_config aws_types \
         aws_credential",
    ),
    ("libc other", "libc", ""),
    ("other (the binary)", "", ""),
];

fn category(dso: &str, symbol: &str) -> &'static str {
    let any = |list: &str, text: &str| {
        list.is_empty() || list.split_whitespace().any(|p| text.contains(p))
    };
    CATEGORIES
        .iter()
        .find(|(_, dsos, symbols)| any(dsos, dso) && any(symbols, symbol))
        .map_or("other (the binary)", |(name, _, _)| name)
}

/// Shares of a profile's CPU time by key, largest first, with ms per run.
fn shares(by: &BTreeMap<String, u64>, total: u64, runs: usize, top: usize) -> Vec<Value> {
    let mut sorted: Vec<_> = by.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1));
    sorted
        .into_iter()
        .take(top)
        .map(|(key, period)| {
            json!({
                "what": key,
                "share": *period as f64 / total as f64,
                "ms_per_run": *period as f64 / runs as f64 / 1e6,
            })
        })
        .collect()
}

impl Bench {
    /// `runs` cold starts of `binary`, each under its own `perf record` (cpu-clock at 20 kHz),
    /// sampling from exec until the first `/response` arrives (perf's control FIFO switches it
    /// off there, so that neither the parked `/next` nor the exit is counted). Summed over the
    /// runs, written to `target/bench/perf-coldstart{suffix}.txt`; the summary.
    async fn profile(&self, binary: &str, runs: usize, suffix: &str) -> Result<Value, BoxError> {
        let dir = PathBuf::from(OUT).join(format!("perf-coldstart{suffix}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let (ctl, ack) = (dir.join("ctl.fifo"), dir.join("ack.fifo"));
        for fifo in [&ctl, &ack] {
            let made = std::process::Command::new("mkfifo").arg(fifo).status()?;
            if !made.success() {
                return Err(format!("mkfifo {}", fifo.display()).into());
            }
        }
        let control = format!("fifo:{},{}", ctl.display(), ack.display());
        let pairs = self.env.pairs();
        let (mut by_symbol, mut by_dso, mut by_category) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        let mut total = 0u64;
        for i in 0..runs {
            devkit::demo::seed_local().await?;
            let data = dir.join(format!("{i}.data"));
            let data_arg = data.display().to_string();
            let args = [
                "record",
                "-q",
                "-e",
                "cpu-clock",
                "-F",
                "20000",
                "-o",
                data_arg.as_str(),
                "--control",
                control.as_str(),
                "--",
                binary,
            ];
            let mut perf = FunctionProcess::launch(Launch {
                program: "perf",
                args: &args,
                env: &pairs,
                ..Launch::new(binary, self.events[..1].to_vec())
            })
            .await?;
            let answer = perf.next_answer(TIMEOUT).await;
            let (ctl, ack) = (ctl.clone(), ack.clone());
            // The FIFOs block until perf holds its ends, which it does from its start.
            tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                use std::io::{BufRead, Write};
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&ctl)?
                    .write_all(b"disable\n")?;
                let mut line = String::new();
                std::io::BufReader::new(std::fs::File::open(&ack)?).read_line(&mut line)?;
                Ok(())
            })
            .await??;
            let output = perf.interrupt(Duration::from_secs(30)).await?;
            if !answer.as_ref().is_some_and(|a| a.is_ok()) {
                return Err(format!("perf run {i} of {binary}: {answer:?}\n{output}").into());
            }
            let report = std::process::Command::new("perf")
                .args(["report", "-i", &data_arg, "--stdio", "--no-children", "-n"])
                .args([
                    "--show-total-period",
                    "--sort",
                    "comm,dso,sym",
                    "--percent-limit",
                    "0",
                ])
                .output()?;
            for line in String::from_utf8_lossy(&report.stdout).lines() {
                // `  12.34%  samples  period  comm  dso  [k]  symbol`
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (Some(period), Some(comm), Some(dso), Some(kind)) = (
                    fields.get(2).and_then(|p| p.parse::<u64>().ok()),
                    fields.get(3),
                    fields.get(4),
                    fields.get(5),
                ) else {
                    continue;
                };
                if !fields[0].ends_with('%') || !kind.starts_with('[') || NOT_OURS.contains(comm) {
                    continue;
                }
                let symbol = fields[6..].join(" ");
                total += period;
                *by_symbol
                    .entry(format!("{dso:24} {symbol}"))
                    .or_insert(0u64) += period;
                *by_dso.entry((*dso).to_owned()).or_insert(0u64) += period;
                *by_category
                    .entry(category(dso, &symbol).to_owned())
                    .or_insert(0u64) += period;
            }
        }
        if total == 0 {
            return Err(format!("no samples of {binary} in {}", dir.display()).into());
        }
        let summary = json!({
            "binary": binary,
            "runs": runs,
            "cpu_ms_per_run": total as f64 / runs as f64 / 1e6,
            "by_category": shares(&by_category, total, runs, 20),
            "by_shared_object": shares(&by_dso, total, runs, 10),
            "top_symbols": shares(&by_symbol, total, runs, 40),
        });
        let mut text = format!(
            "# {binary}: {runs} cold starts, init + first invocation; {:.2} ms CPU per run under perf (its sampling inflates it)\n",
            total as f64 / runs as f64 / 1e6
        );
        for (title, key) in [
            (
                "by what the code is for (symbol-name heuristics)",
                "by_category",
            ),
            ("by shared object", "by_shared_object"),
            ("top symbols by self CPU time", "top_symbols"),
        ] {
            text += &format!("\n# {title}\n");
            for row in summary[key].as_array().into_iter().flatten() {
                text += &format!(
                    "{:6.2}% {:7.3} ms  {}\n",
                    row["share"].as_f64().unwrap_or(0.0) * 100.0,
                    row["ms_per_run"].as_f64().unwrap_or(0.0),
                    row["what"].as_str().unwrap_or_default()
                );
            }
        }
        print!("{text}");
        std::fs::write(format!("{OUT}/perf-coldstart{suffix}.txt"), text)?;
        Ok(summary)
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this as a test: skip the
    // measurement there (it needs the local services, root and the release builds).
    if !std::env::args().any(|a| a == "--bench") {
        println!("benches/coldstart.rs measures only under `make bench` (local services, root, release builds)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcome = runtime.block_on(async {
        // Ctrl-C drops the measurement, and with it the cgroup (removed) and the processes.
        tokio::select! {
            outcome = measure() => outcome,
            _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
        }
    });
    if let Err(error) = outcome {
        eprintln!("cold start: {error}");
        std::process::exit(1);
    }
}
