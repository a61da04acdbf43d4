//! List of Users: `/msp/user_list.php` (Qualys API v1).
//!
//! Source: Qualys API v1 User Guide, "User List" (user_list.php) and its DTD
//! `user_list_output.dtd`: USER_LIST_OUTPUT > USER_LIST > USER* with USER_LOGIN, USER_ID,
//! EXTERNAL_ID, CONTACT_INFO (FIRSTNAME, LASTNAME, TITLE, PHONE, EMAIL, COMPANY, ...),
//! USER_STATUS, CREATION_DATE, LAST_LOGIN_DATE, USER_ROLE, BUSINESS_UNIT, UNIT_MANAGER_POC,
//! MANAGER_POC, UI_INTERFACE_STYLE, PERMISSIONS, NOTIFICATIONS, ASSIGNED_ASSET_GROUPS.
//! The script returns every user the caller may see in one response (no truncation).

use super::{Resume, SourcePage};
use crate::criteria::Criteria;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{CriterionSpec, FieldSpec, Kind::*, ProofSpec, Row, Value, field};
use crate::xml::{self, RecordMap};

use super::ProofType;

/// Bound on users in one response; large subscriptions have a few thousand users.
pub const MAX_USERS: usize = 200_000;

static FIELDS: &[FieldSpec] = &[
    field("login", "Login", Text, "USER_LOGIN: the user's login."),
    field("user_id", "User ID", Text, "USER_ID: Qualys' id of the user."),
    field("external_id", "External ID", Text, "EXTERNAL_ID: id in an external directory, if set."),
    field("first_name", "First name", Text, "CONTACT_INFO/FIRSTNAME."),
    field("last_name", "Last name", Text, "CONTACT_INFO/LASTNAME."),
    field("title", "Title", Text, "CONTACT_INFO/TITLE: job title."),
    field("email", "Email", Text, "CONTACT_INFO/EMAIL."),
    field("phone", "Phone", Text, "CONTACT_INFO/PHONE."),
    field("company", "Company", Text, "CONTACT_INFO/COMPANY."),
    field("status", "Status", Text, "USER_STATUS: Active, Inactive, Pending Activation..."),
    field("role", "Role", Text, "USER_ROLE: Manager, Unit Manager, Scanner, Reader, Contact, Auditor..."),
    field("business_unit", "Business unit", Text, "BUSINESS_UNIT: the user's business unit."),
    field("creation_date", "Created", Timestamp, "CREATION_DATE, UTC."),
    field("last_login_date", "Last login", Timestamp, "LAST_LOGIN_DATE, UTC; null if never."),
    field("manager_poc", "Manager POC", Boolean, "MANAGER_POC: the subscription's point of contact."),
    field("unit_manager_poc", "Unit manager POC", Boolean, "UNIT_MANAGER_POC: the unit's point of contact."),
    field("ui_interface_style", "UI style", Text, "UI_INTERFACE_STYLE."),
    field(
        "asset_groups",
        "Asset groups",
        TextList,
        "ASSIGNED_ASSET_GROUPS/ASSET_GROUP_TITLE: groups the user may access.",
    ),
    field(
        "days_since_last_login",
        "Days since last login",
        Integer,
        "Derived: calendar days (UTC) from the day of the last login (or, for a user who never \
         logged in, of creation) to the collection day.",
    ),
    field(
        "dormant",
        "Dormant",
        Boolean,
        "Derived: no login within dormant_after_days (a user who never logged in counts from creation).",
    ),
];

static CRITERIA: &[CriterionSpec] = &[CriterionSpec {
    name: "dormant_after_days",
    kind: Integer,
    required: false,
    allowed: &[],
    default: Some("90"),
    description: "A user is dormant after this many days without a login (1 to 3650).",
}];

static SPEC: ProofSpec = ProofSpec {
    key: &[&["login"]],
    id: "users",
    title: "List of Users",
    description: "Every user of the Qualys subscription the API account may see, with role, status, \
                  business unit and last login (Managers see all users; Unit Managers their unit).",
    fields: FIELDS,
    criteria: CRITERIA,
};

