//! Who may do what: the four roles and the permission table the server enforces and
//! `docs/web.md` documents (rendered from [`permission_table`], so they cannot drift).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A user's role. Tokens act with their user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including users, tokens and the audit log.
    Admin,
    /// CS leadership: the whole portfolio, scoring runs; no user management or ingest.
    Leader,
    /// A CSM: the whole portfolio to read, their own book first.
    Csm,
    /// Read-only: pages and the read API.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Leader, Role::Csm, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::Csm => "csm",
            Role::Viewer => "viewer",
        }
    }

    /// The permission table: the single place that answers "may this role do that".
    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Leader => matches!(permission, Read | Score | RecordOutcomes | WorkAlerts),
            Role::Csm => matches!(permission, Read | RecordOutcomes | WorkAlerts),
            Role::Viewer => matches!(permission, Read),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; expected one of admin, leader, csm, viewer")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownRole(text.to_string()))
    }
}

/// Something a request may want to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Every page and read endpoint: portfolio, accounts, health, metrics, snapshots.
    Read,
    /// Run scoring (a new snapshot) from the server.
    Score,
    /// Upload files to ingest (changes the store's data).
    Ingest,
    /// Users, roles, API tokens of other users, the audit log.
    ManageUsers,
    /// Record what happened to an expansion opportunity (won, lost, no decision): the
    /// CSM who had the conversation knows.
    RecordOutcomes,
    /// Work alerts and tasks — acknowledge, snooze, close and reopen alerts, complete
    /// and snooze tasks, record interventions: the CSMs whose lists they are.
    WorkAlerts,
}

impl Permission {
    pub const ALL: [Permission; 6] = [
        Permission::Read,
        Permission::Score,
        Permission::Ingest,
        Permission::ManageUsers,
        Permission::RecordOutcomes,
        Permission::WorkAlerts,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Permission::Read => {
                "read pages and the read API (portfolio, accounts, health, metrics, snapshots)"
            }
            Permission::Score => "run scoring (store a new snapshot)",
            Permission::Ingest => "upload files to ingest",
            Permission::ManageUsers => "manage users, roles and API tokens; read the audit log",
            Permission::RecordOutcomes => "record expansion outcomes (won, lost, no decision)",
            Permission::WorkAlerts => {
                "work alerts and tasks (acknowledge, snooze, close, complete) and record interventions"
            }
        }
    }
}

/// The permission table as Markdown (roles across, permissions down).
pub fn permission_table() -> String {
    let mut out = String::from("| permission |");
    for role in Role::ALL {
        out.push_str(&format!(" {role} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&":---:|".repeat(Role::ALL.len()));
    out.push('\n');
    for permission in Permission::ALL {
        out.push_str(&format!("| {} |", permission.describe()));
        for role in Role::ALL {
            out.push_str(if role.can(permission) {
                " yes |"
            } else {
                " — |"
            });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_case_insensitively_and_reject_others() {
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert_eq!(" viewer ".parse::<Role>(), Ok(Role::Viewer));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_admins_manage_users_or_ingest_and_everyone_reads() {
        for role in Role::ALL {
            assert!(role.can(Permission::Read));
            assert_eq!(role.can(Permission::ManageUsers), role == Role::Admin);
            assert_eq!(role.can(Permission::Ingest), role == Role::Admin);
        }
        assert!(Role::Leader.can(Permission::Score));
        assert!(!Role::Viewer.can(Permission::Score));
        assert!(!Role::Csm.can(Permission::Score));
        assert!(Role::Csm.can(Permission::RecordOutcomes));
        assert!(!Role::Viewer.can(Permission::RecordOutcomes));
        assert!(Role::Csm.can(Permission::WorkAlerts) && Role::Leader.can(Permission::WorkAlerts));
        assert!(!Role::Viewer.can(Permission::WorkAlerts));
    }

    #[test]
    fn the_table_has_a_row_per_permission() {
        let table = permission_table();
        assert_eq!(table.lines().count(), 2 + Permission::ALL.len());
        assert!(table.contains("| upload files to ingest | yes | — | — | — |"));
    }
}
