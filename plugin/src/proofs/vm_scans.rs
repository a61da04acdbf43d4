//! List of VM Scans: `/api/3.0/fo/scan/?action=list`.
//!
//! Source: Qualys API (VM, PC) User Guide, "Scan List" (VM scans) and `scan_list_output.dtd`:
//! SCAN_LIST_OUTPUT > RESPONSE > (DATETIME, SCAN_LIST > SCAN*) with REF, TYPE, TITLE,
//! USER_LOGIN, LAUNCH_DATETIME, DURATION, PROCESSING_PRIORITY, PROCESSED, STATUS (STATE,
//! SUB_STATE), TARGET, ASSET_GROUP_TITLE_LIST, OPTION_PROFILE (TITLE, DEFAULT_FLAG).

use crate::model::{FieldSpec, Kind::*, ProofSpec, field};
use crate::xml::RecordMap;

use super::scan_list::{self, ScanList};

static FIELDS: &[FieldSpec] = scan_list::scan_fields!(
    first: [],
    after_duration: [field("processing_priority", "Processing priority", Text, "PROCESSING_PRIORITY.")],
    processed_into: "host data"
);

static SPEC: ProofSpec = ProofSpec {
    key: &[&["scan_ref"]],
    id: "vm-scans",
    title: "List of VM Scans",
    description: "Vulnerability scans launched in a period: who launched them, when, on what target, \
                  with which option profile, and how they ended.",
    fields: FIELDS,
    criteria: &scan_list::CRITERIA,
};

static MAP: RecordMap = scan_list::scan_map!(("PROCESSING_PRIORITY", "processing_priority"));

/// The proof type (registered in [`super::REGISTRY`]).
pub static PROOF: ScanList = ScanList {
    spec: &SPEC,
    endpoint: &[crate::endpoints::VM_SCAN_LIST],
    params: &[("action", "list"), ("show_ags", "1"), ("show_op", "1"), ("show_status", "1")],
    map: &MAP,
    launched_field: "launched_at",
};
