//! The benchmark harness: `cargo run --release -p entraide-tests --bin bench [-- --quick]`.
//!
//! Runs every scenario with real nodes over loopback TCP, prints a table, and writes it as
//! markdown (`--out FILE`, default `target/bench.md`). `--only NAME` runs one scenario;
//! `--posts N` and `--authors N` size the scale scenarios (scale, fresh-join, year). `year`
//! runs only when asked for (`--only year`). See `docs/benchmarks.md`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use entraide_tests::bench::{AS_ENTRAIDE, AS_MEMORY_FLOOR, Row, markdown, one_node, progress};
use entraide_tests::bench::{scenarios, year};

/// Every scenario `--only` accepts, in the order a full run runs them.
const SCENARIOS: &[&str] = &[
    "propagation",
    "catch-up",
    "fresh-join",
    "idle",
    "scale",
    "power",
    "local-post",
    "year",
];
/// The scenarios `--posts` and `--authors` size.
const SIZED: &[&str] = &["scale", "fresh-join", "year"];
/// The scenarios a run without `--only` leaves out: too long to run every time.
const ON_REQUEST: &[&str] = &["year"];

const USAGE: &str =
    "usage: bench [--quick] [--only SCENARIO] [--posts N] [--authors N] [--out FILE]
  --quick        shorter runs and smaller corpora
  --only NAME    one scenario: propagation, catch-up, fresh-join, idle, scale, power,
                 local-post, year (year runs only when asked for)
  --posts N      posts of the scale scenarios (scale, fresh-join, year)
  --authors N    their authors (at most one per post)
  --out FILE     where to write the markdown table (default target/bench.md)";

/// What the command line asks for.
#[derive(Debug, Default, PartialEq)]
struct Options {
    quick: bool,
    only: Option<String>,
    out: Option<String>,
    posts: Option<usize>,
    authors: Option<usize>,
    help: bool,
}

impl Options {
    /// Reads the arguments after the program's name.
    fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut options = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .cloned()
                    .with_context(|| format!("{name} needs a value\n{USAGE}"))
            };
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--help" | "-h" => options.help = true,
                "--out" => options.out = Some(value("--out")?),
                "--only" => {
                    let name = value("--only")?;
                    if !SCENARIOS.contains(&name.as_str()) {
                        bail!(
                            "--only: no scenario `{name}`; the scenarios are {}",
                            SCENARIOS.join(", ")
                        );
                    }
                    options.only = Some(name);
                }
                "--posts" => options.posts = Some(count("--posts", &value("--posts")?)?),
                "--authors" => options.authors = Some(count("--authors", &value("--authors")?)?),
                other => bail!("unknown argument `{other}`\n{USAGE}"),
            }
        }
        if let Some(only) = &options.only
            && (options.posts.is_some() || options.authors.is_some())
            && !SIZED.contains(&only.as_str())
        {
            bail!(
                "--posts and --authors size {} only, not {only}",
                SIZED.join(", ")
            );
        }
        Ok(options)
    }

    /// Whether the run includes scenario `name`.
    fn wants(&self, name: &str) -> bool {
        match &self.only {
            Some(only) => only == name,
            None => !ON_REQUEST.contains(&name),
        }
    }

    /// The size of scenario `name`: the flags, else its defaults.
    fn size(&self, name: &str, posts: usize, authors: usize) -> anyhow::Result<Size> {
        let size = Size {
            posts: self.posts.unwrap_or(posts),
            authors: self.authors.unwrap_or(authors),
        };
        if size.authors > size.posts {
            bail!(
                "{name}: {} authors for {} posts: every author needs a post (give --posts at least --authors)",
                size.authors,
                size.posts
            );
        }
        Ok(size)
    }
}

/// A number of at least 1.
fn count(name: &str, text: &str) -> anyhow::Result<usize> {
    let n: usize = text
        .trim()
        .replace(['_', ','], "")
        .parse()
        .map_err(|_| anyhow::anyhow!("{name} takes a whole number, not `{text}`"))?;
    if n == 0 {
        bail!("{name} must be at least 1");
    }
    Ok(n)
}

/// Posts and authors of a scale scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Size {
    posts: usize,
    authors: usize,
}

