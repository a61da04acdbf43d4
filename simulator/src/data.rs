//! Deterministic data sets: every record is derived from (seed, account, index), with the
//! variety real subscriptions have (unicode, missing values, CDATA, long comments).

use crate::rng::{Rng, hash_str};

/// How many records of each kind an account sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub users: u64,
    pub hosts: u64,
    pub agents: u64,
    pub vm_scans: u64,
    pub pc_scans: u64,
    pub tickets: u64,
    /// Detections on each VM host (the detection list lists hosts with at least one).
    pub detections: u64,
    /// Entries of the account activity log.
    pub activity: u64,
    /// Compliance policies.
    pub policies: u64,
    /// Posture records of each policy.
    pub posture: u64,
}

impl Sizes {
    /// The same number of records of every kind (`uniform(0)`: an empty subscription). The
    /// only list of every kind outside [`Default`]: elsewhere, name the kinds you set and take
    /// the rest from one of these, so that a new kind breaks no caller.
    pub const fn uniform(n: u64) -> Sizes {
        // One detection a host and one policy: n detections and n posture records in all, like
        // every other kind.
        let detections = if n > 0 { 1 } else { 0 };
        Sizes {
            users: n,
            hosts: n,
            agents: n,
            vm_scans: n,
            pc_scans: n,
            tickets: n,
            detections,
            activity: n,
            policies: detections,
            posture: n,
        }
    }
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            users: 12,
            hosts: 250,
            agents: 60,
            vm_scans: 40,
            pc_scans: 25,
            tickets: 2500,
            detections: 6,
            activity: 1200,
            policies: 3,
            posture: 400,
        }
    }
}

/// The seed of one account's data.
pub fn account_seed(seed: u64, login: &str, per_account: bool) -> u64 {
    if per_account { seed ^ hash_str(login) } else { seed }
}

/// "Now" for DATETIME elements: fixed, so responses are reproducible.
pub fn now_qualys() -> String {
    "2026-11-01T12:00:00Z".to_string()
}

/// The fixed reference time of every data set, as epoch seconds (2026-11-01T12:00:00Z).
pub const NOW_EPOCH: i64 = 1_793_534_400;

/// Formats epoch seconds as `YYYY-MM-DDTHH:MM:SSZ`, Qualys' API date-time format.
pub fn iso(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let rem = epoch.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Parses `YYYY-MM-DD[THH:MM:SS[Z]]` to epoch seconds (for criteria the simulator honours).
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = if s.len() >= 19 { (num(11..13)?, num(14..16)?, num(17..19)?) } else { (0, 0, 0) };
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400 + h * 3600 + mi * 60 + se)
}

const FIRST: &[&str] =
    &["Alice", "Bob", "Zoë", "José", "Łukasz", "Søren", "Aiko", "Ngozi", "Émile", "Chloé", "李", "Omar"];
const LAST: &[&str] = &[
    "Martin",
    "O'Brien",
    "Müller",
    "Nguyen",
    "García",
    "Smith & Sons",
    "Dubois",
    "Kowalski",
    "王",
    "Okafor",
];
const ROLES: &[&str] = &["Manager", "Unit Manager", "Scanner", "Reader", "Auditor", "Contact"];
const STATUSES: &[&str] = &["Active", "Active", "Active", "Inactive", "Pending Activation"];
const UNITS: &[&str] = &["Unassigned", "Finance", "R&D <Lab>", "Operations"];

/// A simulated user.
pub struct User {
    pub login: String,
    pub id: u64,
    pub external_id: Option<String>,
    pub first: String,
    pub last: String,
    pub title: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub company: String,
    pub status: String,
    pub role: String,
    pub unit: String,
    pub created: String,
    pub last_login: Option<String>,
    pub manager_poc: bool,
    pub unit_manager_poc: bool,
    pub asset_groups: Vec<String>,
    pub fax: Option<String>,
    /// (street, city, state, country, zip code, time zone code).
    pub address: Option<(&'static str, &'static str, &'static str, &'static str, &'static str, &'static str)>,
}

/// Office addresses of the simulated company (made up; the time zone codes are unverified).
const OFFICES: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("919 E Hillsdale Blvd", "Foster City", "California", "United States of America", "94404", "US-CA"),
    ("12 Rue de la Paix", "Paris", "", "France", "75002", "FR"),
    ("Friedrichstraße 50", "Berlin", "", "Germany", "10117", "DE"),
    ("1 Raffles Place", "Singapore", "", "Singapore", "048616", "SG"),
];

