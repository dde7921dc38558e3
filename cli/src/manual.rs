//! `entraide completions SHELL` and `entraide man`: the command line described for shells
//! and for `man`, both made from the clap definition of the commands.

use std::io::Write as _;

use anyhow::Result;
use clap::{Command, CommandFactory as _, ValueEnum};
use clap_complete::Generator;
use clap_complete::shells::{Bash, Fish, Zsh};
use clap_mangen::Man;

/// The shells `entraide completions` writes for (only these: each one more is code in a
/// program that must stay small).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// The manual page's description of entraide, above its options.
const DESCRIPTION: &str = "\
entraide is a mutual-aid board for neighbours: residents post that they need a hand or \
can give one, and the neighbours of their community see it and answer. Each computer that \
runs it (a node, `entraide up`) keeps the board and passes it on to the others it meets, \
with no server and no need for the internet.

Every command but `up` talks to the running node of its data folder, or, with none \
running, opens the folder itself. The user guide (docs/guide.en.md, docs/guide.fr.md) \
explains each command with examples.";

/// Writes the completion script for `shell` to stdout.
pub(crate) fn completions(shell: Shell) -> Result<()> {
    fn script(shell: impl Generator) -> Vec<u8> {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut crate::Cli::command(), "entraide", &mut script);
        script
    }
    emit(&match shell {
        Shell::Bash => script(Bash),
        Shell::Zsh => script(Zsh),
        Shell::Fish => script(Fish),
    })
}

/// Writes the manual page (roff) to stdout: the program's options, then every command
/// with its own usage, description and options, in one page.
pub(crate) fn man() -> Result<()> {
    let cli = crate::Cli::command()
        .about("a mutual-aid board for neighbours, with no server")
        .long_about(DESCRIPTION);
    let page = Man::new(cli.clone()).title("ENTRAIDE");
    let mut roff = Vec::new();
    page.render_title(&mut roff)?;
    page.render_name_section(&mut roff)?;
    page.render_synopsis_section(&mut roff)?;
    page.render_description_section(&mut roff)?;
    page.render_options_section(&mut roff)?;
    roff.extend_from_slice(b".SH COMMANDS\n");
    for command in cli.get_subcommands() {
        render_command(&mut roff, command, "entraide")?;
    }
    page.render_version_section(&mut roff)?;
    emit(once_preamble(&String::from_utf8_lossy(&roff)).as_bytes())
}

/// `roff` with clap_mangen's preamble (the `Aq` string, written before each section it
/// renders) kept only where it first appears.
fn once_preamble(roff: &str) -> String {
    let mut seen = Vec::new();
    let mut page = String::with_capacity(roff.len());
    for line in roff.lines() {
        let preamble = line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq");
        if preamble && seen.contains(&line) {
            continue;
        }
        if preamble {
            seen.push(line);
        }
        page.push_str(line);
        page.push('\n');
    }
    page
}

/// One command of the page, as a subsection: its usage, its description and its options,
/// then its own commands (`care add`, ...) each likewise.
fn render_command(roff: &mut Vec<u8>, command: &Command, parent: &str) -> Result<()> {
    if command.is_hide_set() {
        return Ok(());
    }
    let name = format!("{parent} {}", command.get_name());
    writeln!(roff, ".SS \"{}\"", name.replace('-', "\\-"))?;
    let page = Man::new(command.clone().bin_name(&name).disable_help_flag(true));
    let mut usage = Vec::new();
    page.render_synopsis_section(&mut usage)?;
    let mut description = Vec::new();
    page.render_description_section(&mut description)?;
    let mut options = Vec::new();
    page.render_options_section(&mut options)?;
    for part in [usage, description, options] {
        // Their headings (`.SH SYNOPSIS`, ...) would end the COMMANDS section: each part
        // is a paragraph of the command's subsection instead.
        writeln!(roff, ".PP")?;
        for line in String::from_utf8_lossy(&part).lines() {
            if !line.starts_with(".SH") {
                writeln!(roff, "{line}")?;
            }
        }
    }
    for sub in command.get_subcommands() {
        render_command(roff, sub, &name)?;
    }
    Ok(())
}

/// Writes `bytes` to stdout; a closed stdout (`entraide man | head`) ends quietly.
fn emit(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if out.write_all(bytes).and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
    Ok(())
}
