//! The documented content models of every document the simulator serves, as data (DTD
//! syntax, see `content_model`), keyed by root element: the conformance tests check the
//! simulator's documents against them, and the workspace's registry-wide test checks that the
//! route of every proof type's source has one and that its fixtures follow it.
//!
//! Models cite their source kind like the field notes do: doc (Qualys documentation or DTD),
//! sdk (public clients), real (recorded responses), unverified. Where the notes list children
//! without saying which are optional, the optionality chosen here is marked "(chosen)".

use super::content_model::Schema;

/// The model of documents with this root element, when one is written down.
pub fn for_root(root: &str) -> Option<Schema> {
    Some(match root {
        "HOST_LIST_OUTPUT" => host_list_model(),
        "SIMPLE_RETURN" => simple_return_model(),
        "GENERIC_RETURN" => generic_return_model(),
        "REMEDIATION_TICKETS" => tickets_model(),
        "USER_LIST_OUTPUT" => users_model(),
        "SCAN_LIST_OUTPUT" => scans_model(),
        "ServiceResponse" => qps_model(),
        "ABOUT" => about_model(),
        "HOST_LIST_VM_DETECTION_OUTPUT" => detections_model(),
        "KNOWLEDGE_BASE_VULN_LIST_OUTPUT" => knowledge_base_model(),
        "POLICY_LIST_OUTPUT" => policy_list_model(),
        "POSTURE_INFO_LIST_OUTPUT" => posture_model(),
        _ => return None,
    })
}

/// Host list (doc: host_list_output.dtd; sdk: the 2025 fields).
pub fn host_list_model() -> Schema {
    Schema::new("HOST_LIST_OUTPUT")
        .element("HOST_LIST_OUTPUT", "(REQUEST?, RESPONSE)")
        .element("RESPONSE", "(DATETIME, (HOST_LIST | ID_SET)?, WARNING?, GLOSSARY?)")
        .element("HOST_LIST", "(HOST+)")
        .element("WARNING", "(CODE?, TEXT, URL?)")
        // doc order; sdk (2025): TRURISK_SCORE / TRURISK_SCORE_FACTORS "instead of"
        // ASSET_RISK_SCORE / ARS_FACTORS, written as a choice at the same place (chosen), and
        // LAST_BOOT .. CLOUD_AGENT_RUNNING_ON after QG_HOSTID.
        .element(
            "HOST",
            "(ID, ASSET_ID?, IP?, IPV6?, (ASSET_RISK_SCORE | TRURISK_SCORE)?, ASSET_CRITICALITY_SCORE?,
              (ARS_FACTORS | TRURISK_SCORE_FACTORS)?, TRACKING_METHOD?, NETWORK_ID?, DNS?, DNS_DATA?,
              CLOUD_PROVIDER?, CLOUD_SERVICE?, CLOUD_RESOURCE_ID?, EC2_INSTANCE_ID?, NETBIOS?, OS?,
              QG_HOSTID?, LAST_BOOT?, SERIAL_NUMBER?, HARDWARE_UUID?, FIRST_FOUND_DATE?,
              LAST_ACTIVITY?, AGENT_STATUS?, CLOUD_AGENT_RUNNING_ON?, TAGS?, METADATA?,
              CLOUD_PROVIDER_TAGS?, LAST_VULN_SCAN_DATETIME?, LAST_VM_SCANNED_DATE?,
              LAST_VM_SCANNED_DURATION?, LAST_VM_AUTH_SCANNED_DATE?, LAST_VM_AUTH_SCANNED_DURATION?,
              LAST_COMPLIANCE_SCAN_DATETIME?, LAST_SCAP_SCAN_DATETIME?, OWNER?, COMMENTS?, USER_DEF?,
              ASSET_GROUP_IDS?)",
        )
        .text(&[
            "DATETIME",
            "CODE",
            "TEXT",
            "URL",
            "ID",
            "ASSET_ID",
            "IP",
            "IPV6",
            "ASSET_RISK_SCORE",
            "TRURISK_SCORE",
            "ASSET_CRITICALITY_SCORE",
            "TRACKING_METHOD",
            "NETWORK_ID",
            "DNS",
            "CLOUD_PROVIDER",
            "CLOUD_SERVICE",
            "CLOUD_RESOURCE_ID",
            "EC2_INSTANCE_ID",
            "NETBIOS",
            "OS",
            "QG_HOSTID",
            "LAST_BOOT",
            "SERIAL_NUMBER",
            "HARDWARE_UUID",
            "FIRST_FOUND_DATE",
            "LAST_ACTIVITY",
            "AGENT_STATUS",
            "CLOUD_AGENT_RUNNING_ON",
            "LAST_VULN_SCAN_DATETIME",
            "LAST_VM_SCANNED_DATE",
            "LAST_VM_SCANNED_DURATION",
            "LAST_VM_AUTH_SCANNED_DATE",
            "LAST_VM_AUTH_SCANNED_DURATION",
            "LAST_COMPLIANCE_SCAN_DATETIME",
            "LAST_SCAP_SCAN_DATETIME",
            "OWNER",
            "COMMENTS",
            "ASSET_GROUP_IDS",
        ])
        // Subtrees the notes do not describe.
        .any(&[
            "REQUEST",
            "ID_SET",
            "GLOSSARY",
            "ARS_FACTORS",
            "TRURISK_SCORE_FACTORS",
            "DNS_DATA",
            "TAGS",
            "METADATA",
            "CLOUD_PROVIDER_TAGS",
            "USER_DEF",
        ])
}