/// User `i` of an account; user 0 is the account itself.
pub fn user(seed: u64, account_login: &str, account_role: &str, account_unit: &str, i: u64) -> User {
    let mut r = Rng::new(seed, 1, i);
    let first = r.pick(FIRST).to_string();
    let last = r.pick(LAST).to_string();
    let login = if i == 0 {
        account_login.to_string()
    } else {
        format!("{}_{}{i}", "usr", first.chars().next().unwrap_or('x').to_lowercase())
    };
    let created = crate::data::NOW_EPOCH - 86_400 * (30 + r.below(900) as i64);
    // Fields added later come from their own stream, so earlier fields keep their values.
    let mut more = Rng::new(seed, 11, i);
    User {
        fax: more.chance(10).then(|| format!("+1 555 {:04}", more.below(10_000))),
        address: more.chance(70).then(|| *more.pick(OFFICES)),
        id: 1_000_000 + i * 7 + r.below(5),
        external_id: r.chance(30).then(|| format!("ext-{:06}", r.below(1_000_000))),
        email: format!("{}@example.com", login.to_lowercase()),
        phone: r.chance(50).then(|| format!("+1 555 {:04}", r.below(10_000))),
        title: r
            .chance(70)
            .then(|| r.pick(&["Security Analyst", "CISO", "IT \"Ops\" Lead", "Auditor"]).to_string()),
        company: "Example Corp".to_string(),
        status: if i == 0 { "Active".to_string() } else { r.pick(STATUSES).to_string() },
        role: if i == 0 { account_role.to_string() } else { r.pick(ROLES).to_string() },
        unit: if i == 0 { account_unit.to_string() } else { r.pick(UNITS).to_string() },
        created: iso(created),
        last_login: r.chance(80).then(|| iso(created + r.below(86_400 * 20) as i64)),
        manager_poc: i == 0,
        unit_manager_poc: r.chance(10),
        asset_groups: (0..r.below(3)).map(|k| format!("AG {k} – {}", r.pick(UNITS))).collect(),
        login,
        first,
        last,
    }
}

/// Data days: day 0 is the data set as generated; day `d` ≥ 1 is the same subscription `d` days
/// of changes later, so two collects on two days differ in known records:
/// - users: user `i` ≥ 1 (never the account itself) is gone when `(i + d) % 6 == 0`, its role
///   moves to the next one when `(i + d) % 6 == 3`, and users `count .. count + d` are new;
/// - tickets: ticket `i` moves one state when `(i + d) % 50 == 0` (OPEN → RESOLVED,
///   RESOLVED → CLOSED, CLOSED and IGNORED → OPEN), an hour before the data set's now (or
///   at its latest change, if later).
///
/// Everything else is as on day 0.
pub fn user_indices(count: u64, day: u32) -> impl Iterator<Item = u64> {
    (0..count).filter(move |&i| !user_removed(i, day)).chain(count..count + u64::from(day))
}

/// Whether user `i` of the day-0 set is gone on `day`.
pub fn user_removed(i: u64, day: u32) -> bool {
    day > 0 && i > 0 && (i + u64::from(day)).is_multiple_of(6)
}

/// Whether user `i` of the day-0 set has another role on `day`.
pub fn user_role_changed(i: u64, day: u32) -> bool {
    day > 0 && i > 0 && (i + u64::from(day)) % 6 == 3
}

/// User `i` of an account on `day` (see [`user_indices`]).
pub fn user_on(
    seed: u64,
    account_login: &str,
    account_role: &str,
    account_unit: &str,
    i: u64,
    day: u32,
) -> User {
    let mut u = user(seed, account_login, account_role, account_unit, i);
    if user_role_changed(i, day) {
        let at = ROLES.iter().position(|r| *r == u.role).unwrap_or(0);
        u.role = ROLES[(at + 1) % ROLES.len()].to_string();
    }
    u
}

/// Whether ticket `i` has moved on `day`.
pub fn ticket_moved(i: u64, day: u32) -> bool {
    day > 0 && (i + u64::from(day)).is_multiple_of(50)
}

/// Ticket `i` of `count` on `day` (see [`user_indices`]).
pub fn ticket_on(seed: u64, i: u64, count: u64, day: u32) -> Ticket {
    let mut t = ticket(seed, i, count);
    // An hour before now, or at its latest change when that is later (a close an hour ago).
    let at = (NOW_EPOCH - 3600).max(t.modified());
    if !ticket_moved(i, day) || at > NOW_EPOCH {
        return t;
    }
    let from = t.state;
    t.state = match from {
        "OPEN" => {
            t.resolved = Some(at);
            "RESOLVED"
        }
        "RESOLVED" => {
            t.closed = Some(at);
            "CLOSED"
        }
        _ => "OPEN",
    };
    t.history.push((at, from, t.state));
    t
}

/// The real current time (for "overdue", which Qualys evaluates when asked).
pub fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

const VULNS: &[(u64, &str, u8)] = &[
    (38170, "SSL Certificate - Subject Common Name Does Not Match Server FQDN", 2),
    (90882, "Windows Remote Desktop Protocol Weak Encryption Method Allowed", 2),
    (105943, "EOL/Obsolete Software: Microsoft .NET Framework 4.5.2 Detected", 4),
    (376806, "OpenSSL Multiple Vulnerabilities (OpenSSL Security Advisory 20221101)", 5),
    (11827, "HTTP Security Header Not Detected", 2),
    (45038, "Host Scan Time - Scanner", 1),
    (91866, "Microsoft Windows Security Update for March 2024 & \"Patch Tuesday\" <KB5035845>", 5),
    (150004, "Path-Based Vulnerability", 3),
];

/// The CVEs a vulnerability of [`VULNS`] carries (made up for the simulator, except that they
/// have the CVE id format); empty when it has none.
pub fn cves(qid: u64) -> &'static [&'static str] {
    match qid {
        376806 => &["CVE-2022-3602", "CVE-2022-3786"],
        91866 => &["CVE-2024-21407", "CVE-2024-26169"],
        90882 => &["CVE-2005-1794"],
        _ => &[],
    }
}

