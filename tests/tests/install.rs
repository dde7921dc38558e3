//! A program a neighbour can copy (issue 17), with the real program: its shell completions
//! are valid scripts that complete real commands, its manual page renders with `man` and
//! holds every command, `--version` names the commit it was built from, and `service
//! install` writes a systemd user unit that runs this very program with the data folder
//! and addresses given, that systemd reads as meant (paths with spaces too), and that it
//! never replaces without `--force`. (The release binary's size is checked by `.ci/run`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use entraide_tests::harness::Ran;
use entraide_tests::{skip_unless, tests_main};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");

tests_main!(
    completions_for_bash_zsh_and_fish,
    the_manual_page_renders_with_every_command,
    the_version_names_the_commit,
    service_install_writes_a_user_unit,
    the_system_unit_is_one_systemd_reads,
);

/// Runs `command`, its stdin from `input`.
fn run_with(mut command: Command, input: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("stdin written");
    child.wait_with_output().expect("the program ends")
}

/// Runs `program args`, its stdin from `input`.
fn run_in(program: impl AsRef<std::ffi::OsStr>, args: &[&str], input: &[u8]) -> Output {
    let mut command = Command::new(program);
    command.args(args);
    run_with(command, input)
}

fn entraide(args: &[&str]) -> Output {
    run_in(BIN, args, b"")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What `entraide ARGS` prints, asserting it succeeded.
fn printed(args: &[&str]) -> String {
    let out = entraide(args);
    assert!(out.status.success(), "entraide {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// Whether `program` runs here (`program --version`).
fn found(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn completions_for_bash_zsh_and_fish() -> Ran {
    for shell in ["bash", "zsh", "fish"] {
        skip_unless!(found(shell), format!("{shell} is not installed"));
    }
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let script = printed(&["completions", shell]);
        for command in ["service", "join-device", "completions"] {
            assert!(
                script.contains(command),
                "{shell} completions do not know `{command}`"
            );
        }
        let file = dir.path().join(format!("entraide.{shell}"));
        std::fs::write(&file, &script).unwrap();
        let file = file.to_str().unwrap();
        // Parsed by the shell itself, without running it.
        let syntax = match shell {
            "bash" => run_in("bash", &["-n", file], b""),
            "zsh" => run_in("zsh", &["-n", file], b""),
            _ => run_in("fish", &["--no-execute", file], b""),
        };
        assert!(
            syntax.status.success(),
            "{shell} finds its completions invalid: {}",
            stderr(&syntax)
        );
    }
    // And they complete: `entraide ser<Tab>` and `entraide service <Tab>`.
    let bash = format!(
        "source {}/entraide.bash
         complete_words() {{ COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\"; \
           COMP_POINT=${{#COMP_LINE}}; COMPREPLY=(); _entraide entraide \"${{@: -1}}\" \"${{@: -2:1}}\"; \
           printf '%s\\n' \"${{COMPREPLY[@]}}\"; }}
         complete_words entraide ser
         complete_words entraide service ''",
        dir.path().display()
    );
    let out = run_in("bash", &["-c", &bash], b"");
    let words: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert!(
        words.iter().any(|w| w == "service") && words.iter().any(|w| w == "install"),
        "bash completes {words:?} ({})",
        stderr(&out)
    );
    let fish = format!(
        "source {}/entraide.fish; complete -C 'entraide ser'; complete -C 'entraide service '",
        dir.path().display()
    );
    let out = run_in("fish", &["-c", &fish], b"");
    let words: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    assert!(
        words.iter().any(|w| w == "service") && words.iter().any(|w| w == "install"),
        "fish completes {words:?} ({})",
        stderr(&out)
    );
    Ran::Fully
}

fn the_manual_page_renders_with_every_command() -> Ran {
    let roff = printed(&["man"]);
    assert!(
        roff.lines().any(|l| l.starts_with(".TH ENTRAIDE 1 ")),
        "no title line: {}",
        &roff[..200]
    );
    for want in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH COMMANDS",
        ".SS \"entraide up\"",
        ".SS \"entraide join\\-device\"",
        ".SS \"entraide care add\"",
        ".SS \"entraide service install\"",
        ".SS \"entraide man\"",
        ".SH VERSION",
    ] {
        assert!(roff.contains(want), "the page has no {want:?}");
    }
    skip_unless!(found("man"), "man is not installed (package man-db)");
    let warnings = man(&roff, &["--warnings", "-l", "-"]);
    assert!(
        warnings.status.success() && stderr(&warnings).trim().is_empty(),
        "man warns: {}",
        stderr(&warnings)
    );
    let text = stdout(&man(&roff, &["-l", "-"]));
    for want in [
        "ENTRAIDE(1)",
        "entraide - a mutual-aid board for neighbours",
        "--data-dir",
        "entraide service install",
        "--listen",
        "entraide post",
        "--consent",
        "entraide completions",
        "commit",
    ] {
        assert!(
            text.contains(want),
            "the rendered page has no {want:?}:\n{text}"
        );
    }
    Ran::Fully
}

/// `man ARGS` with `roff` on its standard input, 80 columns, no pager.
fn man(roff: &str, args: &[&str]) -> Output {
    let mut command = Command::new("man");
    command
        .args(args)
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("LC_ALL", "C.UTF-8");
    run_with(command, roff.as_bytes())
}

fn the_version_names_the_commit() -> Ran {
    let version = printed(&["--version"]);
    let version = version.trim();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root)
        .output();
    let head = match head {
        Ok(out) if out.status.success() => Some(stdout(&out).trim().to_owned()),
        _ => None,
    };
    if head.is_none() {
        // A copy without git: the program says so rather than naming a commit.
        assert_eq!(
            version,
            concat!("entraide ", env!("CARGO_PKG_VERSION"), " (unknown commit)")
        );
    }
    skip_unless!(
        head.is_some(),
        "not a git checkout, or no git: no commit to compare"
    );
    let head = head.expect("checked above");
    assert_eq!(
        version,
        format!("entraide {} (commit {head})", env!("CARGO_PKG_VERSION"))
    );
    Ran::Fully
}

/// A `KEY=value` line's value in `unit`.
fn key<'a>(unit: &'a str, key: &str) -> Option<&'a str> {
    unit.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// The words of an `ExecStart=` value as systemd splits them (systemd.service(5),
/// "Command lines"): spaces between words, double quotes around one, `\` escaping the
/// next character, `%%` for `%` and `$$` for `$`.
fn exec_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            return words;
        };
        let mut word = String::new();
        let quoted = first == '"';
        if quoted {
            chars.next();
        }
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted => break,
                c if c.is_whitespace() && !quoted => break,
                '\\' => word.extend(chars.next()),
                '%' | '$' => {
                    assert_eq!(chars.next(), Some(c), "a lone {c} in {line}");
                    word.push(c);
                }
                c => word.push(c),
            }
        }
        words.push(word);
    }
}

