//! `/msp/user_list.php` (Qualys API v1 User Guide, "User List"; user_list_output.dtd).
//! Managers see every user; other roles only themselves (Unit Managers: their unit). No paging
//! (sdk).

use http::Response;

use crate::data::{account_seed, user_indices, user_on};
use crate::errors::error_in_root;
use crate::server::{ApiRequest, SimBody, SimConfig, xml_response};
use crate::xmlw::Xml;

// sdk: the parameters public clients send to user_list.php.
const PARAMS: &[&str] = &["external_id_contains", "external_id_assigned"];

/// `/msp/user_list.php`, answered with `USER_LIST_OUTPUT`.
pub static ROUTE: super::Route = super::Route {
    path: "/msp/user_list.php",
    root: "USER_LIST_OUTPUT",
    serve: |config, req, _| user_list(config, req),
};

pub fn user_list(config: &SimConfig, req: &ApiRequest) -> Response<SimBody> {
    if let Some(r) = super::unknown_params(req, PARAMS) {
        return r;
    }
    let a = &req.account;
    let dtd = format!("{}/user_list_output.dtd", req.base_url);
    // Shape: sdk + doc (USER_LIST_OUTPUT (ERROR | USER_LIST), HTTP 200); which roles are refused,
    // the number and the text are unverified.
    if a.role != "Manager" && a.role != "Unit Manager" && a.role != "Reader" {
        return error_in_root(
            "USER_LIST_OUTPUT",
            &dtd,
            2003,
            "Insufficient privileges to run this function.",
        );
    }
    let seed = account_seed(config.seed, &a.login, config.per_account_data);
    let mut x = Xml::with_doctype("USER_LIST_OUTPUT", &dtd);
    // real: comments may stand before the root element (evaluation-version notices); the text is
    // the simulator's own.
    x.comment("This is an evaluation version of the Qualys API; data may be incomplete.");
    x.open("USER_LIST_OUTPUT").open("USER_LIST");
    for i in user_indices(config.sizes.users.max(1), config.day) {
        let u = user_on(seed, &a.login, &a.role, &a.business_unit, i, config.day);
        let visible = match a.role.as_str() {
            "Manager" => true,
            "Unit Manager" => u.unit == a.business_unit,
            _ => i == 0,
        };
        if visible {
            write_user(&mut x, &u);
        }
    }
    x.close("USER_LIST").close("USER_LIST_OUTPUT");
    xml_response(200, x.out)
}

// Shape: sdk (USER children in order: USER_LOGIN, USER_ID, EXTERNAL_ID?, CONTACT_INFO (FIRSTNAME,
// LASTNAME, TITLE, PHONE, FAX, EMAIL, COMPANY, ADDRESS1, ADDRESS2, CITY, COUNTRY, STATE, ZIP_CODE,
// TIME_ZONE_CODE), ASSIGNED_ASSET_GROUPS?, USER_STATUS, CREATION_DATE, LAST_LOGIN_DATE (may be
// `N/A`), USER_ROLE, BUSINESS_UNIT, UNIT_MANAGER_POC, MANAGER_POC, UI_INTERFACE_STYLE,
// PERMISSIONS, NOTIFICATIONS). Every CONTACT_INFO child is written, empty when unknown
// (unverified: whether Qualys omits empty ones). The PERMISSIONS and NOTIFICATIONS children are
// the simulator's memory of user_list_output.dtd (unverified).
fn write_user(x: &mut Xml, u: &crate::data::User) {
    let (street, city, state, country, zip, tz) = u.address.unwrap_or(("", "", "", "", "", ""));
    x.open("USER");
    x.text("USER_LOGIN", &u.login);
    x.text("USER_ID", &u.id.to_string());
    x.opt_text("EXTERNAL_ID", u.external_id.as_deref());
    x.open("CONTACT_INFO");
    x.cdata("FIRSTNAME", &u.first).cdata("LASTNAME", &u.last);
    x.cdata("TITLE", u.title.as_deref().unwrap_or(""));
    x.cdata("PHONE", u.phone.as_deref().unwrap_or(""));
    x.cdata("FAX", u.fax.as_deref().unwrap_or(""));
    x.cdata("EMAIL", &u.email).cdata("COMPANY", &u.company);
    x.cdata("ADDRESS1", street).cdata("ADDRESS2", "");
    x.cdata("CITY", city).cdata("COUNTRY", country).cdata("STATE", state);
    x.cdata("ZIP_CODE", zip);
    if tz.is_empty() {
        x.empty("TIME_ZONE_CODE");
    } else {
        x.text("TIME_ZONE_CODE", tz);
    }
    x.close("CONTACT_INFO");
    if !u.asset_groups.is_empty() {
        x.open("ASSIGNED_ASSET_GROUPS");
        for g in &u.asset_groups {
            x.cdata("ASSET_GROUP_TITLE", g);
        }
        x.close("ASSIGNED_ASSET_GROUPS");
    }
    x.text("USER_STATUS", &u.status);
    x.text("CREATION_DATE", &u.created);
    // sdk: a user who never logged in has `N/A`.
    x.text("LAST_LOGIN_DATE", u.last_login.as_deref().unwrap_or("N/A"));
    x.text("USER_ROLE", &u.role);
    x.cdata("BUSINESS_UNIT", &u.unit);
    x.text("UNIT_MANAGER_POC", if u.unit_manager_poc { "1" } else { "0" });
    x.text("MANAGER_POC", if u.manager_poc { "1" } else { "0" });
    x.text("UI_INTERFACE_STYLE", "standard_blue");
    let manager = u.role == "Manager";
    let flag = |b: bool| if b { "1" } else { "0" };
    x.open("PERMISSIONS");
    x.text("CREATE_OPTION_PROFILES", flag(manager));
    x.text("PURGE_INFO", flag(manager));
    x.text("ADD_ASSETS", flag(manager || u.role == "Unit Manager"));
    x.text("EDIT_REMEDIATION_POLICY", flag(manager));
    x.text("EDIT_AUTH_RECORDS", flag(manager));
    x.close("PERMISSIONS");
    x.open("NOTIFICATIONS");
    x.text("LATEST_VULN", "weekly").text("MAP", "none").text("SCAN", "all").text("DAILY_TICKETS", "0");
    x.close("NOTIFICATIONS");
    x.close("USER");
}