/// A simulated remediation ticket.
pub struct Ticket {
    pub number: u64,
    pub created: i64,
    pub due: Option<i64>,
    pub state: &'static str,
    pub invalid: bool,
    pub assignee: (String, String, String),
    pub ip: String,
    pub dns: Option<String>,
    pub netbios: Option<String>,
    pub port: Option<u16>,
    pub protocol: Option<&'static str>,
    pub first_found: i64,
    pub last_found: i64,
    pub last_scan: i64,
    pub times_found: u64,
    pub resolved: Option<i64>,
    pub closed: Option<i64>,
    pub history: Vec<(i64, &'static str, &'static str)>,
    pub qid: u64,
    pub title: &'static str,
    pub severity: u8,
    pub vuln_type: &'static str,
}

impl Ticket {
    /// The latest change (for modified_since).
    pub fn modified(&self) -> i64 {
        self.history.iter().map(|h| h.0).max().unwrap_or(self.created)
    }

    /// Overdue as Qualys evaluates it now.
    pub fn overdue(&self, now: i64) -> bool {
        match self.due {
            None => false,
            Some(d) if self.state == "OPEN" => now > d,
            Some(d) => self.resolved.or(self.closed).is_some_and(|r| r > d),
        }
    }
}

/// Ticket `i` of `count`; numbers ascend with gaps, creation spread over the last 700 days.
pub fn ticket(seed: u64, i: u64, count: u64) -> Ticket {
    let mut r = Rng::new(seed, 5, i);
    let spread = 86_400 * 700 * i as i64 / count.max(1) as i64;
    let created = NOW_EPOCH - 86_400 * 700 + spread + r.below(3600) as i64;
    let state =
        *r.pick(&["OPEN", "OPEN", "OPEN", "RESOLVED", "RESOLVED", "CLOSED", "CLOSED", "CLOSED", "IGNORED"]);
    let (qid, title, base_sev) = *r.pick(VULNS);
    let severity = ((base_sev as u64 + r.below(2)).min(5)) as u8;
    let due = r.chance(85).then(|| created + 86_400 * (7 + r.below(60) as i64));
    let end = created + 3600 * (1 + r.below(24 * 90) as i64);
    // Nothing is resolved or closed in the future: the latest resolution leaves a day for the
    // close that follows it; a ticket created too recently for that is still open.
    let latest_end = NOW_EPOCH - 86_400;
    let state = if state != "OPEN" && created + 3600 > latest_end { "OPEN" } else { state };
    let end = end.min(latest_end);
    let (resolved, closed) = match state {
        "RESOLVED" => (Some(end), None),
        "CLOSED" => (Some(end), Some(end + 86_400)),
        "IGNORED" => (None, Some(end)),
        _ => (None, None),
    };
    let mut history = vec![(created, "", "OPEN")];
    if let Some(t) = resolved {
        history.push((t, "OPEN", "RESOLVED"));
    }
    if let Some(t) = closed {
        history.push((
            t,
            if resolved.is_some() { "RESOLVED" } else { "OPEN" },
            if state == "IGNORED" { "IGNORED" } else { "CLOSED" },
        ));
    }
    let v6 = r.chance(10);
    let who = r.below(5);
    Ticket {
        number: 10_000 + i * 3 + (i % 2),
        created,
        due,
        state,
        invalid: r.chance(3),
        assignee: (
            format!("usr_a{who}"),
            format!("{} {}", FIRST[who as usize], LAST[who as usize]),
            format!("usr_a{who}@example.com"),
        ),
        ip: if v6 {
            format!("2001:db8::{:x}", r.below(65_535))
        } else {
            format!("10.{}.{}.{}", r.below(255), r.below(255), 1 + r.below(254))
        },
        dns: r.chance(70).then(|| format!("host{}.corp.example.com", r.below(5000))),
        netbios: r.chance(40).then(|| format!("HOST{}", r.below(5000))),
        port: r.chance(50).then(|| *r.pick(&[22u16, 80, 443, 3389, 8443])),
        protocol: Some(*r.pick(&["tcp", "udp"])),
        first_found: created - 3600,
        last_found: resolved.unwrap_or(created + 86_400).min(NOW_EPOCH),
        last_scan: (resolved.unwrap_or(created + 86_400) + 3600).min(NOW_EPOCH),
        times_found: 1 + r.below(30),
        resolved,
        closed,
        history,
        qid,
        title,
        severity,
        vuln_type: r.pick_str(&["VULN", "VULN", "VULN", "POSS"]),
    }
}

/// A simulated scan (VM or PC).
pub struct Scan {
    pub id: u64,
    pub reference: String,
    pub scan_type: &'static str,
    pub title: String,
    pub user_login: String,
    pub launched: i64,
    pub duration: String,
    pub priority: &'static str,
    pub processed: bool,
    pub state: &'static str,
    pub sub_state: Option<&'static str>,
    pub target: String,
    pub asset_groups: Vec<String>,
    pub option_profile: &'static str,
    pub default_profile: bool,
}