/// `systemd-analyze verify` of `unit` (user or system manager): `None` when it finds
/// nothing to say about the unit, else what it said.
fn verify(unit: &Path, user: bool) -> Option<String> {
    let runtime = tempfile::tempdir().unwrap();
    let mut args = vec!["verify", "--man=no"];
    if user {
        args.push("--user");
    }
    let unit = unit.to_str().unwrap();
    args.push(unit);
    let out = Command::new("systemd-analyze")
        .args(&args)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .expect("systemd-analyze runs");
    let name = Path::new(unit).file_name().unwrap().to_string_lossy();
    let said: Vec<&str> = std::str::from_utf8(&out.stderr)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&*name))
        .collect();
    if out.status.success() && said.is_empty() {
        None
    } else {
        Some(format!("{}{}", stdout(&out), stderr(&out)))
    }
}

fn service_install_writes_a_user_unit() -> Ran {
    let tmp = tempfile::tempdir().unwrap();
    // Spaces, quotes and specifiers in every path the unit names.
    let home = tmp.path().join("home of Marie");
    let config = tmp.path().join("config \"files\" 100%");
    let data = home.join("l'immeuble $HOME");
    let bin_dir = tmp.path().join("my programs");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&bin_dir).unwrap();
    // The program copied where its path has a space: the unit must name this copy.
    let program = bin_dir.join("entraide");
    if std::fs::hard_link(BIN, &program).is_err() {
        std::fs::copy(BIN, &program).unwrap();
    }
    let install = |args: &[&str]| {
        let mut all = vec!["--data-dir", data.to_str().unwrap(), "service", "install"];
        all.extend_from_slice(args);
        Command::new(&program)
            .args(&all)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &config)
            .env("USER", "marie")
            .output()
            .unwrap()
    };
    let listen = "/ip4/0.0.0.0/tcp/4001";
    let out = install(&["--listen", listen, "--", "--ui-lan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    for step in [
        "systemctl --user daemon-reload",
        "systemctl --user enable --now entraide",
        "loginctl enable-linger marie",
        "journalctl --user -u entraide -f",
        "systemctl --user stop entraide",
        "holds no identity yet",
    ] {
        assert!(
            said.contains(step),
            "install does not say {step:?}:\n{said}"
        );
    }
    let path = config.join("systemd/user/entraide.service");
    let unit = std::fs::read_to_string(&path).expect("the unit is written");
    let exec = key(&unit, "ExecStart").expect("an ExecStart line");
    let program = std::fs::canonicalize(&program).unwrap();
    assert_eq!(
        exec_words(exec),
        [
            program.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "up",
            "--listen",
            listen,
            "--ui-lan"
        ],
        "{exec}"
    );
    assert_eq!(key(&unit, "Restart"), Some("on-failure"));
    assert_eq!(key(&unit, "WantedBy"), Some("default.target"));
    // The unit is the one documented in docs/, its command line aside.
    let documented = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/entraide.service"),
    )
    .unwrap();
    let without_exec = |u: &str| -> Vec<String> {
        u.lines()
            .filter(|l| !l.starts_with("ExecStart="))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(without_exec(&unit), without_exec(&documented));

    // The same again changes nothing; another address is refused without --force.
    let out = install(&["--listen", listen, "--", "--ui-lan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("already this unit"),
        "{}",
        stdout(&out)
    );
    let other = "/ip4/0.0.0.0/tcp/4002";
    let out = install(&["--listen", other]);
    assert!(
        !out.status.success(),
        "a different unit replaced without --force"
    );
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), unit);
    // A mistyped option of `up` is refused before anything is written.
    let out = install(&["--listen", other, "--force", "--", "--ui-lna"]);
    assert!(!out.status.success(), "a unit with a mistyped option");
    assert!(stderr(&out).contains("--ui-lna"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), unit);
    let out = install(&["--listen", other, "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let replaced = std::fs::read_to_string(&path).unwrap();
    assert!(
        exec_words(key(&replaced, "ExecStart").unwrap()).contains(&other.to_owned()),
        "{replaced}"
    );

    skip_unless!(
        found("systemd-analyze"),
        "systemd-analyze is not installed (package systemd)"
    );
    if let Some(said) = verify(&path, true) {
        panic!("systemd finds fault with the unit:\n{said}\n{replaced}");
    }
    Ran::Fully
}

fn the_system_unit_is_one_systemd_reads() -> Ran {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("the board");
    std::fs::create_dir_all(&data).unwrap();
    let unit = printed(&[
        "--data-dir",
        data.to_str().unwrap(),
        "service",
        "unit",
        "--system",
        "--user",
        "voisins",
        "--listen",
        "/ip4/0.0.0.0/tcp/4747",
        // A meeting point's (docs/meeting-point.md).
        "--",
        "--no-mdns",
        "--announce",
        "203.0.113.7:4747",
    ]);
    let program = std::fs::canonicalize(BIN).unwrap();
    assert_eq!(
        exec_words(key(&unit, "ExecStart").unwrap()),
        [
            program.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "up",
            "--listen",
            "/ip4/0.0.0.0/tcp/4747",
            "--no-mdns",
            "--announce",
            "203.0.113.7:4747"
        ]
    );
    assert_eq!(key(&unit, "User"), Some("voisins"));
    assert_eq!(
        exec_words(key(&unit, "ReadWritePaths").unwrap()),
        [data.to_str().unwrap()]
    );
    for (k, v) in [
        ("NoNewPrivileges", "true"),
        ("ProtectSystem", "strict"),
        ("Restart", "on-failure"),
        ("WantedBy", "multi-user.target"),
    ] {
        assert_eq!(key(&unit, k), Some(v), "{k}");
    }
    // Without --system: the user unit, as `service install` writes it.
    let user = printed(&["--data-dir", data.to_str().unwrap(), "service", "unit"]);
    assert_eq!(key(&user, "WantedBy"), Some("default.target"));

    skip_unless!(
        found("systemd-analyze"),
        "systemd-analyze is not installed (package systemd)"
    );
    let file: PathBuf = tmp.path().join("entraide.service");
    std::fs::write(&file, &unit).unwrap();
    if let Some(said) = verify(&file, false) {
        panic!("systemd finds fault with the system unit:\n{said}\n{unit}");
    }
    Ran::Fully
}
