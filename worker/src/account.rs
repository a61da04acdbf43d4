//! One Qualys account's concurrency, shared by every collect that uses it, whichever tenant or
//! worker: a workflow per account hands out at most [`PERMITS`] permits, in the order they were
//! asked for. A collect asks before each page (an activity signals-with-start the account's
//! workflow, so the first ask starts it) and waits for the grant; it gives the permit back when
//! the page is kept. The engine keeps the queue: no lock table of our own.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ContinueAsNewOptions, SignalWorkflowOptions, SyncWorkflowContext, WorkflowContext, WorkflowContextView,
    WorkflowResult,
};

/// Calls one Qualys account may have running at once (Qualys' concurrency limit for API users).
pub const PERMITS: usize = 2;
/// Signals one run of the account workflow handles before it continues as new.
const EVENTS_PER_RUN: u32 = 1_000;

/// The account workflow's id for a login on an API server (a digest: ids are visible in the
/// engine's UI; the login is not secret, but need not be spelled out).
pub fn account_id(api_url: &str, login: &str) -> String {
    let digest = sha2::Sha256::digest(format!("{api_url}\n{login}").as_bytes());
    format!("account-{}", &hex::encode(digest)[..24])
}

/// Who holds and who waits, carried into each continue-as-new.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Permits {
    /// Workflow ids holding a permit.
    pub holders: Vec<String>,
    /// Workflow ids waiting, first come first served.
    pub waiting: VecDeque<String>,
}

/// The account's permit workflow.
#[workflow]
pub struct AccountWorkflow {
    permits: Permits,
    /// A grant to send: taken by the run loop, which signals it.
    events: u32,
}

impl AccountWorkflow {
    /// Whether a waiter can be granted a permit now.
    fn grantable(&self) -> bool {
        self.permits.holders.len() < PERMITS && !self.permits.waiting.is_empty()
    }
}

#[workflow_methods]
impl AccountWorkflow {
    /// Starts with the permits a previous run handed on.
    #[init]
    pub fn new(_ctx: &WorkflowContextView, permits: Permits) -> Self {
        AccountWorkflow { permits, events: 0 }
    }

    /// Grants permits as they free up, for ever (continuing as new to keep its history small).
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        loop {
            ctx.wait_condition(|s| s.grantable() || s.events >= EVENTS_PER_RUN).await?;
            let next = ctx.state_mut(|s| {
                if !s.grantable() {
                    return None;
                }
                let who = s.permits.waiting.pop_front()?;
                s.permits.holders.push(who.clone());
                Some(who)
            });
            match next {
                Some(who) => {
                    let target = ctx.external_workflow(who.clone(), None);
                    let sent = target
                        .signal(
                            crate::workflow::CollectWorkflow::granted,
                            (),
                            SignalWorkflowOptions::default(),
                        )
                        .await;
                    if sent.is_err() {
                        // The collect is gone (ended, cancelled): its permit is free again.
                        ctx.state_mut(|s| s.permits.holders.retain(|h| *h != who));
                    }
                }
                None => {
                    let permits = ctx.state(|s| s.permits.clone());
                    ctx.continue_as_new(permits, ContinueAsNewOptions::default())?;
                }
            }
        }
    }

    /// A collect asks for a permit (asking again while waiting or holding changes nothing).
    #[signal]
    pub fn acquire(&mut self, _ctx: &mut SyncWorkflowContext<Self>, who: String) {
        self.events += 1;
        if !self.permits.holders.contains(&who) && !self.permits.waiting.contains(&who) {
            self.permits.waiting.push_back(who);
        }
    }

    /// A collect gives its permit back (or stops waiting).
    #[signal]
    pub fn release(&mut self, _ctx: &mut SyncWorkflowContext<Self>, who: String) {
        self.events += 1;
        self.permits.holders.retain(|h| *h != who);
        self.permits.waiting.retain(|h| *h != who);
    }
}
