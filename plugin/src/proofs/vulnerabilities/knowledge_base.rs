//! The KnowledgeBase lookup: one call for a page's distinct QIDs, joined into its rows.

use std::collections::HashMap;
use std::io::BufRead;

use super::idx;
use crate::endpoints;
use crate::error::Error;
use crate::http::client::Call;
use crate::model::{FieldSpec, Kind::*, ProofSpec, Row, Value, field};
use crate::xml::{self, RecordMap};

static KB_FIELDS: &[FieldSpec] = &[
    field("qid", "QID", Integer, ""),
    field("title", "Title", Text, ""),
    field("cve_ids", "CVEs", TextList, ""),
    field("cvss3_base", "CVSS v3 base", Text, ""),
];
static KB_SPEC: ProofSpec = ProofSpec {
    id: "knowledge-base",
    title: "KnowledgeBase",
    description: "",
    fields: KB_FIELDS,
    criteria: &[],
    key: &[],
};

static MAP: RecordMap = RecordMap {
    root: "KNOWLEDGE_BASE_VULN_LIST_OUTPUT",
    record: "RESPONSE/VULN_LIST/VULN",
    columns: &[
        ("QID", "qid"),
        ("TITLE", "title"),
        ("CVE_LIST/CVE/ID", "cve_ids"),
        ("CVSS_V3/BASE", "cvss3_base"),
    ],
    captures: &[],
    // RESPONSE (DATETIME, (VULN_LIST|ID_SET)?, WARNING?) (doc); unknown QIDs are absent.
    required: &["RESPONSE/DATETIME"],
};

/// The KnowledgeBase request for these QIDs (a POST form: a page may name thousands).
pub fn call(qids: &[i64]) -> Call {
    let ids: Vec<String> = qids.iter().map(i64::to_string).collect();
    let ids = ids.join(",");
    Call::post_form(endpoints::KNOWLEDGE_BASE, &[("action", "list"), ("details", "All"), ("ids", &ids)])
}

/// What the KnowledgeBase says of a QID.
#[derive(Debug, Clone)]
pub struct Entry {
    pub title: Value,
    pub cves: Value,
    pub cvss3_base: Value,
}

/// Reads a KnowledgeBase answer for `asked` QIDs; more entries than asked is refused.
pub fn parse(body: &mut dyn BufRead, asked: usize) -> Result<HashMap<i64, Entry>, Error> {
    let parsed = xml::read_records(body, &MAP, &KB_SPEC, None, asked.max(1) * 2)?;
    let mut out = HashMap::with_capacity(parsed.rows.len());
    for mut row in parsed.rows {
        let Value::Integer(qid) = row[0] else {
            return Err(Error::malformed("a KnowledgeBase VULN has no QID"));
        };
        let take = |v: &mut Value| std::mem::replace(v, Value::Null);
        out.insert(
            qid,
            Entry { title: take(&mut row[1]), cves: take(&mut row[2]), cvss3_base: take(&mut row[3]) },
        );
    }
    Ok(out)
}

/// Fills title, CVEs and CVSS into the rows; returns the QIDs the KnowledgeBase did not return.
pub fn join(rows: &mut [Row], kb: &HashMap<i64, Entry>) -> Vec<i64> {
    let (qid, title, cves, cvss) = (idx("qid"), idx("title"), idx("cve_ids"), idx("cvss3_base"));
    let mut missing = Vec::new();
    for row in rows.iter_mut() {
        let Value::Integer(q) = row[qid] else { continue };
        match kb.get(&q) {
            Some(e) => {
                row[title] = e.title.clone();
                row[cves] = match &e.cves {
                    Value::Null => Value::TextList(Vec::new()),
                    v => v.clone(),
                };
                row[cvss] = e.cvss3_base.clone();
            }
            None => missing.push(q),
        }
    }
    missing.sort_unstable();
    missing.dedup();
    missing
}