/// API v2 errors (doc: simple_return.dtd).
pub fn simple_return_model() -> Schema {
    Schema::new("SIMPLE_RETURN")
        .element("SIMPLE_RETURN", "(REQUEST?, RESPONSE)")
        .element("RESPONSE", "(DATETIME, CODE?, TEXT, ITEM_LIST?)")
        .text(&["DATETIME", "CODE", "TEXT"])
        .any(&["REQUEST", "ITEM_LIST"])
}

/// API v1 errors (sdk: GENERIC_RETURN / RETURN with status and number; the API element is
/// unverified, so optional here).
pub fn generic_return_model() -> Schema {
    Schema::new("GENERIC_RETURN")
        .element("GENERIC_RETURN", "(API?, RETURN)")
        .element("API", "EMPTY")
        .text(&["RETURN"])
        .required_attrs("RETURN", &["status", "number"])
}

/// Ticket list (doc: ticket_list_output.dtd, "Ticket List"; the ERROR branch: one copy of the
/// v1 guide).
pub fn tickets_model() -> Schema {
    Schema::new("REMEDIATION_TICKETS")
        .element("REMEDIATION_TICKETS", "(ERROR | (HEADER, TICKET_LIST?, TRUNCATION?))")
        .element("HEADER", "(USER_LOGIN, COMPANY, DATETIME, WHERE?)")
        .element("TICKET_LIST", "(TICKET+)")
        // The notes list every TICKET child without optionality; DUE_DATETIME, CURRENT_STATUS,
        // ASSIGNEE, STATS, HISTORY_LIST, VULNINFO and DETAILS are optional here (chosen).
        .element(
            "TICKET",
            "(NUMBER, CREATION_DATETIME, DUE_DATETIME?, CURRENT_STATE, CURRENT_STATUS?, INVALID,
              ASSIGNEE?, DETECTION, STATS?, HISTORY_LIST?, VULNINFO?, DETAILS?)",
        )
        .element("ASSIGNEE", "(NAME, EMAIL, LOGIN)")
        // doc: IP, DNSNAME, NBHNAME, SERVICE, then PORT, PROTOCOL, FQDN in some outputs; all but
        // IP optional (chosen).
        .element("DETECTION", "(IP, DNSNAME?, NBHNAME?, SERVICE?, PORT?, PROTOCOL?, FQDN?)")
        // LAST_OPEN/LAST_CLOSED optional (chosen: a ticket never closed has no close date);
        // LAST_RESOLVED_DATETIME is unverified, allowed before LAST_CLOSED_DATETIME (chosen).
        .element(
            "STATS",
            "(FIRST_FOUND_DATETIME, LAST_FOUND_DATETIME, LAST_SCAN_DATETIME, TIMES_FOUND,
              TIMES_NOT_FOUND, LAST_OPEN_DATETIME?, LAST_RESOLVED_DATETIME?, LAST_CLOSED_DATETIME?)",
        )
        // CVE_ID_LIST and VENDOR_REF_LIST optional (chosen: not every vulnerability has them).
        .element(
            "VULNINFO",
            "(TITLE, TYPE, QID, SEVERITY, STANDARD_SEVERITY, CVE_ID_LIST?, VENDOR_REF_LIST?)",
        )
        .element("CVE_ID_LIST", "(CVE_ID+)")
        .text(&[
            "ERROR",
            "USER_LOGIN",
            "COMPANY",
            "DATETIME",
            "TRUNCATION",
            "NUMBER",
            "CREATION_DATETIME",
            "DUE_DATETIME",
            "CURRENT_STATE",
            "CURRENT_STATUS",
            "INVALID",
            "NAME",
            "EMAIL",
            "LOGIN",
            "IP",
            "DNSNAME",
            "NBHNAME",
            "SERVICE",
            "PORT",
            "PROTOCOL",
            "FQDN",
            "FIRST_FOUND_DATETIME",
            "LAST_FOUND_DATETIME",
            "LAST_SCAN_DATETIME",
            "TIMES_FOUND",
            "TIMES_NOT_FOUND",
            "LAST_OPEN_DATETIME",
            "LAST_RESOLVED_DATETIME",
            "LAST_CLOSED_DATETIME",
            "TITLE",
            "TYPE",
            "QID",
            "SEVERITY",
            "STANDARD_SEVERITY",
            "CVE_ID",
        ])
        // The notes do not give these children.
        .any(&["WHERE", "HISTORY_LIST", "VENDOR_REF_LIST", "DETAILS"])
        .required_attrs("ERROR", &["number"])
        .required_attrs("TRUNCATION", &["last"])
}