/// Scan `i` of `count` (VM when `pc` is false); launches spread over the last two years.
pub fn scan(seed: u64, i: u64, count: u64, pc: bool) -> Scan {
    let mut r = Rng::new(seed, if pc { 7 } else { 6 }, i);
    let launched =
        NOW_EPOCH - 86_400 * 730 + 86_400 * 730 * i as i64 / count.max(1) as i64 + r.below(86_400) as i64;
    let state = *r.pick(&[
        "Finished", "Finished", "Finished", "Finished", "Canceled", "Error", "Paused", "Running", "Queued",
    ]);
    let secs = 60 + r.below(4 * 3600);
    // No scan is launched in the future, and a finished one ended before now.
    let launched = launched.min(NOW_EPOCH - secs as i64 - 60);
    let kind = if pc { "scan/compliance" } else { "scan" };
    Scan {
        id: 500_000 + i,
        reference: format!("{}/{}.{:05}", if pc { "compliance" } else { "scan" }, launched, r.below(100_000)),
        scan_type: r.pick_str(&["On-Demand", "Scheduled", "Scheduled", "API"]),
        title: match r.below(4) {
            0 => format!("Weekly {kind} – Servers & DMZ #{i}"),
            1 => format!("Ad hoc <urgent> scan {i}"),
            2 => format!("Quarterly PCI {kind} {i} — «ext»"),
            _ => format!("Scan {i}"),
        },
        user_login: format!("usr_a{}", r.below(5)),
        launched,
        duration: if state == "Running" || state == "Queued" {
            "Pending".into()
        } else {
            format!("{:02}:{:02}:{:02}", secs / 3600, (secs % 3600) / 60, secs % 60)
        },
        priority: r.pick_str(&["0 - No Priority", "1 - Emergency", "5 - Medium"]),
        processed: state == "Finished",
        state,
        sub_state: (state == "Error").then_some("No_Vuln"),
        target: if r.chance(20) {
            format!("2001:db8::{:x}", r.below(65535))
        } else {
            // A range runs from its lower to its higher address.
            let (a, b) = (r.below(255), r.below(255));
            format!("10.{}.0.1-10.{}.0.254", a.min(b), a.max(b))
        },
        asset_groups: (0..r.below(3)).map(|k| format!("AG-{k} {}", r.pick(UNITS))).collect(),
        option_profile: r.pick_str(&["Initial Options", "Full Audit", "PCI <Standard>"]),
        default_profile: r.chance(30),
    }
}

/// Every third VM host, up to two thirds of the agents, is tracked by the Cloud Agent.
pub fn agents_with_vm(sizes: &Sizes) -> u64 {
    (sizes.agents * 2 / 3).min(sizes.hosts.div_ceil(3))
}

/// Whether VM host `i` is agent-tracked, and which agent it is.
pub fn host_agent(sizes: &Sizes, i: u64) -> Option<u64> {
    (i.is_multiple_of(3) && i / 3 < agents_with_vm(sizes)).then_some(i / 3)
}

/// The VM host id of host `i` (ascending, with gaps).
pub fn host_id(i: u64) -> u64 {
    100_000 + i * 5
}

/// A simulated VM host.
pub struct Host {
    pub id: u64,
    pub asset_id: u64,
    pub ip: Option<String>,
    pub ipv6: Option<String>,
    pub tracking: &'static str,
    pub dns: Option<String>,
    pub netbios: Option<String>,
    pub os: String,
    pub tags: Vec<(u64, String)>,
    pub last_vuln_scan: Option<i64>,
    pub last_vm_scanned: Option<i64>,
    pub last_auth_scanned: Option<i64>,
    pub last_compliance_scan: Option<i64>,
    pub owner: Option<String>,
    pub comments: Option<String>,
    pub asset_groups: Vec<u64>,
    pub cloud_provider: Option<&'static str>,
    /// When Qualys first found the host (before any of its scans).
    pub first_found: i64,
    /// The host's latest activity (its latest scan, or `first_found`).
    pub last_activity: i64,
    /// TruRisk score, 0-1000.
    pub trurisk: u16,
    /// Asset criticality score, 1-5.
    pub criticality: u8,
}

const OSES: &[&str] = &[
    "Windows Server 2019 Standard 64 bit Edition Version 1809",
    "Windows 10 Enterprise 64 bit Edition Version 22H2",
    "Ubuntu Linux 22.04",
    "Red Hat Enterprise Linux 8.9",
    "Cisco IOS 15.2",
    "macOS 14.4",
];

