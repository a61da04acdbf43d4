//! The proof store alone: a page written twice (a retried activity) is kept once.

use connector_worker::store::{NewRun, PageIn, RunMeta, Store, StoredField};
use evidence_proof::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_page_written_twice_is_kept_once_and_the_run_counts_it_once() {
    let store = Store::open(&crate::database()).await.unwrap();
    let run_id = connector_worker::new_run_id("store-test", "users");
    let field = StoredField { name: "login".into(), label: "Login".into(), kind: "text".into() };
    let run = NewRun {
        run_id: run_id.clone(),
        tenant: "store-test".into(),
        platform: "US1".into(),
        api_url: None,
        proof_type: "users".into(),
        criteria: vec![],
        meta: RunMeta {
            title: "List of Users".into(),
            fields: vec![field.clone()],
            key: None,
            collected_at: "2026-12-07T00:00:00Z".into(),
            api_url: "https://qualysapi.qualys.com".into(),
        },
    };
    store.create_run(&run).await.unwrap();
    store.create_run(&run).await.unwrap();
    let rows = vec![vec![Value::Text("alice".into())], vec![Value::Text("bob".into())]];
    let page = PageIn {
        seq: 0,
        cursor_in: None,
        next_cursor: Some("next"),
        requests: 1,
        rows: &rows,
        warnings: &[],
        applied_criteria: &[],
    };
    let fields = [field.field().unwrap()];
    assert!(store.write_page(&run_id, &fields, &page).await.unwrap(), "written");
    assert!(!store.write_page(&run_id, &fields, &page).await.unwrap(), "a second write changes nothing");
    let status = store.status(&run_id).await.unwrap();
    assert_eq!((status.pages, status.rows, status.requests), (1, 2, 1));
    let kept = store.page(&run_id, 0).await.unwrap().unwrap();
    assert_eq!(kept.next_cursor.as_deref(), Some("next"));
}
