//! Messages to the person at the terminal, and the progress spinner.

use std::borrow::Cow;
use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};

/// How much to say, and whether a terminal is listening. Every line it prints has the run's
/// secrets masked and control characters escaped.
#[derive(Clone)]
pub struct Ui {
    pub quiet: bool,
    pub verbose: bool,
    interactive: bool,
    /// Texts never to print: the password (raw, percent-encoded, in a Basic token) and proxy
    /// credentials, whatever echoes them (a server's error text, a library's message).
    secrets: Arc<Mutex<Vec<String>>>,
}

impl Ui {
    pub fn new(quiet: bool, verbose: bool) -> Ui {
        Ui { quiet, verbose, interactive: std::io::stderr().is_terminal(), secrets: Arc::default() }
    }

    /// Masks `secret` (and its encoded forms) in everything printed from now on.
    pub fn keep_secret(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        if let Ok(mut list) = self.secrets.lock() {
            for f in connector_runtime::secret_forms(secret) {
                if !f.is_empty() && !list.contains(&f) {
                    list.push(f);
                }
            }
            // Longest first, so that a secret inside another is masked whole.
            list.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Masks the login's Basic token and the password.
    pub fn keep_credentials(&self, username: &str, password: &str) {
        if password.is_empty() {
            return;
        }
        self.keep_secret(&connector_runtime::basic_token(username, password));
        self.keep_secret(password);
    }

    /// `text` as it may be shown: secrets masked, control characters escaped.
    pub fn shown<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        if let Ok(list) = self.secrets.lock() {
            for secret in list.iter() {
                if out.contains(secret.as_str()) {
                    out = Cow::Owned(out.replace(secret.as_str(), "***"));
                }
            }
        }
        match for_terminal(&out) {
            Cow::Borrowed(_) => out,
            Cow::Owned(escaped) => Cow::Owned(escaped),
        }
    }

    /// A line on stderr, unless quiet.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", self.shown(msg.as_ref()));
        }
    }

    /// An error line on stderr, always.
    pub fn error(&self, msg: impl AsRef<str>) {
        eprintln!("error: {}", self.shown(msg.as_ref()));
    }

    /// With `--verbose`, shows the library's `tracing` events (a span for each call and collect;
    /// an event for each request, page and wait) on stderr, through [`Ui::shown`].
    pub fn install_log(&self) {
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        if !self.verbose {
            return;
        }
        let ui = self.clone();
        let filter =
            tracing_subscriber::filter::Targets::new().with_target("connector_runtime", tracing::Level::INFO);
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || LogLine { ui: ui.clone(), line: Vec::new() })
            // Plain text: lines go through the secret mask and the control-character escape
            // (and another crate of the workspace may turn the colour feature on).
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .compact()
            .with_filter(filter);
        let _ = tracing_subscriber::registry().with(layer).try_init();
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

/// Text from elsewhere (a server's error, a proof's value) made safe to print on a terminal:
/// control characters other than line feed and tab, and the bidirectional overrides that
/// reorder what a reader sees, are shown as `\u{..}` escapes instead of acting on the terminal.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One log line, written to stderr as [`Ui::shown`] shows it when complete.
struct LogLine {
    ui: Ui,
    line: Vec<u8>,
}

impl std::io::Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.line);
        eprint!("{}", self.ui.shown(text.trim_end_matches('\n')));
        eprintln!();
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    #[test]
    fn secrets_are_masked_in_every_form_and_terminal_controls_are_escaped() {
        let ui = Ui::new(false, false);
        ui.keep_credentials("me", "pa ss/&w");
        ui.keep_secret("proxy-pw");
        let token = base64::engine::general_purpose::STANDARD.encode("me:pa ss/&w");
        let text = format!("me:pa ss/&w pa+ss%2F%26w pa%20ss%2F%26w {token} http://u:proxy-pw@p");
        let said = ui.shown(&text);
        assert_eq!(said, "me:*** *** *** *** http://u:***@p");
        assert_eq!(for_terminal("a\x1b[2Jb\rc\u{202e}d\ne\tf"), "a\\u{1b}[2Jb\\u{d}c\\u{202e}d\ne\tf");
        assert!(matches!(for_terminal("plain"), Cow::Borrowed(_)));
    }
}
