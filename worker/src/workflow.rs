//! The collect workflow and its activities.
//!
//! One workflow per collect. Its state is the cursor and the page number; each activity
//! collects one page in the sandbox and keeps it in the proof store. A `rate-limited` answer
//! parks the workflow on a durable timer for the seconds the service gave; transport failures,
//! 5xx answers and crashes are retried by the engine with back-off; `authentication`,
//! `permission` and the `invalid-*` errors end the workflow with the typed error, never retried.
//! Every 200 pages the workflow continues as new, so its history stays small. Credentials are
//! read by the activity from the operator's secret source: no input, result or error of the
//! engine holds them.

use std::sync::Arc;
use std::time::Duration;

use connector_runtime::types::ConnectorError;
use connector_runtime::{CallError, CollectOptions, CollectRequest, Runtime, Tenant, collect_proof};
use evidence_proof::{
    AccountInfo, ConnectorInfo, HostInfo, PageContext, PageSink, Provenance, Value, Warning,
};
use serde::{Deserialize, Serialize};
use temporalio_client::WorkflowStartOptions;
use temporalio_common::RetryPolicy;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{
    ActivityOptions, ApplicationFailure, ContinueAsNewOptions, SignalWorkflowOptions, SyncWorkflowContext,
    WorkflowContext, WorkflowResult,
};

use crate::account::{AccountWorkflow, Permits, account_id};
use crate::secrets::SecretSource;
use crate::store::{NewRun, PageIn, RunMeta, Store};

/// How long a page may go without a heartbeat before the engine gives it to another worker.
pub const HEARTBEAT: Duration = Duration::from_secs(20);

/// Pages one workflow run collects before it continues as new.
pub const PAGES_PER_RUN: u32 = 200;

/// A collect: what the workflow is started with, and carries into its next run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectInput {
    /// The run's id (also the workflow id and the proof store's key); empty in a schedule's
    /// action, where each run takes its workflow id.
    pub run_id: String,
    /// The tenant whose credentials the worker's secret source holds.
    pub tenant: String,
    /// Platform code.
    pub platform: String,
    /// Custom API URL.
    pub api_url: Option<String>,
    /// Proof type id.
    pub proof_type: String,
    /// Criteria.
    pub criteria: Vec<(String, String)>,
    /// The next page's number, from 0.
    pub next_seq: i64,
    /// Pages a workflow run collects before it continues as new (0: [`PAGES_PER_RUN`]).
    #[serde(default)]
    pub pages_per_run: u32,
    /// The next page's cursor (`None` before the first page).
    pub cursor: Option<String>,
    /// What the store needs to write the proof (its `collected_at` is set when the run begins
    /// when empty).
    pub meta: RunMeta,
}

/// A collect asks its account for a permit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PermitRequest {
    /// The tenant, whose credentials name the account.
    pub tenant: String,
    /// Platform code.
    pub platform: String,
    /// Custom API URL.
    pub api_url: Option<String>,
    /// The collect's workflow id.
    pub who: String,
}

impl CollectInput {
    /// The run as the store records it.
    pub fn new_run(&self) -> NewRun {
        NewRun {
            run_id: self.run_id.clone(),
            tenant: self.tenant.clone(),
            platform: self.platform.to_ascii_uppercase(),
            api_url: self.api_url.clone(),
            proof_type: self.proof_type.clone(),
            criteria: self.criteria.clone(),
            meta: self.meta.clone(),
        }
    }
}

/// One page to collect.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageRequest {
    /// The collect.
    pub collect: CollectInput,
}

/// What collecting a page came to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum PageOutcome {
    /// Kept in the store.
    Kept {
        /// Rows of the page.
        rows: i64,
        /// The next page's cursor; `None` after the last.
        next_cursor: Option<String>,
    },
    /// The service asked to wait this long; then collect from `resume_cursor` (or the same
    /// cursor).
    Wait {
        /// Seconds to wait.
        seconds: u64,
        /// Where to resume, when the connector says.
        resume_cursor: Option<String>,
    },
}

/// A finished collect.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    /// The run.
    pub run_id: String,
    /// Rows.
    pub rows: i64,
    /// Pages.
    pub pages: i64,
    /// SHA-256 of the canonical rows.
    pub sha256: String,
}

