//! Simulated Qualys accounts: each login has a password, a role, and the set-up problems a
//! real account can have, so every `connect` diagnosis can be reproduced.

/// What is (wrong) with an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    /// Works.
    Active,
    /// Single sign-on enabled: refused like a bad password (HTTP 401, code 2000; unverified).
    SsoEnabled,
    /// The user's role lacks the "API" access flag: refused like a bad password (unverified).
    NoApiAccess,
    /// Locked after failed logins: HTTP 401, SIMPLE_RETURN code 2002 (unverified).
    Locked,
    /// Deactivated by a manager: HTTP 401, SIMPLE_RETURN code 2003 (unverified).
    Inactive,
    /// Subscription or user expired: HTTP 200, SIMPLE_RETURN code 2001 "This account has
    /// expired." (real).
    Expired,
    /// The caller's IP address is not in the account's secure-IP list: GENERIC_RETURN
    /// `RETURN status="FAILED" number="2007"` (sdk; HTTP 200 and the text unverified).
    IpNotAllowed,
}

/// A simulated user account.
#[derive(Debug, Clone)]
pub struct Account {
    pub login: String,
    pub password: String,
    /// Qualys role: Manager, Unit Manager, Scanner, Reader, Auditor...
    pub role: String,
    pub business_unit: String,
    pub state: AccountState,
    /// May use the Asset Management (QPS) API, which Cloud Agent assets need.
    pub qps_access: bool,
    /// Has the Manage VM module (host list, VM scans, tickets).
    pub vm_module: bool,
    /// Has the Manage PC/SCA module (PC scans).
    pub pc_module: bool,
}

impl Account {
    /// A working Manager account with every module.
    pub fn manager(login: &str, password: &str) -> Account {
        Account {
            login: login.into(),
            password: password.into(),
            role: "Manager".into(),
            business_unit: "Unassigned".into(),
            state: AccountState::Active,
            qps_access: true,
            vm_module: true,
            pc_module: true,
        }
    }

    /// A Reader with API access and the VM and PC modules, but no QPS (Cloud Agent) rights.
    pub fn reader(login: &str, password: &str) -> Account {
        Account { role: "Reader".into(), qps_access: false, ..Account::manager(login, password) }
    }

    /// Same account in another state.
    pub fn with_state(mut self, state: AccountState) -> Account {
        self.state = state;
        self
    }
}

/// The accounts every simulator knows unless told otherwise (used by the demo).
pub fn default_accounts() -> Vec<Account> {
    vec![
        Account::manager("demo_manager", "demo-password"),
        Account::reader("demo_reader", "demo-password"),
        Account::manager("demo_sso", "demo-password").with_state(AccountState::SsoEnabled),
        Account::manager("demo_noapi", "demo-password").with_state(AccountState::NoApiAccess),
        Account::manager("demo_locked", "demo-password").with_state(AccountState::Locked),
        Account::manager("demo_inactive", "demo-password").with_state(AccountState::Inactive),
        Account::manager("demo_expired", "demo-password").with_state(AccountState::Expired),
        Account::manager("demo_ipblocked", "demo-password").with_state(AccountState::IpNotAllowed),
    ]
}