/// VM host `i`.
pub fn host(seed: u64, sizes: &Sizes, i: u64) -> Host {
    let mut r = Rng::new(seed, 3, i);
    let agent = host_agent(sizes, i);
    let tracking =
        if agent.is_some() { "AGENT" } else { *r.pick(&["IP", "IP", "IP", "DNS", "NETBIOS", "INSTANCE_ID"]) };
    let v6_only = r.chance(5);
    let scanned = r.chance(85).then(|| NOW_EPOCH - r.below(86_400 * 400) as i64);
    // Fields added later come from their own stream, so earlier fields keep their values.
    let mut e = Rng::new(seed, 13, i);
    let first_found = NOW_EPOCH - 86_400 * (400 + e.below(300) as i64) - e.below(86_400) as i64;
    let mut h = Host {
        id: host_id(i),
        asset_id: 2_000_000 + i,
        ip: (!v6_only).then(|| ipv4_of(i)),
        ipv6: (v6_only || r.chance(10)).then(|| ipv6_of(i)),
        tracking,
        dns: r.chance(75).then(|| format!("host{i}.corp.example.com")),
        netbios: r.chance(40).then(|| format!("HOST{i}")),
        os: r.pick(OSES).to_string(),
        // A tag id always names the same tag, on every host.
        tags: (0..r.below(4))
            .map(|k| {
                let u = r.below(UNITS.len() as u64);
                (1 + u * 4 + k, format!("{} Tag {k} – «prod»", UNITS[u as usize]))
            })
            .collect(),
        last_vuln_scan: scanned,
        last_vm_scanned: scanned.map(|s| (s + 600).min(NOW_EPOCH)),
        last_auth_scanned: scanned.filter(|_| r.chance(50)),
        last_compliance_scan: r.chance(40).then(|| NOW_EPOCH - r.below(86_400 * 200) as i64),
        owner: r.chance(30).then(|| format!("usr_a{}", r.below(5))),
        comments: r.chance(15).then(|| {
            if r.chance(50) {
                "Decommission <pending> & review ]]> done".repeat(40)
            } else {
                "DMZ".to_string()
            }
        }),
        asset_groups: (0..r.below(3)).map(|k| 700 + k).collect(),
        cloud_provider: if tracking == "INSTANCE_ID" { Some("AWS") } else { None },
        first_found,
        last_activity: first_found,
        trurisk: e.below(1001) as u16,
        criticality: 1 + e.below(5) as u8,
    };
    h.last_activity = [h.last_vuln_scan, h.last_vm_scanned, h.last_auth_scanned, h.last_compliance_scan]
        .into_iter()
        .flatten()
        .fold(first_found, i64::max);
    h
}

/// The IPv4 address of host `i`: one per host for the first 16 million hosts (no two hosts
/// share an address; the last octet is never 0 or 255).
pub fn ipv4_of(i: u64) -> String {
    format!("10.{}.{}.{}", (i / (254 * 256)) % 256, (i / 254) % 256, 1 + i % 254)
}

/// The IPv6 address of host `i`, in the documentation prefix; the index is split across two
/// 16-bit groups, so it stays a valid address for any host count up to 2^32.
pub fn ipv6_of(i: u64) -> String {
    if i <= 0xffff {
        format!("2001:db8::{i:x}")
    } else {
        format!("2001:db8::{:x}:{:x}", (i >> 16) & 0xffff, i & 0xffff)
    }
}

/// A simulated Cloud Agent asset (QPS HostAsset).
pub struct Agent {
    pub id: u64,
    pub qweb_host_id: Option<u64>,
    pub name: String,
    pub address: String,
    pub dns: Option<String>,
    pub netbios: Option<String>,
    pub os: String,
    pub tags: Vec<(u64, String)>,
    pub last_vuln_scan: Option<i64>,
    pub last_compliance_scan: Option<i64>,
    pub agent_id: String,
    pub version: String,
    pub status: &'static str,
    pub last_checked_in: i64,
    pub platform: &'static str,
    pub created: i64,
}

/// The address of an agent that is not a VM host: 192.168.0.0/16 while it lasts, then
/// 172.16.0.0/12 (every octet stays below 256).
fn laptop_ipv4(j: u64) -> String {
    if j < 250 * 256 {
        format!("192.168.{}.{}", j / 250, 1 + j % 250)
    } else {
        let k = j - 250 * 256;
        format!("172.{}.{}.{}", 16 + (k / (250 * 256)) % 16, (k / 250) % 256, 1 + k % 250)
    }
}

/// Cloud Agent asset `j`; the first [`agents_with_vm`] are VM hosts 0, 3, 6...
pub fn agent(seed: u64, sizes: &Sizes, j: u64) -> Agent {
    let mut r = Rng::new(seed, 4, j);
    let vm = (j < agents_with_vm(sizes)).then(|| host(seed, sizes, j * 3));
    let os = vm.as_ref().map_or_else(|| r.pick(OSES).to_string(), |h| h.os.clone());
    let windows = os.starts_with("Windows");
    Agent {
        id: 3_000_000 + j * 7,
        qweb_host_id: vm.as_ref().map(|h| h.id),
        name: vm.as_ref().and_then(|h| h.dns.clone()).unwrap_or_else(|| format!("laptop-{j}")),
        address: vm.as_ref().and_then(|h| h.ip.clone()).unwrap_or_else(|| laptop_ipv4(j)),
        dns: vm.as_ref().and_then(|h| h.dns.clone()),
        netbios: vm.as_ref().and_then(|h| h.netbios.clone()).or_else(|| Some(format!("LAPTOP-{j}"))),
        tags: vm.as_ref().map(|h| h.tags.clone()).unwrap_or_default(),
        last_vuln_scan: vm.as_ref().and_then(|h| h.last_vuln_scan),
        last_compliance_scan: vm.as_ref().and_then(|h| h.last_compliance_scan),
        agent_id: format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            r.next() as u32,
            r.below(65_536),
            r.below(4096),
            r.below(4096),
            r.below(1 << 48)
        ),
        version: format!("{}.{}.{}.{}", 5 + r.below(2), r.below(4), r.below(10), r.below(100)),
        status: r.pick_str(&["STATUS_ACTIVE", "STATUS_ACTIVE", "STATUS_ACTIVE", "STATUS_INACTIVE"]),
        last_checked_in: NOW_EPOCH - r.below(86_400 * 30) as i64,
        platform: if windows { "Windows" } else { "Linux" },
        created: NOW_EPOCH - 86_400 * (100 + r.below(600) as i64),
        os,
    }
}