/// User list (sdk: USER children in order; doc + sdk: the ERROR branch).
pub fn users_model() -> Schema {
    Schema::new("USER_LIST_OUTPUT")
        .element("USER_LIST_OUTPUT", "(ERROR | USER_LIST)")
        .element("USER_LIST", "(USER*)")
        .element(
            "USER",
            "(USER_LOGIN, USER_ID, EXTERNAL_ID?, CONTACT_INFO, ASSIGNED_ASSET_GROUPS?, USER_STATUS,
              CREATION_DATE, LAST_LOGIN_DATE, USER_ROLE, BUSINESS_UNIT, UNIT_MANAGER_POC, MANAGER_POC,
              UI_INTERFACE_STYLE, PERMISSIONS, NOTIFICATIONS)",
        )
        .element(
            "CONTACT_INFO",
            "(FIRSTNAME, LASTNAME, TITLE, PHONE, FAX, EMAIL, COMPANY, ADDRESS1, ADDRESS2, CITY, COUNTRY,
              STATE, ZIP_CODE, TIME_ZONE_CODE)",
        )
        .text(&[
            "ERROR",
            "USER_LOGIN",
            "USER_ID",
            "EXTERNAL_ID",
            "USER_STATUS",
            "CREATION_DATE",
            "LAST_LOGIN_DATE",
            "USER_ROLE",
            "BUSINESS_UNIT",
            "UNIT_MANAGER_POC",
            "MANAGER_POC",
            "UI_INTERFACE_STYLE",
            "FIRSTNAME",
            "LASTNAME",
            "TITLE",
            "PHONE",
            "FAX",
            "EMAIL",
            "COMPANY",
            "ADDRESS1",
            "ADDRESS2",
            "CITY",
            "COUNTRY",
            "STATE",
            "ZIP_CODE",
            "TIME_ZONE_CODE",
        ])
        .any(&["ASSIGNED_ASSET_GROUPS", "PERMISSIONS", "NOTIFICATIONS"])
        .required_attrs("ERROR", &["number"])
}

/// VM and PC scan lists (doc: scan_list_output.dtd; v3.0 keeps the v2.0 shape).
pub fn scans_model() -> Schema {
    Schema::new("SCAN_LIST_OUTPUT")
        .element("SCAN_LIST_OUTPUT", "(REQUEST?, RESPONSE)")
        .element("RESPONSE", "(DATETIME, SCAN_LIST?)")
        .element("SCAN_LIST", "(SCAN+)")
        .element(
            "SCAN",
            "(ID?, REF, SCAN_TYPE?, TYPE, TITLE, CLIENT?, USER_LOGIN, LAUNCH_DATETIME, DURATION,
              PROCESSING_PRIORITY?, PROCESSED, STATUS?, TARGET?, ASSET_GROUP_TITLE_LIST?, OPTION_PROFILE?)",
        )
        .element("STATUS", "(STATE, SUB_STATE?)")
        .element("OPTION_PROFILE", "(TITLE, DEFAULT_FLAG?)")
        .text(&[
            "DATETIME",
            "ID",
            "REF",
            "SCAN_TYPE",
            "TYPE",
            "TITLE",
            "USER_LOGIN",
            "LAUNCH_DATETIME",
            "DURATION",
            "PROCESSING_PRIORITY",
            "PROCESSED",
            "STATE",
            "SUB_STATE",
            "TARGET",
            "DEFAULT_FLAG",
        ])
        .any(&["REQUEST", "CLIENT", "ASSET_GROUP_TITLE_LIST"])
}