/// The collect workflow.
#[workflow]
#[derive(Default)]
pub struct CollectWorkflow {
    /// Permits the account's workflow granted, and those used.
    granted: u64,
    used: u64,
}

fn page_options() -> ActivityOptions {
    // A page is a few calls of at most a few minutes; failures the engine retries back off
    // from a second to five minutes, without end (a workflow can be cancelled).
    // The page heartbeats every few seconds: a worker that dies mid-page (kill -9, a lost
    // machine) is noticed after HEARTBEAT and its page goes to another worker.
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(15 * 60))
        .heartbeat_timeout(HEARTBEAT)
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_secs(1))
                .backoff_coefficient(2.0)
                .maximum_interval(Duration::from_secs(300))
                .build(),
        )
        .build()
}

#[workflow_methods]
impl CollectWorkflow {
    /// The account's workflow granted a permit.
    #[signal]
    pub fn granted(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _grant: ()) {
        self.granted += 1;
    }

    /// Collects every page, then completes the run in the store.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: CollectInput) -> WorkflowResult<RunResult> {
        let mut input = input;
        if input.next_seq == 0 && input.cursor.is_none() {
            if input.run_id.is_empty() {
                input.run_id = ctx.workflow_id().to_string();
            }
            ctx.execute_activity(CollectActivities::begin, input.new_run(), page_options()).await?;
        }
        let mut pages_this_run = 0u32;
        let me = ctx.workflow_id().to_string();
        loop {
            // A permit of the account first: at most PERMITS calls at once per Qualys account.
            let ask = PermitRequest {
                tenant: input.tenant.clone(),
                platform: input.platform.clone(),
                api_url: input.api_url.clone(),
                who: me.clone(),
            };
            let account = ctx.execute_activity(CollectActivities::acquire, ask, page_options()).await?;
            ctx.wait_condition(|s| s.granted > s.used).await?;
            ctx.state_mut(|s| s.used += 1);
            let request = PageRequest { collect: input.clone() };
            let outcome =
                ctx.execute_activity(CollectActivities::collect_page, request, page_options()).await;
            let release = ctx.external_workflow(account, None);
            // A lost release would hold the permit: the account's workflow frees a holder it can
            // no longer signal, and this one is tried until it is sent.
            let _ =
                release.signal(AccountWorkflow::release, me.clone(), SignalWorkflowOptions::default()).await;
            match outcome? {
                PageOutcome::Kept { next_cursor, .. } => {
                    input.next_seq += 1;
                    input.cursor = next_cursor;
                    if input.cursor.is_none() {
                        break;
                    }
                }
                PageOutcome::Wait { seconds, resume_cursor } => {
                    if resume_cursor.is_some() {
                        input.cursor = resume_cursor;
                    }
                    ctx.timer(Duration::from_secs(seconds)).await;
                }
            }
            pages_this_run += 1;
            let limit = if input.pages_per_run == 0 { PAGES_PER_RUN } else { input.pages_per_run };
            if pages_this_run >= limit {
                ctx.continue_as_new(input.clone(), ContinueAsNewOptions::default())?;
            }
        }
        let done =
            ctx.execute_activity(CollectActivities::complete, input.run_id.clone(), page_options()).await?;
        Ok(done)
    }
}

/// Builds a tenant from a platform, an API URL, a login and a password.
pub type TenantMaker = dyn Fn(&str, Option<&str>, String, String) -> anyhow::Result<Tenant> + Send + Sync;

/// What activities share in one worker.
pub struct CollectActivities {
    /// The connector component, under the operator's network policy.
    pub runtime: Runtime,
    /// The proof store.
    pub store: Arc<Store>,
    /// Where credentials come from.
    pub secrets: Arc<dyn SecretSource>,
    /// The connector, for provenance.
    pub connector: ConnectorInfo,
    /// Longest rate-limit wait a call rides out itself; longer ones park the workflow.
    pub max_inline_wait: u32,
    /// Builds a tenant from a platform, API URL and credentials.
    pub tenant: Box<TenantMaker>,
}

