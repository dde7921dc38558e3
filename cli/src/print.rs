//! `entraide print --out FILE.html`: the board on paper, the document of the page's
//! `/print` (`ui::print`), written to a new file, with or without a running node.

use std::path::Path;

use anyhow::{Context, Result};
use clap::ValueEnum;
use entraide_node::api::BoardQuery;
use entraide_node::data_dir::DataDir;

use crate::client::Client;
use crate::ui::Lang;

/// The language of the sheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SheetLang {
    Fr,
    En,
}

/// Writes the board's open requests and offers to `out`, a new file, in `lang` (else the
/// environment's language).
pub(crate) fn run(
    client: &Client,
    data_dir: &DataDir,
    out: &Path,
    lang: Option<SheetLang>,
) -> Result<()> {
    let lang = match lang.unwrap_or_else(|| from_locale(|name| std::env::var(name).ok())) {
        SheetLang::Fr => Lang::Fr,
        SheetLang::En => Lang::En,
    };
    let posts = client.list(&BoardQuery::default())?;
    let status = client.status()?;
    // Only a node that answers serves the page the QR codes point to.
    let api = client.is_remote().then(|| data_dir.read_api()).flatten();
    let base = crate::page_address::for_print(api.as_ref(), &status.listen_addresses);
    let printed =
        crate::ui::print::document(lang, posts, crate::output::now(), &base, data_dir.root())
            .context("cannot make the sheet")?;
    crate::residents::write_new(out, printed.html.as_bytes())?;
    let left_out = match printed.left_out {
        0 => String::new(),
        n => format!(
            " ({n} more left out: at most {} per neighbour)",
            entraide_crdt::limits::MAX_OPEN_POSTS_SHOWN_PER_AUTHOR
        ),
    };
    say!(
        "Wrote {} open requests and offers{left_out}, most urgent first, to {}.",
        printed.posts,
        out.display()
    );
    say!("Open it in a browser and print it (A4).");
    say!("Each post's QR code opens it at {base}/posts/...");
    if api.is_none_or(|a| !a.lan) {
        say!("(for phones on this Wi-Fi to open them, print while `entraide up --ui-lan` runs)");
    }
    Ok(())
}

/// The sheet's language when `--lang` is not given: French when the locale is French
/// (`LC_ALL`, else `LC_MESSAGES`, else `LANG`, the first one set, as POSIX programs
/// decide), else English.
fn from_locale(var: impl Fn(&str) -> Option<String>) -> SheetLang {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .into_iter()
        .filter_map(var)
        .find(|v| !v.is_empty())
        .unwrap_or_default();
    if locale.to_ascii_lowercase().starts_with("fr") {
        SheetLang::Fr
    } else {
        SheetLang::En
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> SheetLang {
        from_locale(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_sheet_speaks_the_locale_s_language() {
        assert_eq!(with(&[]), SheetLang::En);
        assert_eq!(with(&[("LANG", "fr_FR.UTF-8")]), SheetLang::Fr);
        assert_eq!(with(&[("LANG", "fr_CA")]), SheetLang::Fr);
        assert_eq!(with(&[("LANG", "de_DE.UTF-8")]), SheetLang::En);
        assert_eq!(with(&[("LANG", "C")]), SheetLang::En);
        // LC_ALL, then LC_MESSAGES, come before LANG; an empty one does not count.
        assert_eq!(
            with(&[("LC_ALL", "en_GB.UTF-8"), ("LANG", "fr_FR.UTF-8")]),
            SheetLang::En
        );
        assert_eq!(
            with(&[("LC_MESSAGES", "fr_BE"), ("LANG", "en_US")]),
            SheetLang::Fr
        );
        assert_eq!(
            with(&[("LC_ALL", ""), ("LANG", "fr_FR.UTF-8")]),
            SheetLang::Fr
        );
    }
}
