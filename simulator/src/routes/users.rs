//! `/msp/user_list.php` (Qualys API v1 User Guide, "User List"; user_list_output.dtd).
//! Managers see every user; other roles only themselves (Unit Managers: their unit).

use http::Response;

use crate::data::{account_seed, user};
use crate::server::{ApiRequest, SimBody, SimConfig, generic_return, xml_response};
use crate::xmlw::Xml;

const PARAMS: &[&str] = &["external_id_contains", "external_id_assigned"];

pub fn user_list(config: &SimConfig, req: &ApiRequest) -> Response<SimBody> {
    if let Some(r) = super::unknown_params(req, PARAMS) {
        return r;
    }
    let a = &req.account;
    if a.role != "Manager" && a.role != "Unit Manager" && a.role != "Reader" {
        return generic_return(200, 2003, "Insufficient privileges to run this function.", &req.base_url);
    }
    let seed = account_seed(config.seed, &a.login, config.per_account_data);
    let mut x = Xml::with_doctype("USER_LIST_OUTPUT", &format!("{}/user_list_output.dtd", req.base_url));
    x.open("USER_LIST_OUTPUT").open("USER_LIST");
    for i in 0..config.sizes.users.max(1) {
        let u = user(seed, &a.login, &a.role, &a.business_unit, i);
        let visible = match a.role.as_str() {
            "Manager" => true,
            "Unit Manager" => u.unit == a.business_unit,
            _ => i == 0,
        };
        if !visible {
            continue;
        }
        x.open("USER");
        x.text("USER_LOGIN", &u.login);
        x.text("USER_ID", &u.id.to_string());
        x.opt_text("EXTERNAL_ID", u.external_id.as_deref());
        x.open("CONTACT_INFO");
        x.cdata("FIRSTNAME", &u.first).cdata("LASTNAME", &u.last);
        match &u.title {
            Some(t) => x.cdata("TITLE", t),
            None => x.empty("TITLE"),
        };
        x.opt_text("PHONE", u.phone.as_deref());
        x.text("EMAIL", &u.email).cdata("COMPANY", &u.company);
        x.close("CONTACT_INFO");
        x.text("USER_STATUS", &u.status);
        x.text("CREATION_DATE", &u.created);
        x.opt_text("LAST_LOGIN_DATE", u.last_login.as_deref());
        x.text("USER_ROLE", &u.role);
        x.cdata("BUSINESS_UNIT", &u.unit);
        x.text("UNIT_MANAGER_POC", if u.unit_manager_poc { "1" } else { "0" });
        x.text("MANAGER_POC", if u.manager_poc { "1" } else { "0" });
        x.text("UI_INTERFACE_STYLE", "standard_blue");
        if !u.asset_groups.is_empty() {
            x.open("ASSIGNED_ASSET_GROUPS");
            for g in &u.asset_groups {
                x.cdata("ASSET_GROUP_TITLE", g);
            }
            x.close("ASSIGNED_ASSET_GROUPS");
        }
        x.close("USER");
    }
    x.close("USER_LIST").close("USER_LIST_OUTPUT");
    xml_response(200, x.out)
}