/// A simulated vulnerability detection on a VM host.
pub struct Detection {
    pub qid: u64,
    pub vuln_type: &'static str,
    pub severity: u8,
    pub port: Option<u16>,
    pub protocol: Option<&'static str>,
    pub ssl: bool,
    pub status: &'static str,
    pub first_found: i64,
    pub last_found: i64,
    pub last_test: i64,
    pub last_fixed: Option<i64>,
    pub last_reopened: Option<i64>,
    pub times_found: u64,
    pub ignored: bool,
    pub disabled: bool,
    pub qds: u8,
    pub results: String,
}

/// QIDs the simulated KnowledgeBase knows beyond [`VULNS`]: `KB_FIRST..KB_FIRST + KB_SIZE`.
pub const KB_FIRST: u64 = 10_000;
/// How many generated QIDs the KnowledgeBase holds.
pub const KB_SIZE: u64 = 5_000;

/// Detection `j` of VM host `i`. A host's detections differ in QID, or (past [`KB_SIZE`]
/// detections) in port, so Qualys' identity of a detection (host, QID, port, protocol, SSL)
/// is unique.
pub fn detection(seed: u64, i: u64, j: u64) -> Detection {
    let mut r = Rng::new(seed, 17, i.wrapping_mul(1_000_003) ^ j);
    let start = Rng::new(seed, 19, i).below(KB_SIZE);
    let round = j / KB_SIZE;
    let qid = KB_FIRST + (start + j) % KB_SIZE;
    let (port, protocol) = if round > 0 {
        (Some(10_000 + round as u16), Some("tcp"))
    } else if r.chance(60) {
        (Some(*r.pick(&[22u16, 80, 443, 445, 3389, 8443])), Some(*r.pick(&["tcp", "tcp", "udp"])))
    } else {
        (None, None)
    };
    let first_found = NOW_EPOCH - 86_400 * r.below(400) as i64 - r.below(86_400) as i64;
    let status = *r.pick(&["New", "Active", "Active", "Active", "Re-Opened", "Fixed", "Fixed"]);
    let last_found = (first_found + 86_400 * r.below(60) as i64).min(NOW_EPOCH);
    let fix = (first_found + 86_400 * (1 + r.below(200)) as i64).min(NOW_EPOCH);
    let (last_fixed, last_reopened) = match status {
        "Fixed" => (Some(fix), None),
        "Re-Opened" => (Some(fix), Some((fix + 86_400).min(NOW_EPOCH))),
        _ => (None, None),
    };
    let vuln_type = *r.pick(&["Confirmed", "Confirmed", "Confirmed", "Potential", "Info"]);
    Detection {
        qid,
        vuln_type,
        severity: 1 + r.below(5) as u8,
        port,
        protocol,
        ssl: port == Some(443) || port == Some(8443),
        status,
        first_found,
        last_found,
        last_test: last_found.max(last_fixed.unwrap_or(0)),
        last_fixed,
        last_reopened,
        times_found: 1 + r.below(40),
        ignored: r.chance(3),
        disabled: r.chance(2),
        qds: 1 + r.below(100) as u8,
        // real: RESULTS holds tabs, blank lines and literal entity-like text.
        results: {
            let one = format!(
                "Package\tInstalled Version\tRequired Version\nopenssl\t1.0.{j}\t3.0.8\n\nPath: &quot;/usr/lib&quot; &gt; ok\n"
            );
            // Some detections carry a listing far longer than a connector keeps (80 KiB).
            if (i * 31 + j) % 211 == 7 { one.repeat(80 * 1024 / one.len() + 1) } else { one }
        },
    }
}

/// What the simulated KnowledgeBase says of a QID: title, CVEs, CVSS v3 base; `None` when it
/// does not know the QID.
pub fn kb_entry(qid: u64) -> Option<(String, Vec<String>, Option<String>)> {
    if let Some((_, title, sev)) = VULNS.iter().find(|(q, _, _)| *q == qid) {
        let cvss = (*sev >= 3).then(|| format!("{}.{}", 4 + sev, qid % 10));
        return Some((title.to_string(), cves(qid).iter().map(|c| c.to_string()).collect(), cvss));
    }
    if !(KB_FIRST..KB_FIRST + KB_SIZE).contains(&qid) {
        return None;
    }
    let n = qid - KB_FIRST;
    let cves = if n.is_multiple_of(3) {
        vec![format!("CVE-2024-{:04}", 1000 + n), format!("CVE-2025-{:05}", 20000 + n)]
    } else {
        Vec::new()
    };
    let cvss = (!n.is_multiple_of(4)).then(|| format!("{}.{}", 3 + n % 7, n % 10));
    Some((format!("Simulated vulnerability {qid} – «Ünïcode» & <angle> \"quotes\""), cves, cvss))
}

