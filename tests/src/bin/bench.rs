//! The benchmark harness: `cargo run --release -p entraide-tests --bin bench [-- --quick]`.
//!
//! Runs every scenario with real nodes over loopback TCP, prints a table, and writes it as
//! markdown (`--out FILE`, default `target/bench.md`). `--only NAME` runs one scenario
//! (propagation, catch-up, fresh-join, idle, scale, local-post). See `docs/benchmarks.md`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use entraide_tests::bench::{AS_ENTRAIDE, Row, markdown, progress, scenarios};

fn main() -> ExitCode {
    // Child processes of scenarios 5 and 6: this binary is then the `entraide` program.
    if std::env::var_os(AS_ENTRAIDE).is_some() {
        return entraide::run_with_args(std::env::args_os());
    }
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| "target/bench.md".into());
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    match run(quick, only.as_deref()) {
        Ok(rows) => {
            let table = markdown(&rows);
            println!("\n{table}");
            let header = format!(
                "<!-- cargo run --release -p entraide-tests --bin bench{} -->\n",
                if quick { " -- --quick" } else { "" }
            );
            if let Err(e) = std::fs::write(&out, format!("{header}{table}")) {
                eprintln!("bench: could not write {out}: {e}");
                return ExitCode::FAILURE;
            }
            eprintln!("written to {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(quick: bool, only: Option<&str>) -> anyhow::Result<Vec<Row>> {
    let want = |name: &str| only.is_none_or(|o| o == name);
    let start = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    let (posts, idle_window, scale_posts) = if quick {
        (20, Duration::from_secs(20), 2_000)
    } else {
        (100, Duration::from_secs(60), 10_000)
    };
    if want("propagation") {
        rows.extend(runtime.block_on(scenarios::propagation(10, posts, start))?);
        rows.extend(runtime.block_on(scenarios::propagation(50, posts, start))?);
    }
    if want("catch-up") {
        rows.extend(runtime.block_on(scenarios::catch_up(1_000, start))?);
        if !quick {
            rows.extend(runtime.block_on(scenarios::catch_up(10_000, start))?);
        }
    }
    if want("fresh-join") {
        rows.extend(runtime.block_on(scenarios::fresh_join(scale_posts, start))?);
    }
    if want("idle") {
        rows.extend(runtime.block_on(scenarios::idle(10, idle_window, start))?);
    }
    if want("scale") {
        let lists = if quick { 20 } else { 100 };
        rows.extend(scenarios::scale(scale_posts, lists, start)?);
    }
    if want("power") {
        rows.extend(scenarios::power(idle_window, start)?);
    }
    if want("local-post") {
        let (api, cli) = if quick { (30, 5) } else { (200, 20) };
        rows.extend(scenarios::local_post(api, cli, start)?);
    }
    progress(start, "done");
    Ok(rows)
}