/// One page's rows, kept in memory until the store has them.
#[derive(Default)]
struct OnePage {
    rows: Vec<Vec<Value>>,
    warnings: Vec<Warning>,
    applied: Vec<(String, String)>,
    next_cursor: Option<String>,
    requests: u64,
}

impl PageSink for OnePage {
    fn write_page(
        &mut self,
        rows: &[Vec<Value>],
        warnings: &[Warning],
        at: &PageContext<'_>,
    ) -> anyhow::Result<()> {
        self.rows.extend_from_slice(rows);
        self.warnings.extend_from_slice(warnings);
        self.applied = at.applied_criteria.to_vec();
        self.next_cursor = at.next_cursor.map(str::to_string);
        self.requests = at.requests;
        Ok(())
    }
}

/// A failure the engine must not retry: the typed error's kind names it.
fn final_error(kind: &str, message: String) -> ActivityError {
    ActivityError::application(
        ApplicationFailure::builder(anyhow::anyhow!(message))
            .type_name(kind.to_string())
            .non_retryable(true)
            .build(),
    )
}

/// A failure the engine retries with back-off.
fn retried(kind: &str, message: String) -> ActivityError {
    ActivityError::application(
        ApplicationFailure::builder(anyhow::anyhow!(message)).type_name(kind.to_string()).build(),
    )
}

#[activities]
impl CollectActivities {
    /// Collects the page `next_seq` of a run from its cursor and keeps it; a page already kept
    /// (the activity ran before, and the engine did not hear of it) is not collected again.
    #[activity]
    pub async fn collect_page(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: PageRequest,
    ) -> Result<PageOutcome, ActivityError> {
        let c = request.collect;
        let store_error = |e: anyhow::Error| retried("store", format!("the proof store: {e:#}"));
        if let Some(kept) = self.store.page(&c.run_id, c.next_seq).await.map_err(store_error)? {
            return Ok(PageOutcome::Kept { rows: kept.rows, next_cursor: kept.next_cursor });
        }
        let credentials = match self.secrets.credentials(&c.tenant) {
            Ok(cr) => cr,
            Err(e) => {
                let message = format!("{e:#}");
                let _ = self.store.fail_run(&c.run_id, "invalid-config", &message).await;
                return Err(final_error("invalid-config", message));
            }
        };
        let mut tenant =
            (self.tenant)(&c.platform, c.api_url.as_deref(), credentials.username, credentials.password)
                .map_err(|e| final_error("invalid-config", format!("{e:#}")))?;
        tenant.config.max_inline_wait_seconds = Some(self.max_inline_wait);
        let proofs = self.runtime.list_proof_types().await.map_err(|e| retried(e.kind(), e.to_string()))?;
        let proof = proofs.into_iter().find(|p| p.id == c.proof_type).ok_or_else(|| {
            final_error("unknown-proof-type", format!("unknown proof type {}", c.proof_type))
        })?;
        let fields = connector_runtime::fields_of(&proof);
        let mut page = OnePage::default();
        // One page, no inline waits past the tenant's: a longer wait comes back here.
        let options =
            CollectOptions { max_pages: Some(1), max_rate_limit_waits: 0, ..CollectOptions::default() };
        let request = CollectRequest { proof: &proof, criteria: &c.criteria, cursor: c.cursor.clone() };
        let mut progress = |_: &connector_runtime::Progress| {};
        let collect = collect_proof(&self.runtime, &tenant, request, &mut page, &options, &mut progress);
        let beat = async {
            loop {
                tokio::time::sleep(HEARTBEAT / 4).await;
                let _ = ctx.record_heartbeat(()).await;
            }
        };
        let result = tokio::select! {
            r = collect => r,
            () = beat => unreachable!("the heartbeat loop never ends"),
        };
        match result {
            Ok(stats) => {
                let next = page.next_cursor.clone().or(stats.next_cursor.clone());
                let kept = PageIn {
                    seq: c.next_seq,
                    cursor_in: c.cursor.as_deref(),
                    next_cursor: next.as_deref(),
                    requests: page.requests as i64,
                    rows: &page.rows,
                    warnings: &page.warnings,
                    applied_criteria: &page.applied,
                };
                self.store.write_page(&c.run_id, &fields, &kept).await.map_err(store_error)?;
                Ok(PageOutcome::Kept { rows: page.rows.len() as i64, next_cursor: next })
            }
            Err(e) => match e.error {
                CallError::Connector(ConnectorError::RateLimited(limit)) => Ok(PageOutcome::Wait {
                    seconds: u64::from(limit.retry_after_seconds).max(1),
                    resume_cursor: limit.resume_cursor,
                }),
                error => {
                    let kind = error.kind();
                    let message = error.to_string();
                    if retryable(&error) {
                        Err(retried(kind, message))
                    } else {
                        let _ = self.store.fail_run(&c.run_id, kind, &message).await;
                        Err(final_error(kind, message))
                    }
                }
            },
        }
    }

