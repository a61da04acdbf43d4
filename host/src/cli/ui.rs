//! Messages to the person at the terminal, and the progress spinner.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressStyle};

/// How much to say, and whether a terminal is listening.
#[derive(Clone)]
pub struct Ui {
    pub quiet: bool,
    pub verbose: bool,
    interactive: bool,
}

impl Ui {
    pub fn new(quiet: bool, verbose: bool) -> Ui {
        Ui { quiet, verbose, interactive: std::io::stderr().is_terminal() }
    }

    /// A line on stderr, unless quiet.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// An error line on stderr, always.
    pub fn error(&self, msg: impl AsRef<str>) {
        eprintln!("error: {}", msg.as_ref());
    }

    /// A spinner for a long task on an interactive terminal; `None` otherwise.
    pub fn spinner(&self, prefix: &str) -> Option<ProgressBar> {
        (self.interactive && !self.quiet).then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]").expect("template"),
            );
            b.set_prefix(prefix.to_string());
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        })
    }
}
