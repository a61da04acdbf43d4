//! List of PC Scans: `/api/2.0/fo/scan/compliance/?action=list`.
//!
//! Source: Qualys API (VM, PC) User Guide, "Compliance Scan List" and its output DTD:
//! SCAN_LIST_OUTPUT > RESPONSE > (DATETIME, SCAN_LIST > SCAN*) with ID, REF, TYPE, TITLE,
//! USER_LOGIN, LAUNCH_DATETIME, DURATION, PROCESSED, STATUS (STATE, SUB_STATE), TARGET,
//! ASSET_GROUP_TITLE_LIST, OPTION_PROFILE (TITLE, DEFAULT_FLAG).

use crate::model::{CriterionSpec, FieldSpec, Kind::*, ProofSpec, field};
use crate::xml::RecordMap;

use super::scan_list::{self, ScanList};

static FIELDS: &[FieldSpec] = &[
    field("scan_id", "Scan ID", Integer, "ID: the compliance scan's numeric id."),
    field("scan_ref", "Scan reference", Text, "REF: e.g. compliance/1700000000.12345."),
    field("title", "Title", Text, "TITLE."),
    field("type", "Type", Text, "TYPE: On-Demand, Scheduled or API."),
    field("user_login", "Launched by", Text, "USER_LOGIN."),
    field("launched_at", "Launched", Timestamp, "LAUNCH_DATETIME, UTC."),
    field("duration", "Duration", Text, "DURATION: HH:MM:SS, or a word such as Pending."),
    field("processed", "Processed", Boolean, "PROCESSED: results were processed into posture data."),
    field("state", "State", Text, "STATUS/STATE: Running, Paused, Canceled, Finished, Error, Queued..."),
    field("sub_state", "Sub-state", Text, "STATUS/SUB_STATE."),
    field("target", "Target", Text, "TARGET: the IPs or ranges scanned."),
    field("asset_groups", "Asset groups", TextList, "ASSET_GROUP_TITLE_LIST/ASSET_GROUP_TITLE."),
    field("option_profile", "Option profile", Text, "OPTION_PROFILE/TITLE."),
    field("option_profile_default", "Default profile", Boolean, "OPTION_PROFILE/DEFAULT_FLAG."),
];

const STATES: &[&str] = &["Running", "Paused", "Canceled", "Finished", "Error", "Queued", "Loading"];
const TYPES: &[&str] = &["On-Demand", "Scheduled", "API"];
static CRITERIA: [CriterionSpec; 4] = scan_list::criteria(STATES, TYPES);

static SPEC: ProofSpec = ProofSpec {
    key: &[&["scan_ref"]],
    id: "pc-scans",
    title: "List of PC Scans",
    description: "Policy compliance scans launched in a period: who launched them, when, on what \
                  target, with which option profile, and how they ended.",
    fields: FIELDS,
    criteria: &CRITERIA,
};

static MAP: RecordMap = RecordMap {
    root: "SCAN_LIST_OUTPUT",
    record: "RESPONSE/SCAN_LIST/SCAN",
    columns: &[
        ("ID", "scan_id"),
        ("REF", "scan_ref"),
        ("TITLE", "title"),
        ("TYPE", "type"),
        ("USER_LOGIN", "user_login"),
        ("LAUNCH_DATETIME", "launched_at"),
        ("DURATION", "duration"),
        ("PROCESSED", "processed"),
        ("STATUS/STATE", "state"),
        ("STATUS/SUB_STATE", "sub_state"),
        ("TARGET", "target"),
        ("ASSET_GROUP_TITLE_LIST/ASSET_GROUP_TITLE", "asset_groups"),
        ("OPTION_PROFILE/TITLE", "option_profile"),
        ("OPTION_PROFILE/DEFAULT_FLAG", "option_profile_default"),
    ],
    captures: &[],
    // RESPONSE (DATETIME, SCAN_LIST?): an empty list has DATETIME and no SCAN_LIST.
    required: &["RESPONSE/DATETIME"],
};

/// The proof type (registered in [`super::REGISTRY`]).
pub static PROOF: ScanList = ScanList {
    spec: &SPEC,
    endpoint: &[crate::endpoints::PC_SCAN_LIST],
    params: &[("action", "list"), ("show_ags", "1"), ("show_op", "1")],
    map: &MAP,
    launched_field: "launched_at",
};
