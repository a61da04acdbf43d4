//! The Cloud Agent source of the assets proof: the Asset Management API's host asset search,
//! paged by `lastId` (see the parent module for the sources).

use std::io::BufRead;

use super::*;
use crate::criteria::Criteria;
use crate::endpoints;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{Row, Value, Warning};
use crate::proofs::{Position, Resume, SourcePage};
use crate::xml::{self, RecordMap};

static QPS_MAP: RecordMap = RecordMap {
    root: "ServiceResponse",
    record: "data/HostAsset",
    columns: &[
        ("id", "asset_id"),
        ("qwebHostId", "host_id"),
        ("name", "name"),
        ("address", "ip"),
        ("dnsHostName", "dns"),
        ("netbiosName", "netbios"),
        ("os", "os"),
        ("trackingMethod", "tracking_method"),
        ("tags/list/TagSimple/name", "tags"),
        ("lastVulnScan", "last_vuln_scan_at"),
        ("lastComplianceScan", "last_compliance_scan_at"),
        ("agentInfo/agentId", "agent_id"),
        ("agentInfo/agentVersion", "agent_version"),
        ("agentInfo/status", "agent_status"),
        ("agentInfo/lastCheckedIn", "agent_last_checked_in_at"),
        ("agentInfo/platform", "agent_platform"),
        ("created", "created_at"),
    ],
    captures: &[
        "responseCode",
        "count",
        "hasMoreRecords",
        "lastId",
        "responseErrorDetails/errorMessage",
        "responseErrorDetails/errorResolution",
    ],
    // Every answer, errors included, has a responseCode (real); an empty result is `count` 0
    // with no `data` (real), checked in `parse_qps`.
    required: &["responseCode"],
};

impl Assets {
    /// The QPS search for up to `limit` Cloud Agent assets after `last_id`.
    pub fn qps_call(last_id: Option<i64>, limit: usize) -> Call {
        let mut body = String::from("<ServiceRequest><preferences>");
        body.push_str(&format!("<limitResults>{limit}</limitResults></preferences><filters>"));
        body.push_str("<Criteria field=\"trackingMethod\" operator=\"EQUALS\">QAGENT</Criteria>");
        if let Some(id) = last_id {
            body.push_str(&format!("<Criteria field=\"id\" operator=\"GREATER\">{id}</Criteria>"));
        }
        body.push_str("</filters></ServiceRequest>");
        Call::post_xml(endpoints::HOST_ASSET_SEARCH, body)
    }

    /// Parses a QPS search page: rows, and the last id when more records follow.
    pub fn parse_qps(body: &mut dyn BufRead) -> Result<(Vec<Row>, Option<i64>), Error> {
        let parsed = xml::read_records(body, &QPS_MAP, &SPEC, None, QPS_PAGE_SIZE * 2)?;
        let code = parsed.capture(&QPS_MAP, "responseCode").unwrap_or("");
        if code != "SUCCESS" {
            let message = parsed
                .capture(&QPS_MAP, "responseErrorDetails/errorMessage")
                .unwrap_or("the Asset Management API refused the request")
                .to_string();
            return Err(match code {
                "UNAUTHORIZED" | "NOT_AUTHORIZED" | "INSUFFICIENT_PRIVILEGES" | "FORBIDDEN" => {
                    Error::Permission(format!("{message} ({code})"))
                }
                "INVALID_CREDENTIALS" => Error::Authentication(format!("{message} ({code})")),
                _ => Error::Upstream { code: Some(code.to_string()), http_status: None, message },
            });
        }
        // Zero rows only from the documented empty answer: count 0 (real: no data, no
        // hasMoreRecords). A SUCCESS that promises records and holds none is not a result.
        let count = parsed.capture(&QPS_MAP, "count");
        if parsed.rows.is_empty() && count.is_none_or(|c| c.trim() != "0") {
            return Err(Error::malformed(format!(
                "the Asset Management API answered SUCCESS without records and with count {}; \
                 an empty result has count 0",
                count.unwrap_or("missing")
            )));
        }
        let more = parsed.capture(&QPS_MAP, "hasMoreRecords").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let last = match (more, parsed.capture(&QPS_MAP, "lastId")) {
            (true, Some(id)) => Some(
                id.parse::<i64>()
                    .map_err(|_| Error::malformed(format!("QPS lastId {id:?} is not a number")))?,
            ),
            (true, None) => return Err(Error::malformed("QPS hasMoreRecords=true without lastId")),
            (false, _) => None,
        };
        let mut rows = parsed.rows;
        for row in &mut rows {
            row[idx("source")] = Value::Text("cloud_agent".into());
        }
        if let (Some(last), Some(max)) = (last, rows.iter().filter_map(|r| int(r, "asset_id")).max())
            && last != max
        {
            return Err(Error::malformed(format!("QPS lastId {last} is not the page's last asset ({max})")));
        }
        Ok((rows, last))
    }

    pub(super) fn fetch_qps(
        &self,
        client: &Client<'_>,
        criteria: &Criteria,
        at: &Resume<'_>,
    ) -> Result<SourcePage, Error> {
        if !Self::wants_agents(criteria) {
            return Ok(SourcePage { memo: Some(MEMO_QPS_SKIPPED.into()), ..SourcePage::default() });
        }
        let os = Self::os_filter(criteria)?;
        let last_id = match at.position {
            Position::After { id } => Some(*id),
            _ => None,
        };
        match client.call(&Self::qps_call(last_id, QPS_PAGE_SIZE), &mut |body| Self::parse_qps(body)) {
            Ok((rows, last)) => {
                let since = criteria.get("vm_scan_since").map(str::to_string);
                let rows = rows
                    .into_iter()
                    .filter(|r| os.as_ref().is_none_or(|re| text(r, "os").is_some_and(|o| re.is_match(&o))))
                    .filter(|r| match (&since, &r[idx("last_vuln_scan_at")]) {
                        (None, _) => true,
                        (Some(s), Value::Timestamp(t)) => t >= s,
                        (Some(_), _) => false,
                    })
                    .collect();
                Ok(SourcePage { rows, next: last.map(|id| Position::After { id }), ..SourcePage::default() })
            }
            Err(Error::Permission(why)) => Ok(SourcePage {
                warnings: vec![Warning {
                    code: "cloud-agent-permission",
                    message: format!(
                        "Cloud Agent assets are not included ({why}); VM hosts are, agent-tracked ones too. {QPS_SETUP}"
                    ),
                }],
                memo: Some(MEMO_QPS_DENIED.into()),
                ..SourcePage::default()
            }),
            Err(e) => Err(e),
        }
    }
}