static MAP: RecordMap = RecordMap {
    root: "USER_LIST_OUTPUT",
    record: "USER_LIST/USER",
    columns: &[
        ("USER_LOGIN", "login"),
        ("USER_ID", "user_id"),
        ("EXTERNAL_ID", "external_id"),
        ("CONTACT_INFO/FIRSTNAME", "first_name"),
        ("CONTACT_INFO/LASTNAME", "last_name"),
        ("CONTACT_INFO/TITLE", "title"),
        ("CONTACT_INFO/EMAIL", "email"),
        ("CONTACT_INFO/PHONE", "phone"),
        ("CONTACT_INFO/COMPANY", "company"),
        ("USER_STATUS", "status"),
        ("USER_ROLE", "role"),
        ("BUSINESS_UNIT", "business_unit"),
        ("CREATION_DATE", "creation_date"),
        ("LAST_LOGIN_DATE", "last_login_date"),
        ("MANAGER_POC", "manager_poc"),
        ("UNIT_MANAGER_POC", "unit_manager_poc"),
        ("UI_INTERFACE_STYLE", "ui_interface_style"),
        ("ASSIGNED_ASSET_GROUPS/ASSET_GROUP_TITLE", "asset_groups"),
    ],
    captures: &[],
    // USER_LIST_OUTPUT (ERROR | USER_LIST): a list, possibly empty, or an error.
    required: &["USER_LIST"],
};

pub struct Users;

impl Users {
    /// Reads a user_list.php body (used by `connect` too, to find the caller's role).
    pub fn parse(body: &mut dyn std::io::BufRead) -> Result<Vec<crate::model::Row>, Error> {
        Ok(xml::read_records(body, &MAP, &SPEC, None, MAX_USERS)?.rows)
    }

    /// The index of a field in this proof type's rows.
    pub fn index(name: &str) -> usize {
        SPEC.index(name)
    }
}

impl ProofType for Users {
    fn spec(&self) -> &'static ProofSpec {
        &SPEC
    }

    fn key(&self, _source: u8) -> &'static [&'static str] {
        &["login"]
    }

    fn endpoints(&self) -> &'static [&'static str] {
        &[crate::endpoints::USER_LIST]
    }

    fn probe(&self, client: &Client<'_>) -> Result<super::Probe, Error> {
        // user_list.php has no paging or filter to make it smaller; it is the probe.
        client
            .call(&Call::get(crate::endpoints::USER_LIST, &[]), &mut |body| Users::parse(body))
            .map(|_| super::Probe::Full)
    }

    fn fetch(&self, client: &Client<'_>, criteria: &Criteria, _: &Resume<'_>) -> Result<SourcePage, Error> {
        let after = dormant_after(criteria)?;
        let mut rows =
            client.call(&Call::get(crate::endpoints::USER_LIST, &[]), &mut |body| Users::parse(body))?;
        let now = client.now();
        for row in &mut rows {
            dormancy(row, now, after);
        }
        Ok(SourcePage {
            rows,
            applied: vec![("dormancy_as_of", crate::values::from_epoch(now))],
            ..SourcePage::default()
        })
    }
}

/// The `dormant_after_days` criterion, within 1..=3650.
fn dormant_after(criteria: &Criteria) -> Result<i64, Error> {
    criteria.bounded("dormant_after_days", 90, 1..=3650, " days")
}

/// Fills `days_since_last_login` and `dormant` at `now`: a user who never logged in counts
/// from creation; one with neither date is not judged (null).
fn dormancy(row: &mut Row, now: i64, after_days: i64) {
    let at = |name: &str| match &row[SPEC.index(name)] {
        Value::Timestamp(t) => crate::values::to_epoch(t),
        _ => None,
    };
    let since = at("last_login_date").or_else(|| at("creation_date"));
    let days = since.map(|t| crate::values::days_between(t, now));
    row[SPEC.index("days_since_last_login")] = days.map_or(Value::Null, Value::Integer);
    row[SPEC.index("dormant")] = days.map_or(Value::Null, |d| Value::Boolean(d > after_days));
}