/// One entry of the account activity log.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Activity {
    /// Qualys' own id of the entry (the paging `id_max` counts on it; not in the CSV).
    pub id: u64,
    pub date: i64,
    pub action: &'static str,
    pub module: &'static str,
    pub details: String,
    pub user_name: String,
    pub user_role: &'static str,
    pub user_ip: Option<String>,
}

/// The id of the newest activity entry; entry `k` (0 the newest) has id `ACTIVITY_TOP - k`.
pub const ACTIVITY_TOP: u64 = 9_000_000;

/// Activity entry `k`, newest first, on `day` (each day adds entries at the top). Every 25th
/// entry repeats the one after it exactly (real: two API calls in the same second).
pub fn activity(seed: u64, k: u64, day: u32) -> Activity {
    let shift = u64::from(day) * 40;
    let j = k + 1_000_000 - shift;
    // The duplicate of a pair is generated from its partner, so both are equal field for field.
    let base = if j % 25 == 24 { j - 1 } else { j };
    let mut r = Rng::new(seed, 23, base);
    let (action, module, details) = *r.pick(&[
        ("login", "auth", "user_logged in"),
        ("request", "auth", "API: /api/2.0/fo/scan/?action=list"),
        ("request", "auth", "API: /api/5.0/fo/asset/host/vm/detection/"),
        ("finished", "report", "Report \"Weekly \u{2013} «PCI»\" finished"),
        ("update", "account", "User role changed, details:\nrole: Reader -> Scanner"),
    ]);
    let users = ["demo_manager", "api_user", "zoë.ünïcode", "auditor_1"];
    let user = users[r.below(users.len() as u64) as usize];
    Activity {
        id: ACTIVITY_TOP + shift - k,
        date: NOW_EPOCH - (base as i64 - 1_000_000) * 137,
        action,
        module,
        details: details.to_string(),
        user_name: user.to_string(),
        user_role: r.pick_str(&["Manager", "Reader", "Scanner", "Auditor"]),
        user_ip: (!r.chance(10)).then(|| format!("10.9.{}.{}", r.below(256), 1 + r.below(254))),
    }
}

/// Compliance policy `p`: its id and title.
pub fn policy(p: u64) -> (u64, String) {
    (
        700_000 + p * 13,
        format!("CIS Benchmark {} – «Level {}»", ["Windows", "Linux", "Oracle"][p as usize % 3], 1 + p % 2),
    )
}

/// Controls each host is evaluated on, per policy.
pub const CONTROLS_PER_HOST: u64 = 20;

/// One posture record: a control's result on a host.
pub struct Posture {
    pub id: u64,
    pub host: u64,
    pub control: u64,
    pub status: &'static str,
    pub evaluated: i64,
    pub modified: i64,
    pub technology: u64,
}

/// Posture record `k` of policy `p`: host `k / CONTROLS_PER_HOST`, ids ascending.
pub fn posture(seed: u64, p: u64, k: u64) -> Posture {
    let mut r = Rng::new(seed, 29, p.wrapping_mul(10_000_019) ^ k);
    let evaluated = NOW_EPOCH - r.below(86_400 * 30) as i64;
    Posture {
        id: 50_000_000 * (p + 1) + k,
        host: k / CONTROLS_PER_HOST,
        control: 1000 + p * 100 + k % CONTROLS_PER_HOST,
        status: r.pick_str(&["Passed", "Passed", "Passed", "Failed", "Error"]),
        evaluated,
        modified: evaluated - r.below(86_400 * 90) as i64,
        technology: 40 + p % 3,
    }
}

