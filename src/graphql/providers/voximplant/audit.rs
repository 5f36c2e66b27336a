//! Voximplant's audit log in GraphQL: `VoximplantAuditLogEntry` (a `Node`, not a
//! `CallLog`) and the `voximplantAuditLog` connection.

use std::sync::Arc;

use async_graphql::{ID, InputObject, Object};

use crate::domain::encode_id;
use crate::graphql::call_log::Node;
use crate::graphql::connection::{CountedConnection, connection_fields, connection_names};
use crate::graphql::node::Loaded;
use crate::graphql::scalars::{DateTime, Json};
use crate::graphql::scope::scope;
use crate::graphql::values::numeric_id;
use crate::providers::voximplant::model::AuditLogEntry;
use crate::providers::voximplant::paging::Position;
use crate::providers::voximplant::{AUDIT_LOG_ENTRY, AuditEntryLoader, AuditFilter, session_key};

/// One entry of the Voximplant account's audit log: an API call made on the account.
pub(crate) struct VoximplantAuditLogEntry(pub Arc<AuditLogEntry>);

/// Not a call log: plans leave the audit log to async-graphql.
impl crate::graphql::flat::MaybeShared for VoximplantAuditLogEntry {
    const CALL_LOGS: bool = false;
    fn shared(&self) -> Option<&dyn crate::graphql::flat::SharedFields> {
        None
    }
}

#[Object]
impl VoximplantAuditLogEntry {
    /// Opaque global id.
    pub(crate) async fn id(&self) -> ID {
        ID(encode_id(AUDIT_LOG_ENTRY, &session_key(self.0.id, self.0.requested)))
    }
    /// `audit_log_id`.
    async fn audit_log_id(&self) -> async_graphql::ID {
        numeric_id(self.0.id)
    }
    async fn account_id(&self) -> Option<async_graphql::ID> {
        self.0.account_id.map(numeric_id)
    }
    /// The sub-user (admin user) that made the call, if any.
    async fn subuser_id(&self) -> Option<async_graphql::ID> {
        self.0.subuser_id.map(numeric_id)
    }
    async fn subuser_name(&self) -> Option<&str> {
        self.0.subuser_name.as_deref()
    }
    /// When the call was made.
    async fn requested_at(&self) -> DateTime {
        DateTime(self.0.requested)
    }
    /// Caller IP.
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    /// The API method, e.g. `AddSkill`.
    async fn cmd_name(&self) -> &str {
        &self.0.cmd_name
    }
    /// Its arguments (may be masked or resolved by Voximplant).
    async fn cmd_args(&self) -> Json {
        Json(self.0.cmd_args.clone())
    }
    /// Its result.
    async fn cmd_result(&self) -> Json {
        Json(self.0.cmd_result.clone())
    }
}

/// Filter of the Voximplant audit log; every field is applied by Voximplant.
#[derive(InputObject, Default, Clone)]
pub(crate) struct VoximplantAuditLogFilter {
    /// Entries after this instant (exclusive). Without it the window starts the configured
    /// look-back (default 30 days) before its end.
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_after: Option<DateTime>,
    /// Entries before this instant (exclusive). Without it: now.
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_before: Option<DateTime>,
    /// API method names.
    pub commands: Option<Vec<String>>,
    /// Caller IPs.
    pub ips: Option<Vec<String>>,
    /// The admin user id.
    pub admin_user_id: Option<String>,
    /// A related id: a phone number, user id or application id.
    pub related_id: Option<String>,
}

impl VoximplantAuditLogFilter {
    pub(crate) fn into_domain(self) -> AuditFilter {
        AuditFilter {
            created_after: self.created_after.map(|t| t.0),
            created_before: self.created_before.map(|t| t.0),
            commands: self.commands.unwrap_or_default(),
            ips: self.ips.unwrap_or_default(),
            admin_user_id: self.admin_user_id,
            related_id: self.related_id,
        }
    }
}

connection_names!(AuditNames, "VoximplantAuditLogConnection", "VoximplantAuditLogEdge");

pub(crate) type AuditConnection = CountedConnection<Position, VoximplantAuditLogEntry, AuditNames>;

/// The audit log query field (merged into `Query`).
#[derive(Default)]
pub(crate) struct VoximplantAuditQuery;

connection_fields! {
    impl VoximplantAuditQuery {
        /// The Voximplant account's audit log (GetAuditLog), newest first. Voximplant requires
        /// a date window: without `createdAfter` it spans the configured look-back (default 30
        /// days) before `createdBefore` or now. Needs a service account with the Owner role.
        fn voximplant_audit_log as "voximplantAuditLog"(ctx, filter: VoximplantAuditLogFilter, page) -> AuditConnection {
            let (service, filter) = (scope(ctx)?.service::<super::VoximplantScope>()?, filter.into_domain());
            let read = page.read(ctx, &filter, |after, n| service.audit_log(&filter, after, n));
            Ok(read.await?.counted(VoximplantAuditLogEntry, (service, filter), |(s, f), at| async move {
                s.audit_count(&f, at.as_ref()).await
            }))
        }
    }
}

/// Resolves the global ids of Voximplant audit log entries (`crate::graphql::node`).
pub(crate) const NODES: Loaded<super::VoximplantScope, AuditEntryLoader> = Loaded {
    kinds: &[AUDIT_LOG_ENTRY],
    loader: |scope| &scope.audit_entries,
    render: |entry| Node::VoximplantAuditLogEntry(VoximplantAuditLogEntry(entry)),
};