/// QPS search (real: recorded ServiceResponses). HostAsset is JSON-like and unordered: any
/// children, `id` among them.
pub fn qps_model() -> Schema {
    Schema::new("ServiceResponse")
        .element(
            "ServiceResponse",
            "(responseCode, count?, hasMoreRecords?, lastId?, data?, responseErrorDetails?)",
        )
        .element("data", "(HostAsset*)")
        .element("HostAsset", "ANY CONTAINING (id)")
        .element("responseErrorDetails", "(errorMessage, errorResolution)")
        .text(&["responseCode", "count", "hasMoreRecords", "lastId", "errorMessage", "errorResolution"])
}

/// About (unverified: the notes do not record it; ERROR branch by analogy with the v1 roots).
pub fn about_model() -> Schema {
    Schema::new("ABOUT")
        .element("ABOUT", "(ERROR | (API-VERSION, WEB-VERSION, SCANNER-VERSION, VULNSIGS-VERSION))")
        .text(&["ERROR", "API-VERSION", "WEB-VERSION", "SCANNER-VERSION", "VULNSIGS-VERSION"])
        .required_attrs("ERROR", &["number"])
}

/// Host detection list (doc: the detection DTD's content model as quoted in public code and
/// the field notes; newer outputs add elements, which are not listed here).
pub fn detections_model() -> Schema {
    Schema::new("HOST_LIST_VM_DETECTION_OUTPUT")
        .element("HOST_LIST_VM_DETECTION_OUTPUT", "(REQUEST?, RESPONSE)")
        .element("RESPONSE", "(DATETIME, HOST_LIST?, WARNING?)")
        .element("HOST_LIST", "(HOST+)")
        .element("WARNING", "(CODE?, TEXT, URL?)")
        .element(
            "HOST",
            "(ID, ASSET_ID?, IP?, IPV6?, TRACKING_METHOD?, NETWORK_ID?, OS?, OS_CPE?, DNS?, DNS_DATA?,
              CLOUD_PROVIDER?, CLOUD_SERVICE?, CLOUD_RESOURCE_ID?, EC2_INSTANCE_ID?, NETBIOS?,
              QG_HOSTID?, LAST_SCAN_DATETIME?, LAST_VM_SCANNED_DATE?, LAST_VM_SCANNED_DURATION?,
              LAST_VM_AUTH_SCANNED_DATE?, LAST_VM_AUTH_SCANNED_DURATION?, LAST_PC_SCANNED_DATE?,
              TAGS?, METADATA?, CLOUD_PROVIDER_TAGS?, DETECTION_LIST)",
        )
        .element("DETECTION_LIST", "(DETECTION+)")
        .element(
            "DETECTION",
            "(QID, TYPE, SEVERITY?, PORT?, PROTOCOL?, FQDN?, SSL?, INSTANCE?, RESULTS?, STATUS?,
              FIRST_FOUND_DATETIME?, LAST_FOUND_DATETIME?, QDS?, QDS_FACTORS?, TIMES_FOUND?,
              LAST_TEST_DATETIME?, LAST_UPDATE_DATETIME?, LAST_FIXED_DATETIME?,
              FIRST_REOPENED_DATETIME?, LAST_REOPENED_DATETIME?, TIMES_REOPENED?, SERVICE?,
              IS_IGNORED?, IS_DISABLED?, AFFECT_RUNNING_KERNEL?, AFFECT_RUNNING_SERVICE?,
              AFFECT_EXPLOITABLE_CONFIG?, LAST_PROCESSED_DATETIME?, ASSET_CVE?)",
        )
        .text(&[
            "DATETIME",
            "CODE",
            "TEXT",
            "URL",
            "ID",
            "ASSET_ID",
            "IP",
            "IPV6",
            "TRACKING_METHOD",
            "NETWORK_ID",
            "OS",
            "OS_CPE",
            "DNS",
            "CLOUD_PROVIDER",
            "CLOUD_SERVICE",
            "CLOUD_RESOURCE_ID",
            "EC2_INSTANCE_ID",
            "NETBIOS",
            "QG_HOSTID",
            "LAST_SCAN_DATETIME",
            "LAST_VM_SCANNED_DATE",
            "LAST_VM_SCANNED_DURATION",
            "LAST_VM_AUTH_SCANNED_DATE",
            "LAST_VM_AUTH_SCANNED_DURATION",
            "LAST_PC_SCANNED_DATE",
            "QID",
            "TYPE",
            "SEVERITY",
            "PORT",
            "PROTOCOL",
            "FQDN",
            "SSL",
            "INSTANCE",
            "RESULTS",
            "STATUS",
            "FIRST_FOUND_DATETIME",
            "LAST_FOUND_DATETIME",
            "QDS",
            "TIMES_FOUND",
            "LAST_TEST_DATETIME",
            "LAST_UPDATE_DATETIME",
            "LAST_FIXED_DATETIME",
            "FIRST_REOPENED_DATETIME",
            "LAST_REOPENED_DATETIME",
            "TIMES_REOPENED",
            "SERVICE",
            "IS_IGNORED",
            "IS_DISABLED",
            "AFFECT_RUNNING_KERNEL",
            "AFFECT_RUNNING_SERVICE",
            "AFFECT_EXPLOITABLE_CONFIG",
            "LAST_PROCESSED_DATETIME",
            "ASSET_CVE",
        ])
        .any(&["REQUEST", "DNS_DATA", "TAGS", "METADATA", "CLOUD_PROVIDER_TAGS", "QDS_FACTORS"])
}

