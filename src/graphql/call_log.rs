//! The `Node` and `CallLog` interfaces (`interfaces!`, over the types the provider
//! registry lists), and `call_log_object!`, which writes the shared `CallLog` fields of
//! an implementing type once (each type only adds its own fields).

/// Declares the `Node` and `CallLog` interfaces over the given types (the call logs are
/// `Node`s too), with the conversions between them. Invoked once, by the provider
/// registry (`graphql::providers`), so the list of types lives there.
macro_rules! interfaces {
    (
        call_logs { $($(#[$lm:meta])* $log:ident: $($lp:ident)::+),* $(,)? }
        other_nodes { $($(#[$nm:meta])* $node:ident: $($np:ident)::+),* $(,)? }
    ) => {
        // Types arrive as identifier paths, not `ty` fragments: async-graphql's derive
        // cannot read a `ty` fragment's invisible group.
        /// Relay Global Object Identification: anything fetchable by `node(id)`.
        // Variant names are the GraphQL type names, many of which end in `Log`.
        #[allow(clippy::enum_variant_names)]
        #[derive(async_graphql::Interface)]
        #[graphql(field(name = "id", ty = "async_graphql::ID", desc = "Opaque global id."))]
        pub(crate) enum Node {
            $($(#[$lm])* $log($($lp)::+),)*
            $($(#[$nm])* $node($($np)::+),)*
        }

        /// One call (or call-like session) recorded by a provider.
        // The lint mistakes repeated `ty = ...` of different fields for duplicated attributes.
        // Serializable: live events travel between replicas (`graphql::live::bus`).
        #[allow(clippy::duplicated_attributes, clippy::enum_variant_names)]
        #[derive(Clone, serde::Serialize, serde::Deserialize, async_graphql::Interface)]
        #[graphql(
            field(
                name = "id",
                ty = "async_graphql::ID",
                desc = "Opaque global id; decodes to provider, kind and native id."
            ),
            field(name = "provider", ty = "crate::graphql::values::Provider", desc = "The provider that recorded the log."),
            field(name = "native_id", ty = "&str", desc = "The provider's own id."),
            field(
                name = "from",
                ty = "Option<&str>",
                desc = "Calling party, E.164 where the provider gives it."
            ),
            field(
                name = "to",
                ty = "Option<&str>",
                desc = "Called party, E.164 where the provider gives it."
            ),
            field(name = "direction", ty = "crate::graphql::values::CallDirection", desc = "Normalized direction."),
            field(name = "status", ty = "crate::graphql::values::CallStatus", desc = "Normalized status."),
            field(
                name = "provider_status",
                ty = "Option<&str>",
                desc = "The provider's raw status, unchanged."
            ),
            field(
                name = "created_at",
                ty = "crate::graphql::scalars::DateTime",
                desc = "When the provider created the log (UTC)."
            ),
            field(
                name = "started_at",
                ty = "Option<crate::graphql::scalars::DateTime>",
                desc = "When the call started, where known."
            ),
            field(
                name = "ended_at",
                ty = "Option<crate::graphql::scalars::DateTime>",
                desc = "When the call ended, where known."
            ),
            field(
                name = "duration_seconds",
                ty = "Option<i32>",
                desc = "Duration in whole seconds, where known."
            ),
            field(name = "cost", ty = "Option<crate::graphql::values::Money>", desc = "What the provider charged, exactly.")
        )]
        pub(crate) enum CallLog {
            $($(#[$lm])* $log($($lp)::+),)*
        }

        impl crate::graphql::flat::Concrete for CallLog {
            async fn resolve_concrete(
                &self,
                ctx: &async_graphql::ContextSelectionSet<'_>,
                field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> async_graphql::ServerResult<async_graphql::Value> {
                match self {
                    $($(#[$lm])* CallLog::$log(v) => async_graphql::OutputType::resolve(v, ctx, field).await,)*
                }
            }
        }

        impl crate::graphql::flat::Concrete for Node {
            async fn resolve_concrete(
                &self,
                ctx: &async_graphql::ContextSelectionSet<'_>,
                field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> async_graphql::ServerResult<async_graphql::Value> {
                match self {
                    $($(#[$lm])* Node::$log(v) => async_graphql::OutputType::resolve(v, ctx, field).await,)*
                    $($(#[$nm])* Node::$node(v) => async_graphql::OutputType::resolve(v, ctx, field).await,)*
                }
            }
        }

        impl From<CallLog> for Node {
            fn from(c: CallLog) -> Self {
                match c {
                    $($(#[$lm])* CallLog::$log(v) => Node::$log(v),)*
                }
            }
        }

        impl crate::graphql::flat::SharedFields for CallLog {
            fn core(&self) -> &crate::domain::CallLogCore {
                match self {
                    $($(#[$lm])* CallLog::$log(v) => crate::graphql::flat::SharedFields::core(v),)*
                }
            }
            fn global_id(&self) -> String {
                match self {
                    $($(#[$lm])* CallLog::$log(v) => crate::graphql::flat::SharedFields::global_id(v),)*
                }
            }
            fn as_any(&self) -> &(dyn std::any::Any + Sync) {
                match self {
                    $($(#[$lm])* CallLog::$log(v) => crate::graphql::flat::SharedFields::as_any(v),)*
                }
            }
        }

        impl crate::graphql::flat::MaybeShared for Node {
            const CALL_LOGS: bool = false;
            fn shared(&self) -> Option<&dyn crate::graphql::flat::SharedFields> {
                match self {
                    $($(#[$lm])* Node::$log(v) => Some(v),)*
                    $($(#[$nm])* Node::$node(_) => None,)*
                }
            }
        }

        impl Node {
            /// The call log this node is, if it is one.
            pub(crate) fn into_call_log(self) -> Option<CallLog> {
                match self {
                    $($(#[$lm])* Node::$log(v) => Some(CallLog::$log(v)),)*
                    $($(#[$nm])* Node::$node(_) => None,)*
                }
            }
        }
    };
}

pub(crate) use interfaces;

pub(super) use super::providers::{CallLog, Node};

/// Writes an `#[Object]` impl holding every `CallLog` field plus the given ones. The type
/// must have (in a plain impl) `fn core(&self) -> &CallLogCore`, `fn id_kind(&self) -> NodeKind`
/// and `fn id_native(&self) -> Cow<'_, str>` (what the global id carries).
macro_rules! call_log_object {
    ($(#[$meta:meta])* $ty:ty { $($fields:tt)* }) => {
        impl crate::graphql::flat::SharedFields for $ty {
            fn core(&self) -> &crate::domain::CallLogCore {
                <$ty>::core(self)
            }
            fn global_id(&self) -> String {
                crate::domain::encode_id(self.id_kind(), &self.id_native())
            }
            fn as_any(&self) -> &(dyn std::any::Any + Sync) {
                self
            }
        }

        impl crate::graphql::flat::Concrete for $ty {}

        $(#[$meta])*
        #[async_graphql::Object]
        impl $ty {
            /// Opaque global id; decodes to provider, kind and native id.
            pub(crate) async fn id(&self) -> async_graphql::ID {
                async_graphql::ID(crate::graphql::flat::SharedFields::global_id(self))
            }
            /// The provider that recorded the log.
            pub(crate) async fn provider(&self) -> crate::graphql::values::Provider {
                self.core().provider.into()
            }
            /// The provider's own id.
            pub(crate) async fn native_id(&self) -> &str {
                &self.core().native_id
            }
            /// Calling party, E.164 where the provider gives it.
            pub(crate) async fn from(&self) -> Option<&str> {
                self.core().from.as_deref()
            }
            /// Called party, E.164 where the provider gives it.
            pub(crate) async fn to(&self) -> Option<&str> {
                self.core().to.as_deref()
            }
            /// Normalized direction.
            pub(crate) async fn direction(&self) -> crate::graphql::values::CallDirection {
                self.core().direction.into()
            }
            /// Normalized status.
            pub(crate) async fn status(&self) -> crate::graphql::values::CallStatus {
                self.core().status.into()
            }
            /// The provider's raw status, unchanged.
            pub(crate) async fn provider_status(&self) -> Option<&str> {
                self.core().provider_status.as_deref()
            }
            /// When the provider created the log (UTC).
            pub(crate) async fn created_at(&self) -> crate::graphql::scalars::DateTime {
                crate::graphql::scalars::DateTime(self.core().created_at)
            }
            /// When the call started, where known.
            pub(crate) async fn started_at(&self) -> Option<crate::graphql::scalars::DateTime> {
                self.core().started_at.map(crate::graphql::scalars::DateTime)
            }
            /// When the call ended, where known.
            pub(crate) async fn ended_at(&self) -> Option<crate::graphql::scalars::DateTime> {
                self.core().ended_at.map(crate::graphql::scalars::DateTime)
            }
            /// Duration in whole seconds, where known.
            pub(crate) async fn duration_seconds(&self) -> async_graphql::Result<Option<i32>> {
                Ok(crate::graphql::values::opt_int32(self.core().duration_seconds)?)
            }
            /// What the provider charged, exactly.
            pub(crate) async fn cost(&self) -> Option<crate::graphql::values::Money> {
                self.core().cost.as_ref().map(Into::into)
            }
            $($fields)*
        }
    };
}

pub(crate) use call_log_object;