fn main() -> ExitCode {
    // Child processes of scenarios 5, 6 and 8: this binary is then the `entraide` program.
    if std::env::var_os(AS_ENTRAIDE).is_some() {
        return entraide::run_with_args(std::env::args_os());
    }
    // The memory floors of scenarios 5 and 8: a process that only loads documents.
    if let Some(spec) = std::env::var_os(AS_MEMORY_FLOOR) {
        return one_node::memory_floor_process(&spec);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench: {e:#}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| "target/bench.md".into());
    match run(&options) {
        Ok(rows) => {
            let table = markdown(&rows);
            println!("\n{table}");
            let header = format!(
                "<!-- cargo run --release -p entraide-tests --bin bench{}{} -->\n",
                if args.is_empty() { "" } else { " -- " },
                args.join(" ")
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

fn run(options: &Options) -> anyhow::Result<Vec<Row>> {
    let quick = options.quick;
    let want = |name: &str| options.wants(name);
    // Sizes first, so that a bad pair fails before minutes of other scenarios.
    let scale_posts = if quick { 2_000 } else { 10_000 };
    let scale = options.size("scale", scale_posts, 500)?;
    let fresh = options.size("fresh-join", scale_posts, 500)?;
    let year_size = if quick {
        options.size("year", 10_000, 500)?
    } else {
        options.size("year", 100_000, 5_000)?
    };
    let start = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    let (posts, idle_window) = if quick {
        (20, Duration::from_secs(20))
    } else {
        (100, Duration::from_secs(60))
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
        rows.extend(runtime.block_on(scenarios::fresh_join(fresh.posts, fresh.authors, start))?);
    }
    if want("idle") {
        rows.extend(runtime.block_on(scenarios::idle(10, idle_window, start))?);
    }
    if want("scale") {
        let lists = if quick { 20 } else { 100 };
        rows.extend(scenarios::scale(scale.posts, scale.authors, lists, start)?);
    }
    if want("power") {
        rows.extend(scenarios::power(idle_window, start)?);
    }
    if want("local-post") {
        let (api, cli) = if quick { (30, 5) } else { (200, 20) };
        rows.extend(scenarios::local_post(api, cli, start)?);
    }
    if want("year") {
        let lists = if quick { 20 } else { 100 };
        rows.extend(year::year(
            year_size.posts,
            year_size.authors,
            lists,
            start,
        )?);
    }
    progress(start, "done");
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Options> {
        Options::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn no_flags_keep_the_defaults() {
        let o = parse(&[]).unwrap();
        assert_eq!(o, Options::default());
        assert_eq!(
            o.size("scale", 10_000, 500).unwrap(),
            Size {
                posts: 10_000,
                authors: 500
            }
        );
        assert!(o.wants("scale") && o.wants("propagation"));
        assert!(!o.wants("year"), "the year runs only when asked for");
    }

    #[test]
    fn posts_and_authors_size_the_scale_scenarios() {
        let o = parse(&["--only", "scale", "--posts", "100000", "--authors", "5_000"]).unwrap();
        assert_eq!(
            o.size("scale", 10_000, 500).unwrap(),
            Size {
                posts: 100_000,
                authors: 5_000
            }
        );
        assert!(o.wants("scale") && !o.wants("idle"));
        assert!(parse(&["--only", "year"]).unwrap().wants("year"));
    }

    #[test]
    fn bad_sizes_are_refused_with_a_reason() {
        let zero = parse(&["--posts", "0"]).unwrap_err().to_string();
        assert!(zero.contains("at least 1"), "{zero}");
        let word = parse(&["--authors", "many"]).unwrap_err().to_string();
        assert!(
            word.contains("whole number") && word.contains("many"),
            "{word}"
        );
        let negative = parse(&["--posts", "-5"]).unwrap_err().to_string();
        assert!(negative.contains("whole number"), "{negative}");
        let missing = parse(&["--posts"]).unwrap_err().to_string();
        assert!(missing.contains("needs a value"), "{missing}");
        let o = parse(&["--posts", "100", "--authors", "200"]).unwrap();
        let more = o.size("scale", 10_000, 500).unwrap_err().to_string();
        assert!(more.contains("200 authors for 100 posts"), "{more}");
        // Without --posts, the default count is the one compared.
        let o = parse(&["--quick", "--authors", "5000"]).unwrap();
        assert!(o.size("scale", 2_000, 500).is_err());
    }

    #[test]
    fn unknown_arguments_and_scenarios_are_refused() {
        assert!(
            parse(&["--only", "scales"])
                .unwrap_err()
                .to_string()
                .contains("no scenario `scales`")
        );
        assert!(
            parse(&["--fast"])
                .unwrap_err()
                .to_string()
                .contains("unknown argument")
        );
        let idle = parse(&["--only", "idle", "--posts", "10"])
            .unwrap_err()
            .to_string();
        assert!(idle.contains("not idle"), "{idle}");
    }
}