/// KnowledgeBase vulnerability list (doc: the DTD as quoted in public code and the field
/// notes, which elide some VULN children: those are allowed anywhere among them here).
pub fn knowledge_base_model() -> Schema {
    Schema::new("KNOWLEDGE_BASE_VULN_LIST_OUTPUT")
        .element("KNOWLEDGE_BASE_VULN_LIST_OUTPUT", "(REQUEST?, RESPONSE)")
        .element("RESPONSE", "(DATETIME, (VULN_LIST | ID_SET)?, WARNING?)")
        .element("VULN_LIST", "(VULN+)")
        .element("WARNING", "(CODE?, TEXT, URL?)")
        // The notes write "..." between some children; the ones they name keep their order.
        .element(
            "VULN",
            "(QID, VULN_TYPE, SEVERITY_LEVEL, TITLE, CATEGORY?, PUBLISHED_DATETIME, PATCHABLE,
              CVE_LIST?, CVSS?, CVSS_V3?, DISCOVERY)",
        )
        .element("CVE_LIST", "(CVE+)")
        .element("CVE", "(ID, URL)")
        .element("CVSS_V3", "(BASE?, TEMPORAL?)")
        .text(&[
            "DATETIME",
            "CODE",
            "TEXT",
            "URL",
            "QID",
            "VULN_TYPE",
            "SEVERITY_LEVEL",
            "TITLE",
            "CATEGORY",
            "PUBLISHED_DATETIME",
            "PATCHABLE",
            "ID",
            "BASE",
            "TEMPORAL",
        ])
        .any(&["REQUEST", "ID_SET", "CVSS", "DISCOVERY"])
}

/// Compliance policy list (doc for the root and RESPONSE; POLICY's children beyond ID and
/// TITLE are not in the field notes and are allowed as they come).
pub fn policy_list_model() -> Schema {
    Schema::new("POLICY_LIST_OUTPUT")
        .element("POLICY_LIST_OUTPUT", "(REQUEST?, RESPONSE)")
        .element("RESPONSE", "(DATETIME, POLICY_LIST?)")
        .element("POLICY_LIST", "(POLICY+)")
        .text(&["DATETIME", "ID", "TITLE"])
        .any(&["REQUEST", "POLICY"])
}

/// Compliance posture (sdk: INFO_LIST/INFO, GLOSSARY with HOST_LIST/HOST and
/// CONTROL_LIST/CONTROL, WARNING/URL; the order of RESPONSE's children and the POLICY element
/// are unverified: chosen as the host list's, WARNING before GLOSSARY).
pub fn posture_model() -> Schema {
    Schema::new("POSTURE_INFO_LIST_OUTPUT")
        .element("POSTURE_INFO_LIST_OUTPUT", "(REQUEST?, RESPONSE)")
        .element("RESPONSE", "(DATETIME, POLICY?, INFO_LIST?, WARNING?, GLOSSARY?)")
        .element("INFO_LIST", "(INFO+)")
        .element("WARNING", "(CODE?, TEXT, URL?)")
        .element("GLOSSARY", "(HOST_LIST?, CONTROL_LIST?, TECHNOLOGY_LIST?)")
        .element("HOST_LIST", "(HOST+)")
        .element("CONTROL_LIST", "(CONTROL+)")
        .element("TECHNOLOGY_LIST", "(TECHNOLOGY+)")
        .text(&["DATETIME", "CODE", "TEXT", "URL"])
        .any(&["REQUEST", "POLICY", "INFO", "HOST", "CONTROL", "TECHNOLOGY"])
}
