//! Resuming a collect to a file: the checkpointed writer a run opens (new, or continued after
//! the checks its checkpoint must pass), what a failure keeps, and how the user is told to go on.

use std::path::Path;

use connector_runtime::checkpoint::{self, CheckpointedSink, Identity};
use connector_runtime::types::ProofType;
use evidence_proof::output;

use super::*;

impl Job<'_> {
    /// Opens the checkpointed writer for `target`: a new one, or, with --resume, the one its
    /// checkpoint describes (after checking it belongs to this run).
    pub(super) fn checkpointed(
        &self,
        proof: &ProofType,
        identity: &Identity,
        target: &Path,
        resume: bool,
    ) -> Result<(CheckpointedSink, Option<String>), u8> {
        let ui = self.ui;
        let saved = checkpoint::load(target).map_err(|e| {
            ui.error(format!("{e:#}"));
            exit::CONFIG
        })?;
        let fail = |code: u8, message: String| {
            ui.error(message);
            code
        };
        match (resume, saved) {
            (true, Some(cp)) => {
                if let Some(why) = cp.mismatch(identity) {
                    return Err(fail(exit::CONFIG, format!("cannot resume {}: {why}", target.display())));
                }
                let signed_by = cp.vouched_by(self.signer.as_ref()).map_err(|why| {
                    fail(exit::CONFIG, format!("cannot resume {}: {why}", target.display()))
                })?;
                let meta =
                    meta_of(proof, identity, cp.collected_at.clone(), self.runtime.declared_key(proof));
                // What this run knows itself (connector, host, account and role) is its own, not
                // read back; the rest is the checkpoint's, and the resumption says how it was
                // vouched for. Pages and requests are totals.
                let mut resumed = cp.provenance.resumed.clone();
                resumed.push(Resumption {
                    at: connector_runtime::now_rfc3339(),
                    rows_from_partial: cp.writer.rows,
                    pages_before: cp.pages,
                    checkpoint_signed_by: signed_by,
                });
                let provenance = Provenance {
                    pages: cp.pages,
                    requests: cp.requests,
                    criteria_applied: cp.provenance.criteria_applied.clone(),
                    resumed,
                    ..self.provenance(&cp.provenance.started_at)
                };
                let writer = ProofWriter::resume(target, self.format, &meta, &fields_of(proof), &cp.writer)
                    .and_then(|w| self.vouched(w, provenance))
                    .map_err(|e| fail(exit::CONFIG, format!("cannot resume {}: {e:#}", target.display())))?;
                ui.info(format!(
                    "{}: resuming after page {} ({} rows kept in {})",
                    proof.id,
                    cp.pages,
                    cp.writer.rows,
                    output::partial_path(target).display()
                ));
                let sink = CheckpointedSink {
                    writer,
                    target: Some(target.to_path_buf()),
                    identity: identity.clone(),
                    collected_at: cp.collected_at.clone(),
                    before: (cp.pages, cp.requests),
                    saved: true,
                    signer: self.signer.clone(),
                    observer: role_learner(proof, &identity.login),
                };
                Ok((sink, Some(cp.next_cursor)))
            }
            (true, None) => Err(fail(
                exit::CONFIG,
                format!(
                    "there is no checkpoint beside {} to resume; run the collect without --resume",
                    target.display()
                ),
            )),
            (false, Some(_)) => Err(fail(
                exit::CONFIG,
                format!(
                    "an interrupted collect of {} is waiting in {}; continue it by adding --resume, or delete {} \
                     and {} to start over",
                    target.display(),
                    output::partial_path(target).display(),
                    checkpoint::path_for(target).display(),
                    output::partial_path(target).display()
                ),
            )),
            (false, None) => {
                let collected_at = connector_runtime::now_rfc3339();
                let meta = meta_of(proof, identity, collected_at.clone(), self.runtime.declared_key(proof));
                let writer = ProofWriter::create_resumable(target, self.format, &meta, &fields_of(proof))
                    .and_then(|w| self.vouched(w, self.provenance(&collected_at)))
                    .map_err(|e| fail(exit::HOST, format!("{e:#}")))?;
                let sink = CheckpointedSink {
                    writer,
                    target: Some(target.to_path_buf()),
                    identity: identity.clone(),
                    collected_at,
                    before: (0, 0),
                    saved: false,
                    signer: self.signer.clone(),
                    observer: role_learner(proof, &identity.login),
                };
                Ok((sink, None))
            }
        }
    }

    /// After a failure: a checkpointed proof keeps its partial file and checkpoint (counting
    /// the requests of this run's failed calls, `requests` when known), and the user is told
    /// how to continue; anything else leaves nothing behind.
    pub(super) fn keep_or_discard(
        &self,
        sink: CheckpointedSink,
        target: Option<&Path>,
        id: &str,
        requests: Option<u64>,
    ) {
        let (kept, before) = (sink.saved, sink.before);
        drop(sink);
        let Some(target) = target else { return };
        if !kept {
            checkpoint::discard(target, true);
            return;
        }
        match checkpoint::load(target) {
            Ok(Some(mut cp)) => {
                if let Some(n) = requests.map(|n| before.1 + n).filter(|n| *n > cp.requests) {
                    cp.requests = n;
                    cp.provenance.requests = n;
                    let _ = checkpoint::save(target, &cp, self.signer.as_ref());
                }
                self.ui.error(format!(
                    "{id}: {} rows from {} pages are kept in {}; to continue from page {}, run:\n  {}",
                    cp.writer.rows,
                    cp.pages,
                    output::partial_path(target).display(),
                    cp.pages + 1,
                    resume_command()
                ))
            }
            _ => checkpoint::discard(target, true),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub(super) async fn interrupted() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// This command line with `--resume`, for people to copy; proxy credentials are masked.
fn resume_command() -> String {
    let mut args: Vec<String> = std::env::args().collect();
    if let Some(first) = args.first_mut() {
        *first = "connector-host".into();
    }
    let mut masked = Vec::with_capacity(args.len() + 1);
    let mut after_proxy = false;
    for a in args {
        let a = if after_proxy || a.starts_with("--proxy=") { mask_userinfo(&a) } else { a };
        after_proxy = a == "--proxy";
        masked.push(a);
    }
    if !masked.iter().any(|a| a == "--resume") {
        masked.push("--resume".into());
    }
    masked.iter().map(|a| shell_word(a)).collect::<Vec<_>>().join(" ")
}

fn mask_userinfo(arg: &str) -> String {
    match (arg.find("://"), arg.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &arg[..scheme + 3], &arg[at..]),
        _ => arg.to_string(),
    }
}

fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_commands_mask_proxy_credentials_and_quote_what_the_shell_would_split() {
        assert_eq!(mask_userinfo("http://me:secret@proxy:3128"), "http://***@proxy:3128");
        assert_eq!(mask_userinfo("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(shell_word("states=OPEN,RESOLVED"), "states=OPEN,RESOLVED");
        assert_eq!(shell_word("os_pattern=^Windows 10"), "'os_pattern=^Windows 10'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
