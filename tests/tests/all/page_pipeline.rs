//! The collect loop overlaps pages: the next page's call runs while the sink writes the current
//! one. What the sink and the embedder see must not change: pages in order, one at a time, no
//! call past the last page or `max_pages`, and a failed write reports the cursor of the page the
//! sink could not keep.

use connector_runtime::evidence_proof::{Value, Warning};
use connector_runtime::{CollectOptions, CollectRequest, PageContext, PageSink, collect_proof};
use connector_tests::*;
use qualys_simulator::{SimConfig, Sizes};

fn sized(tickets: u64) -> SimConfig {
    SimConfig { sizes: Sizes { tickets, ..Sizes::default() }, ..SimConfig::default() }
}

/// Keeps ticket numbers and the cursors the collect reports; refuses page `fail_on`.
struct Sink {
    numbers: Vec<i64>,
    cursors: Vec<Option<String>>,
    fail_on: Option<u64>,
}

impl PageSink for Sink {
    fn write_page(&mut self, rows: &[Vec<Value>], _: &[Warning], at: &PageContext<'_>) -> anyhow::Result<()> {
        assert_eq!(at.pages, self.cursors.len() as u64 + 1, "pages arrive one at a time, in order");
        if Some(at.pages) == self.fail_on {
            anyhow::bail!("disk full");
        }
        for row in rows {
            let Value::Integer(n) = row[0] else { panic!("ticket_number first: {:?}", row[0]) };
            assert!(self.numbers.last().is_none_or(|last| *last < n), "rows in order across pages");
            self.numbers.push(n);
        }
        assert_eq!(at.rows, self.numbers.len() as u64);
        self.cursors.push(at.next_cursor.map(str::to_string));
        Ok(())
    }
}

async fn run(
    sim: &qualys_simulator::Simulator,
    sink: &mut Sink,
    cursor: Option<String>,
    max_pages: Option<u64>,
) -> Result<connector_runtime::CollectStats, Box<connector_runtime::CollectError>> {
    let proof = proof_type("remediation-tickets").await;
    let request = CollectRequest { proof: &proof, criteria: &[], cursor };
    let options = CollectOptions { max_pages, ..CollectOptions::default() };
    collect_proof(runtime(), &tenant(sim, "demo_manager"), request, sink, &options, &mut |_| {}).await
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_sink_that_fails_on_the_third_page_when_collecting_then_the_error_holds_that_pages_cursor() {
    let sim = simulator(sized(5000)).await;
    let mut sink = Sink { numbers: Vec::new(), cursors: Vec::new(), fail_on: Some(3) };
    let err = run(&sim, &mut sink, None, None).await.unwrap_err();
    assert!(err.to_string().contains("writing the proof"), "{err}");
    assert_eq!(err.stats.pages, 2);
    assert_eq!(err.stats.rows, 2000);
    // The cursor that fetched the page the sink refused: resuming there loses nothing.
    assert_eq!(err.stats.next_cursor, sink.cursors[1]);
    // The call for page 4 may have started while page 3 was written; it was stopped, and never
    // more than one call ran ahead.
    let calls = sim.requests().len();
    assert!((3..=4).contains(&calls), "{calls} calls");

    let mut rest = Sink { numbers: Vec::new(), cursors: Vec::new(), fail_on: None };
    let stats = run(&sim, &mut rest, err.stats.next_cursor.clone(), None).await.unwrap();
    assert_eq!(stats.pages, 3);
    let mut all = sink.numbers.clone();
    all.extend(&rest.numbers);
    assert_eq!(all.len(), 5000);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "each ticket once, in order");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_max_pages_when_collecting_then_no_call_is_made_past_them() {
    let sim = simulator(sized(5000)).await;
    let mut sink = Sink { numbers: Vec::new(), cursors: Vec::new(), fail_on: None };
    let stats = run(&sim, &mut sink, None, Some(2)).await.unwrap();
    assert_eq!((stats.pages, stats.rows), (2, 2000));
    assert_eq!(stats.next_cursor, sink.cursors[1]);
    assert_eq!(sim.requests().len(), 2, "no call for page 3");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_the_last_page_when_it_arrives_then_no_further_call_is_made() {
    let sim = simulator(sized(2500)).await;
    let mut sink = Sink { numbers: Vec::new(), cursors: Vec::new(), fail_on: None };
    let stats = run(&sim, &mut sink, None, None).await.unwrap();
    assert_eq!((stats.pages, stats.rows, stats.requests), (3, 2500, 3));
    assert_eq!(sim.requests().len(), 3);
    assert_eq!(sink.cursors.last(), Some(&None));
}
