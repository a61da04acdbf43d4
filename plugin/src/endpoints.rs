//! Every Qualys endpoint the connector calls, with its API version, in one place.
//!
//! Versions are the current ones: Qualys ended support for the `/api/2.0/`–`/api/4.0/` host
//! list in December 2025 (v5.0 is the active one) and lists VM scans under `/api/3.0/`; the
//! compliance scan list is documented only under `/api/2.0/`. The `/msp/` scripts (API v1) and
//! the Asset Management (QPS) REST API 2.0 have a single version.

/// Host list (VM hosts): Qualys API (VM, PC) User Guide, "Host List", API v5.0.
pub const HOST_LIST: &str = "/api/5.0/fo/asset/host/";
/// VM host detection list: Qualys API (VM, PC) User Guide, "Host List Detection", API v5.0.
pub const DETECTION_LIST: &str = "/api/5.0/fo/asset/host/vm/detection/";
/// KnowledgeBase vulnerabilities: Qualys API (VM, PC) User Guide, "KnowledgeBase", API v3.0.
pub const KNOWLEDGE_BASE: &str = "/api/3.0/fo/knowledge_base/vuln/";
/// Account activity log (CSV): Qualys API (VM, PC) User Guide, "Activity Log", API v2.0.
pub const ACTIVITY_LOG: &str = "/api/2.0/fo/activity_log/";
/// Compliance policies: Qualys API (VM, PC) User Guide, "Compliance Policy List", API v2.0.
pub const POLICY_LIST: &str = "/api/2.0/fo/compliance/policy/";
/// Compliance posture: Qualys API (VM, PC) User Guide, "Compliance Posture Information", v2.0.
pub const POSTURE_INFO: &str = "/api/2.0/fo/compliance/posture/info/";
/// VM scan list: Qualys API (VM, PC) User Guide, "Scan List", API v3.0.
pub const VM_SCAN_LIST: &str = "/api/3.0/fo/scan/";
/// Compliance scan list: Qualys API (VM, PC) User Guide, "Compliance Scan List", API v2.0.
pub const PC_SCAN_LIST: &str = "/api/2.0/fo/scan/compliance/";
/// Cloud Agent and other host assets: Qualys Asset Management & Tagging API, "Search HostAssets".
pub const HOST_ASSET_SEARCH: &str = "/qps/rest/2.0/search/am/hostasset";
/// Remediation tickets: Qualys API v1 User Guide, "ticket_list.php".
pub const TICKET_LIST: &str = "/msp/ticket_list.php";
/// Users: Qualys API v1 User Guide, "user_list.php".
pub const USER_LIST: &str = "/msp/user_list.php";
/// The cheapest authenticated call: Qualys API v1 User Guide, "about.php".
pub const ABOUT: &str = "/msp/about.php";
