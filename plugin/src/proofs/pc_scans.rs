//! List of PC Scans: `/api/2.0/fo/scan/compliance/?action=list`.
//!
//! Source: Qualys API (VM, PC) User Guide, "Compliance Scan List" and its output DTD:
//! SCAN_LIST_OUTPUT > RESPONSE > (DATETIME, SCAN_LIST > SCAN*) with ID, REF, TYPE, TITLE,
//! USER_LOGIN, LAUNCH_DATETIME, DURATION, PROCESSED, STATUS (STATE, SUB_STATE), TARGET,
//! ASSET_GROUP_TITLE_LIST, OPTION_PROFILE (TITLE, DEFAULT_FLAG).

use crate::model::{FieldSpec, Kind::*, ProofSpec, field};
use crate::xml::RecordMap;

use super::scan_list::{self, ScanList};

static FIELDS: &[FieldSpec] = scan_list::scan_fields!(
    first: [field("scan_id", "Scan ID", Integer, "ID: the compliance scan's numeric id.")],
    after_duration: [],
    processed_into: "posture data"
);

static SPEC: ProofSpec = ProofSpec {
    key: &[&["scan_ref"]],
    id: "pc-scans",
    title: "List of PC Scans",
    description: "Policy compliance scans launched in a period: who launched them, when, on what \
                  target, with which option profile, and how they ended.",
    fields: FIELDS,
    criteria: &scan_list::CRITERIA,
};

static MAP: RecordMap = scan_list::scan_map!(("ID", "scan_id"));

/// The proof type (registered in [`super::REGISTRY`]).
pub static PROOF: ScanList = ScanList {
    spec: &SPEC,
    endpoint: &[crate::endpoints::PC_SCAN_LIST],
    params: &[("action", "list"), ("show_ags", "1"), ("show_op", "1")],
    map: &MAP,
    launched_field: "launched_at",
};
