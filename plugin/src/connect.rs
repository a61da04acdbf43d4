//! `connect`: check the credentials with the cheapest call, then say who is connected and
//! what this account can collect.

use crate::config::Settings;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{Access, Account, ProofAccess, Value, Warning};
use crate::proofs::REGISTRY;
use crate::proofs::users::{self, Users};
use crate::xml::{self, RecordMap};

/// `/msp/about.php`: the cheapest authenticated call (Qualys API v1 User Guide, "About").
static ABOUT: RecordMap =
    RecordMap { root: "ABOUT", record: "", columns: &[], captures: &["API-VERSION", "WEB-VERSION"] };

pub fn connect(client: &Client<'_>, settings: &Settings) -> Result<Account, Error> {
    client
        .call(&Call::get("/msp/about.php", &[]), &mut |body| xml::read_captures(body, &ABOUT, Some(200)))?;

    let mut warnings = Vec::new();
    let mut access = Vec::new();
    let (mut role, mut business_unit) = (None, None);
    match client.call(&Call::get(users::PATH, &[]), &mut |body| Users::parse(body)) {
        Ok(rows) => {
            let login = Users::index("login");
            let me = rows
                .iter()
                .find(|r| matches!(&r[login], Value::Text(l) if l.eq_ignore_ascii_case(&settings.username)));
            if let Some(me) = me {
                role = text(&me[Users::index("role")]);
                business_unit = text(&me[Users::index("business_unit")]);
            }
            access.push(ProofAccess { proof_type: "users", access: Access::Full, reason: None });
        }
        Err(Error::Permission(m)) => {
            warnings.push(Warning { code: "user-list-denied", message: m.clone() });
            access.push(ProofAccess { proof_type: "users", access: Access::None, reason: Some(m) });
        }
        Err(e) => return Err(e),
    }
    for p in REGISTRY {
        let id = p.spec().id;
        if !access.iter().any(|a| a.proof_type == id) {
            access.push(ProofAccess { proof_type: id, access: Access::Full, reason: None });
        }
    }
    Ok(Account {
        login: settings.username.clone(),
        role,
        business_unit,
        platform: settings.platform.clone(),
        api_url: settings.base.url(),
        proof_access: access,
        warnings,
    })
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}