/// The statement and criticality label of a control.
pub fn control(id: u64) -> (String, &'static str) {
    let labels = ["MINIMAL", "MEDIUM", "SERIOUS", "CRITICAL", "URGENT"];
    (
        format!("Status of the 'Password minimum length' setting ({id}) – ≥ 14 & <ok>"),
        labels[(id % 5) as usize],
    )
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    const BIG: Sizes =
        Sizes { users: 50, vm_scans: 2000, pc_scans: 2000, tickets: 5000, ..Sizes::uniform(100_000) };

    #[test]
    fn every_generated_ipv6_address_parses_for_100000_hosts() {
        for i in 0..BIG.hosts {
            assert!(ipv6_of(i).parse::<Ipv6Addr>().is_ok(), "host {i}: {}", ipv6_of(i));
            let h = host(42, &BIG, i);
            if let Some(v6) = &h.ipv6 {
                assert!(v6.parse::<Ipv6Addr>().is_ok(), "host {i}: {v6}");
            }
        }
    }

    #[test]
    fn every_host_ipv4_address_parses_and_no_two_hosts_share_one() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..BIG.hosts {
            let ip: Ipv4Addr = ipv4_of(i).parse().unwrap_or_else(|_| panic!("host {i}: {}", ipv4_of(i)));
            assert!(seen.insert(ip), "host {i}: {ip} already used");
            assert!(![0, 255].contains(&ip.octets()[3]), "host {i}: {ip}");
        }
    }

    #[test]
    fn every_agent_address_parses_for_100000_agents() {
        for j in (0..BIG.agents).step_by(7).chain([64_000, 99_999]) {
            let a = agent(42, &BIG, j);
            assert!(a.address.parse::<Ipv4Addr>().is_ok(), "agent {j}: {}", a.address);
            assert!(a.created <= a.last_checked_in && a.last_checked_in <= NOW_EPOCH, "agent {j}");
        }
    }

    #[test]
    fn every_scan_target_range_is_ascending() {
        for pc in [false, true] {
            for i in 0..BIG.vm_scans {
                let s = scan(42, i, BIG.vm_scans, pc);
                match s.target.split_once('-') {
                    Some((a, b)) => {
                        let a: Ipv4Addr = a.parse().unwrap_or_else(|_| panic!("scan {i}: {}", s.target));
                        let b: Ipv4Addr = b.parse().unwrap_or_else(|_| panic!("scan {i}: {}", s.target));
                        assert!(a <= b, "scan {i}: {} runs backwards", s.target);
                    }
                    None => assert!(s.target.parse::<Ipv6Addr>().is_ok(), "scan {i}: {}", s.target),
                }
            }
        }
    }

    #[test]
    fn no_scan_is_launched_or_ends_in_the_future() {
        for count in [1, 40, 2000] {
            for i in 0..count {
                let s = scan(42, i, count, false);
                assert!(s.launched <= NOW_EPOCH - 60, "scan {i} of {count} launched {}", iso(s.launched));
            }
        }
    }

    #[test]
    fn ticket_dates_follow_each_other_and_none_is_in_the_future() {
        for i in 0..BIG.tickets {
            let t = ticket(42, i, BIG.tickets);
            let at = |e: i64| iso(e);
            assert!(t.first_found <= t.last_found && t.last_found <= t.last_scan, "ticket {i}");
            assert!(t.last_scan <= NOW_EPOCH && t.created <= NOW_EPOCH, "ticket {i}: {}", at(t.last_scan));
            for when in t.resolved.iter().chain(&t.closed) {
                assert!(
                    t.created <= *when && *when <= NOW_EPOCH,
                    "ticket {i}: {} then {}",
                    at(t.created),
                    at(*when)
                );
            }
            if let (Some(r), Some(c)) = (t.resolved, t.closed) {
                assert!(r <= c, "ticket {i}: resolved after closed");
            }
            assert!(t.history.windows(2).all(|w| w[0].0 <= w[1].0), "ticket {i}: history out of order");
            let ip = &t.ip;
            assert!(ip.parse::<Ipv4Addr>().is_ok() || ip.parse::<Ipv6Addr>().is_ok(), "ticket {i}: {ip}");
            assert!(t.due.is_none_or(|d| d > t.created), "ticket {i}");
        }
    }

    #[test]
    fn host_dates_follow_each_other_and_none_is_in_the_future() {
        for i in 0..20_000 {
            let h = host(42, &BIG, i);
            for when in [h.last_vuln_scan, h.last_vm_scanned, h.last_auth_scanned, h.last_compliance_scan]
                .into_iter()
                .flatten()
            {
                assert!(h.first_found <= when && when <= h.last_activity, "host {i}");
            }
            assert!(h.first_found <= h.last_activity && h.last_activity <= NOW_EPOCH, "host {i}");
            assert!(h.trurisk <= 1000 && (1..=5).contains(&h.criticality), "host {i}");
        }
    }

    #[test]
    fn a_tag_id_names_the_same_tag_on_every_host() {
        let mut names = std::collections::HashMap::new();
        for i in 0..5_000 {
            for (id, name) in host(42, &BIG, i).tags {
                assert_eq!(names.entry(id).or_insert_with(|| name.clone()), &name, "tag {id}");
            }
        }
    }

    #[test]
    fn a_later_day_changes_only_the_records_its_rule_names() {
        let count = 12;
        let day7: Vec<u64> = user_indices(count, 7).collect();
        assert_eq!(day7.iter().filter(|&&i| i >= count).count(), 7, "seven new users");
        assert_eq!((0..count).filter(|i| !day7.contains(i)).collect::<Vec<_>>(), vec![5, 11]);
        assert_eq!(user_indices(count, 0).collect::<Vec<_>>(), (0..count).collect::<Vec<_>>());
        for i in 0..count {
            let (base, later) = (user(42, "m", "Manager", "U", i), user_on(42, "m", "Manager", "U", i, 7));
            assert_eq!(base.role != later.role, user_role_changed(i, 7), "user {i}");
        }
        for i in 0..1500 {
            let (base, later) = (ticket(42, i, 1500), ticket_on(42, i, 1500, 7));
            assert_eq!(base.state != later.state, ticket_moved(i, 7), "ticket {i}");
            assert!(later.history.windows(2).all(|w| w[0].0 <= w[1].0), "ticket {i}");
        }
    }

    #[test]
    fn user_logins_come_before_now() {
        for i in 0..BIG.users {
            let u = user(42, "demo_manager", "Manager", "Unassigned", i);
            let created = parse_iso(&u.created).unwrap();
            assert!(created <= NOW_EPOCH, "user {i}");
            if let Some(l) = &u.last_login {
                let l = parse_iso(l).unwrap();
                assert!(created <= l && l <= NOW_EPOCH, "user {i}");
            }
        }
    }
}
