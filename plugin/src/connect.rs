//! `connect`: check the credentials with the cheapest call, say who is connected, then probe
//! each proof type's sources cheaply to say what this account can collect, and what to fix.

use crate::config::Settings;
use crate::endpoints;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{Access, Account, ProofAccess, Value, Warning};
use crate::proofs::users::Users;
use crate::proofs::{Probe, REGISTRY};
use crate::qualys_error::MIN_RIGHTS;
use crate::xml::{self, RecordMap};

/// `/msp/about.php`: the cheapest authenticated call (Qualys API v1 User Guide, "About").
static ABOUT: RecordMap = RecordMap::captures_only("ABOUT", &["API-VERSION", "WEB-VERSION"]);

pub fn connect(client: &Client<'_>, settings: &Settings) -> Result<Account, Error> {
    // Credentials first: a bad login fails here, before any probe.
    client
        .call(&Call::get(endpoints::ABOUT, &[]), &mut |body| xml::read_captures(body, &ABOUT, Some(200)))?;

    let mut warnings = Vec::new();
    let mut access = Vec::new();
    let (mut role, mut business_unit) = (None, None);
    // The caller's role is their own row in the user list (which is also the users probe).
    let users_access = match client
        .call(&Call::get(endpoints::USER_LIST, &[]), &mut |body| Users::parse(body))
    {
        Ok(rows) => {
            let login = Users::index("login");
            let me = rows
                .iter()
                .find(|r| matches!(&r[login], Value::Text(l) if l.eq_ignore_ascii_case(&settings.username)));
            if let Some(me) = me {
                role = text(&me[Users::index("role")]);
                business_unit = text(&me[Users::index("business_unit")]);
            }
            let reason = match role.as_deref() {
                Some("Manager") | None => None,
                Some("Unit Manager") => {
                    Some("a Unit Manager sees only the users of their business unit".to_string())
                }
                Some(other) => Some(format!("a {other} sees only their own user; a Manager sees every user")),
            };
            let level = if reason.is_some() { Access::Partial } else { Access::Full };
            ProofAccess { proof_type: "users", access: level, reason }
        }
        Err(Error::Permission(m)) => {
            ProofAccess { proof_type: "users", access: Access::None, reason: Some(m) }
        }
        Err(e) => return Err(e),
    };
    // In the registry's order; the users probe ran above.
    let mut users_access = Some(users_access);
    for p in REGISTRY {
        let id = p.spec().id;
        if id == "users" {
            access.extend(users_access.take());
            continue;
        }
        let found = match p.probe(client) {
            Ok(Probe::Full) => ProofAccess { proof_type: id, access: Access::Full, reason: None },
            Ok(Probe::Partial(why)) => {
                ProofAccess { proof_type: id, access: Access::Partial, reason: Some(why) }
            }
            Ok(Probe::Refused(why)) => {
                ProofAccess { proof_type: id, access: Access::None, reason: Some(why) }
            }
            Err(Error::Permission(why)) => ProofAccess {
                proof_type: id,
                access: Access::None,
                // A refusal Qualys worded as one of rights already names them (classify).
                reason: Some(if why.contains(MIN_RIGHTS) { why } else { format!("{why} {MIN_RIGHTS}") }),
            },
            Err(e) => return Err(e.context(&format!("checking access to {}", p.spec().title))),
        };
        access.push(found);
    }
    for a in &access {
        if let Some(reason) = &a.reason {
            let code = match a.access {
                Access::None => "proof-type-unavailable",
                _ => "proof-type-limited",
            };
            warnings.push(Warning { code, message: format!("{}: {reason}", a.proof_type) });
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
