//! The VM host source of the assets proof: `/api/5.0/fo/asset/host/?action=list`, paged by
//! the `id_min` of Qualys' next-page URL (see the parent module for the sources).

use std::io::BufRead;

use super::*;
use crate::criteria::Criteria;
use crate::endpoints;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{Row, Value, Warning};
use crate::proofs::{Position, Resume, SourcePage};
use crate::xml::{self, RecordMap};

static VM_MAP: RecordMap = RecordMap {
    root: "HOST_LIST_OUTPUT",
    record: "RESPONSE/HOST_LIST/HOST",
    columns: &[
        ("ID", "host_id"),
        ("ASSET_ID", "asset_id"),
        ("IP", "ip"),
        ("IPV6", "ipv6"),
        ("TRACKING_METHOD", "tracking_method"),
        ("DNS", "dns"),
        ("NETBIOS", "netbios"),
        ("OS", "os"),
        ("TAGS/TAG/NAME", "tags"),
        ("ASSET_GROUP_IDS", "asset_group_ids"),
        ("LAST_VULN_SCAN_DATETIME", "last_vuln_scan_at"),
        ("LAST_VM_SCANNED_DATE", "last_vm_scanned_at"),
        ("LAST_VM_AUTH_SCANNED_DATE", "last_vm_auth_scanned_at"),
        ("LAST_COMPLIANCE_SCAN_DATETIME", "last_compliance_scan_at"),
        ("OWNER", "owner"),
        ("COMMENTS", "comments"),
        ("CLOUD_PROVIDER", "cloud_provider"),
        ("TRURISK_SCORE", "trurisk_score"),
        ("ASSET_RISK_SCORE", "trurisk_score"),
        ("ASSET_CRITICALITY_SCORE", "asset_criticality_score"),
        ("FIRST_FOUND_DATE", "first_found_at"),
        ("LAST_ACTIVITY", "last_activity_at"),
        ("LAST_ACTIVITY_DATE", "last_activity_at"),
    ],
    captures: &["RESPONSE/WARNING/CODE", "RESPONSE/WARNING/URL"],
    // RESPONSE (DATETIME, (HOST_LIST|ID_SET)?, WARNING?, GLOSSARY?); empty: DATETIME only (real).
    required: &["RESPONSE/DATETIME"],
};

impl Assets {
    /// A VM host list call of `page_size` hosts (from [`Self::page_size`]): the first page, or
    /// the page from `id_min` on. Every page is the same request with a different `id_min`,
    /// always on the configured API server.
    pub fn vm_call(criteria: &Criteria, page_size: usize, id_min: Option<i64>, trurisk: bool) -> Call {
        let limit = page_size.to_string();
        let id_min = id_min.map(|id| id.to_string());
        let mut params: Vec<(&str, &str)> = vec![
            ("action", "list"),
            ("details", "All"),
            ("show_asset_id", "1"),
            ("show_tags", "1"),
            ("truncation_limit", &limit),
        ];
        if trurisk {
            params.push(("show_trurisk", "1"));
        }
        if let Some(p) = criteria.get("os_pattern") {
            params.push(("os_pattern", p));
        }
        // Documented format YYYY-MM-DD[THH:MM:SSZ]; the criterion is already RFC 3339 UTC.
        if let Some(s) = criteria.get("vm_scan_since") {
            params.push(("vm_scan_since", s));
        }
        if let Some(id) = &id_min {
            params.push(("id_min", id));
        }
        Call::get(endpoints::HOST_LIST, &params)
    }

    /// Parses a host list page of the default size: rows, and the next page's `id_min` when
    /// Qualys said more follow.
    pub fn parse_vm(body: &mut dyn BufRead) -> Result<(Vec<Row>, Option<i64>), Error> {
        Self::parse_vm_page(body, VM_PAGE_SIZE)
    }

    /// Parses a host list page asked for with `page_size`; a server that sends more than twice
    /// as many hosts is refused (memory stays bounded by the page size).
    pub fn parse_vm_page(body: &mut dyn BufRead, page_size: usize) -> Result<(Vec<Row>, Option<i64>), Error> {
        let parsed = xml::read_records(body, &VM_MAP, &SPEC, None, page_size * 2)?;
        let next = crate::paging::next_named(
            parsed.capture(&VM_MAP, "RESPONSE/WARNING/CODE"),
            parsed.capture(&VM_MAP, "RESPONSE/WARNING/URL"),
            "id_min",
            "host list",
        )?;
        let mut rows = parsed.rows;
        let (source, name, dns, netbios, groups) =
            (idx("source"), idx("name"), idx("dns"), idx("netbios"), idx("asset_group_ids"));
        for row in &mut rows {
            row[source] = Value::Text("vm".into());
            if row[name] == Value::Null {
                row[name] = row[dns].clone();
                if row[name] == Value::Null {
                    row[name] = row[netbios].clone();
                }
            }
            split_list(&mut row[groups]);
        }
        // No skip check on id_min: host IDs have gaps, so the next page may start anywhere
        // above this page's last ID. Repeats are caught by the paging loop's ordered key.
        Ok((rows, next))
    }

    pub(super) fn fetch_vm(
        &self,
        client: &Client<'_>,
        criteria: &Criteria,
        at: &Resume<'_>,
    ) -> Result<SourcePage, Error> {
        Self::os_filter(criteria)?;
        let page_size = Self::page_size(criteria)?;
        let id_min = match at.position {
            Position::From { id } => Some(*id),
            _ => None,
        };
        let mut trurisk = !memo_has(at.memo, MEMO_NO_TRURISK);
        let mut warnings = Vec::new();
        let mut memo = None;
        let (rows, next) = match client
            .call(&Self::vm_call(criteria, page_size, id_min, trurisk), &mut |body| {
                Self::parse_vm_page(body, page_size)
            }) {
            Err(e) if trurisk && refuses_trurisk(&e) => {
                trurisk = false;
                warnings.push(Warning {
                    code: "trurisk-unavailable",
                    message: format!(
                        "this subscription refused show_trurisk ({e}); assets are listed without \
                             trurisk_score and asset_criticality_score"
                    ),
                });
                memo = Some(memo_with(at.memo, MEMO_NO_TRURISK));
                client.call(&Self::vm_call(criteria, page_size, id_min, trurisk), &mut |body| {
                    Self::parse_vm_page(body, page_size)
                })?
            }
            other => other?,
        };
        let agents_listed = Self::wants_agents(criteria)
            && !memo_has(at.memo, MEMO_QPS_DENIED)
            && !memo_has(at.memo, MEMO_QPS_SKIPPED);
        let wanted = criteria.get("tracking_method");
        let rows = rows
            .into_iter()
            .filter(|r| {
                let method = text(r, "tracking_method").unwrap_or_default();
                // Agent-tracked hosts were listed as Cloud Agent assets already.
                !(agents_listed && method == "AGENT") && wanted.is_none_or(|w| w == method)
            })
            .collect();
        Ok(SourcePage {
            rows,
            next: next.map(|id| Position::From { id }),
            warnings,
            memo,
            applied: Vec::new(),
        })
    }
}

/// Whether a failed host list call refused the `show_trurisk` parameter itself.
fn refuses_trurisk(e: &Error) -> bool {
    matches!(e, Error::Upstream { message, .. } if message.to_ascii_lowercase().contains("show_trurisk"))
}

/// The `id_min` of a host list next-page URL (see [`crate::paging::url_number`]).
pub fn id_min_of(url: &str) -> Result<i64, Error> {
    crate::paging::url_number(url, "id_min", "host list")
}