    /// Asks the account of the tenant's credentials for a permit for `who`: signals the
    /// account's workflow, starting it if none runs; returns its id.
    #[activity]
    pub async fn acquire(
        self: Arc<Self>,
        ctx: ActivityContext,
        ask: PermitRequest,
    ) -> Result<String, ActivityError> {
        let credentials = self
            .secrets
            .credentials(&ask.tenant)
            .map_err(|e| final_error("invalid-config", format!("{e:#}")))?;
        let base = connector_host::cli::target::api_base(&ask.platform, ask.api_url.as_deref())
            .map_err(|e| final_error("invalid-config", e))?;
        let account = account_id(&base.url(), &credentials.username);
        let options = WorkflowStartOptions::new(ctx.info().task_queue.as_str(), account.as_str()).build();
        ctx.client()
            .signal_with_start_workflow(
                AccountWorkflow::run,
                Permits::default(),
                AccountWorkflow::acquire,
                ask.who,
                options,
            )
            .await
            .map_err(|e| retried("engine", format!("asking the account for a permit: {e}")))?;
        Ok(account)
    }

    /// Records a run in the store (once), its collection time now when not given.
    #[activity]
    pub async fn begin(self: Arc<Self>, _ctx: ActivityContext, run: NewRun) -> Result<(), ActivityError> {
        let mut run = run;
        if run.meta.collected_at.is_empty() {
            run.meta.collected_at = evidence_proof::now_rfc3339();
        }
        self.store.create_run(&run).await.map_err(|e| retried("store", format!("the proof store: {e:#}")))
    }

    /// Completes a run: its digest from the stored rows, and its provenance.
    #[activity]
    pub async fn complete(
        self: Arc<Self>,
        _ctx: ActivityContext,
        run_id: String,
    ) -> Result<RunResult, ActivityError> {
        let store_error = |e: anyhow::Error| retried("store", format!("the proof store: {e:#}"));
        let run = self.store.run(&run_id).await.map_err(store_error)?;
        let status = self.store.status(&run_id).await.map_err(store_error)?;
        let provenance = Provenance {
            connector: self.connector.clone(),
            host: HostInfo { name: "connector-worker".into(), version: env!("CARGO_PKG_VERSION").into() },
            account: AccountInfo { login: None, ..AccountInfo::default() },
            criteria_applied: None,
            started_at: run.meta.collected_at.clone(),
            finished_at: Some(evidence_proof::now_rfc3339()),
            pages: status.pages as u64,
            requests: status.requests as u64,
            resumed: Vec::new(),
        };
        let sha256 = self.store.complete_run(&run_id, &provenance).await.map_err(store_error)?;
        Ok(RunResult { run_id, rows: status.rows, pages: status.pages, sha256 })
    }
}

/// Whether the engine should try the page again: the service could not be reached or failed,
/// or the sandbox stopped the call; never for a refusal of the account, the config or criteria.
pub fn retryable(error: &CallError) -> bool {
    match error {
        CallError::Connector(e) => matches!(
            e,
            ConnectorError::Transport(_) | ConnectorError::Upstream(_) | ConnectorError::MalformedResponse(_)
        ),
        CallError::Trap(_) | CallError::Deadline(_) | CallError::CpuBudget(_) | CallError::Host { .. } => {
            true
        }
        CallError::Memory(_) => false,
    }
}
