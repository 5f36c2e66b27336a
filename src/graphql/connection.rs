//! Relay connection plumbing shared by every connection: `first`/`after` validation,
//! cursor encoding bound to the tenant, the connection and the filter, and edge assembly.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_graphql::connection::{Connection, ConnectionNameType, Edge, EdgeNameType, EmptyFields};
use async_graphql::{ObjectType, OutputType};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::cursor::{Binding, LazyCursor};
use super::error::GatewayError;
use super::scope::{Env, scope};
use crate::providers::Window;
use crate::upstream::UpstreamError;

/// Page-size limits from config, stored in the schema's data.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub default_size: usize,
    pub max_size: usize,
    /// Items one `callLogs` stream may scan per page for gateway-side filters.
    pub scan_bound: usize,
    /// Most ids one `nodes` call may take.
    pub max_node_ids: usize,
}

/// A validated `first`/`after` for one connection and filter.
pub(super) struct PageArgs<P> {
    pub first: usize,
    pub after: Option<P>,
    /// Items one `callLogs` stream may scan per page (config `timeline_scan_bound`).
    pub scan_bound: usize,
    binding: Arc<Binding>,
}

/// The form a cursor is bound to: the filter as JSON with its lists sorted and without
/// repeats (a filter's lists are sets), so one filter written two ways (`providers: [A,
/// B]` or `[B, A]`) pages with the same cursors, and any other filter refuses them.
pub(super) fn canonical_filter(filter: &impl Serialize) -> String {
    fn normalize(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Array(items) => {
                items.iter_mut().for_each(normalize);
                items.sort_by_cached_key(|item| item.to_string());
                items.dedup();
            }
            serde_json::Value::Object(fields) => fields.values_mut().for_each(normalize),
            _ => {}
        }
    }
    // Without a list there is nothing to normalize, and (serde_json keeps the order of
    // object keys) the direct form is the same text.
    if let Ok(json) = serde_json::to_string(filter)
        && !json.contains('[')
    {
        return json;
    }
    let mut value = serde_json::to_value(filter).unwrap_or(serde_json::Value::Null);
    normalize(&mut value);
    value.to_string()
}

/// `totalCount` of a provider connection: the provider counts (one upstream call,
/// cached like a page) only when the field is selected.
pub(super) struct TotalCount(Box<dyn Fn() -> CountFuture + Send + Sync>);

/// What a provider's count returns.
type CountFuture = Pin<Box<dyn Future<Output = Result<u64, UpstreamError>> + Send>>;

impl TotalCount {
    /// A count made by `count(state)` (a fresh clone of `state` each time) when
    /// `totalCount` is selected, e.g. `(service, filter)`.
    pub(super) fn new<S, F, Fut>(state: S, count: F) -> Self
    where
        S: Clone + Send + Sync + 'static,
        F: Fn(S) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<u64, UpstreamError>> + Send + 'static,
    {
        TotalCount(Box::new(move || Box::pin(count(state.clone()))))
    }
}

impl TotalCount {
    /// The count, for the resolver and for plans.
    pub(super) async fn value(&self) -> Result<i32, GatewayError> {
        crate::graphql::values::int32((self.0)().await?)
    }
}

#[async_graphql::Object]
impl TotalCount {
    /// Items matching the filter, as the provider counts them (within the listing's date
    /// window where the provider needs one); counted only when selected.
    async fn total_count(&self) -> async_graphql::Result<i32> {
        Ok(self.value().await?)
    }
}

/// The paging arguments of a connection field, as the client gave them
/// (`connection_fields!` passes them to the field's body).
pub(crate) struct Page {
    /// The connection field's name (cursors are bound to it).
    pub connection: &'static str,
    pub first: Option<i32>,
    pub after: Option<String>,
}

impl Page {
    /// Validates the arguments for `connection` and `filter` (`PageArgs::parse`).
    pub(super) fn args<P>(
        &self,
        env: &(impl Env + ?Sized),
        filter: &impl Serialize,
    ) -> Result<PageArgs<P>, GatewayError>
    where
        P: Serialize + DeserializeOwned + Clone + Send + Sync,
    {
        PageArgs::parse(env, self.connection, filter, self.first, self.after.as_deref())
    }

    /// Reads one page of a provider connection: validates the arguments, asks `fetch`
    /// for the window (`fetch(after, first)`) and reports what it passed
    /// (`Window::error`) beside the page.
    pub(super) async fn read<P, T, Fut>(
        &self,
        env: &(impl Env + ?Sized),
        filter: &impl Serialize,
        fetch: impl FnOnce(Option<P>, usize) -> Fut,
    ) -> Result<Read<P, T>, GatewayError>
    where
        P: Serialize + DeserializeOwned + Clone + Send + Sync,
        Fut: Future<Output = Result<Window<P, T>, UpstreamError>>,
    {
        let args = self.args::<P>(env, filter)?;
        let mut window = fetch(args.after.clone(), args.first).await?;
        if let Some(e) = window.error.take() {
            env.report(e.into());
        }
        Ok(Read { args, window })
    }
}

/// A provider connection's page read by `Page::read`, to render as its connection.
pub(super) struct Read<P, T> {
    args: PageArgs<P>,
    window: Window<P, T>,
}

impl<P: Serialize + DeserializeOwned + Clone + Send + Sync, T> Read<P, T> {
    /// The connection of the page's items, each rendered by `node`.
    pub(super) fn connection<Node: OutputType, N: ConnectionNameType + EdgeNameType>(
        self,
        node: impl Fn(Arc<T>) -> Node,
    ) -> NamedConnection<P, Node, N> {
        self.args.connection(self.window.edges, self.window.has_next, node)
    }

    /// The connection with `totalCount`, counted when selected by `count(state, after)`
    /// (`after`: the page's cursor position, for providers whose count depends on it).
    pub(super) fn counted<Node, N, S, F, Fut>(
        self,
        node: impl Fn(Arc<T>) -> Node,
        state: S,
        count: F,
    ) -> CountedConnection<P, Node, N>
    where
        Node: OutputType,
        N: ConnectionNameType + EdgeNameType,
        P: 'static,
        S: Clone + Send + Sync + 'static,
        F: Fn(S, Option<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<u64, UpstreamError>> + Send + 'static,
    {
        let total = TotalCount::new((state, self.args.after.clone()), move |(state, after)| {
            count(state, after)
        });
        self.args
            .connection_with(self.window.edges, self.window.has_next, node, total)
    }
}

/// The connection of a provider connection field that counts (`Read::counted`).
pub(super) type CountedConnection<P, Node, N> = Connection<LazyCursor<P>, Node, TotalCount, EmptyFields, N, N>;

/// A connection whose GraphQL names come from `N` (e.g. `SignalWireVoiceLogConnection`).
pub(super) type NamedConnection<P, Node, N> = Connection<LazyCursor<P>, Node, EmptyFields, EmptyFields, N, N>;

impl<P: Serialize + DeserializeOwned + Clone + Send + Sync> PageArgs<P> {
    /// Validates `first` (1..=max, default from config) and decodes `after` for this
    /// connection and filter (its canonical form, `canonical_filter`); both failures are
    /// `BAD_USER_INPUT`.
    pub(super) fn parse(
        env: &(impl Env + ?Sized),
        connection: &'static str,
        filter: &impl Serialize,
        first: Option<i32>,
        after: Option<&str>,
    ) -> Result<Self, GatewayError> {
        let filter = canonical_filter(filter);
        let (paging, codec) = (env.paging()?, env.codec()?);
        let first = match first {
            None => paging.default_size,
            Some(n) if n >= 1 && n as usize <= paging.max_size => n as usize,
            Some(n) => {
                return Err(GatewayError::bad_input(format!(
                    "`first` must be between 1 and {}, got {n}",
                    paging.max_size
                )));
            }
        };
        // Cursors bind the caller's view as well as the tenant: a cursor of a masked view
        // does not resume under another (and the reverse).
        let request = scope(env)?;
        let tenant = match request.access.view().bits() {
            0 => std::borrow::Cow::Borrowed(request.tenant.id.as_str()),
            view => std::borrow::Cow::Owned(format!("{}\0view:{view:x}", request.tenant.id.as_str())),
        };
        let after = after
            .map(|c| codec.decode(&tenant, connection, &filter, c))
            .transpose()?;
        let binding = Arc::new(Binding::new(codec.clone(), &tenant, connection, filter));
        Ok(PageArgs {
            first,
            after,
            scan_bound: paging.scan_bound,
            binding,
        })
    }

    /// The cursor of one position (signed when rendered).
    pub(super) fn cursor(&self, position: &P) -> LazyCursor<P> {
        self.cursor_at(position.clone())
    }

    fn cursor_at(&self, position: P) -> LazyCursor<P> {
        LazyCursor::new(self.binding.clone(), position)
    }

    /// Builds the connection from positioned items, in order.
    pub(super) fn connection<T, Node, N>(
        &self,
        items: impl IntoIterator<Item = (P, T)>,
        has_next: bool,
        node: impl Fn(T) -> Node,
    ) -> NamedConnection<P, Node, N>
    where
        Node: OutputType,
        N: ConnectionNameType + EdgeNameType,
    {
        self.connection_with(items, has_next, node, EmptyFields)
    }

    /// Builds the connection from positioned items, in order, with connection-level
    /// fields such as `totalCount`.
    pub(super) fn connection_with<T, Node, Fields, N>(
        &self,
        items: impl IntoIterator<Item = (P, T)>,
        has_next: bool,
        node: impl Fn(T) -> Node,
        fields: Fields,
    ) -> Connection<LazyCursor<P>, Node, Fields, EmptyFields, N, N>
    where
        Node: OutputType,
        Fields: ObjectType,
        N: ConnectionNameType + EdgeNameType,
    {
        let mut connection = Connection::with_additional_fields(self.after.is_some(), has_next, fields);
        connection.edges = items
            .into_iter()
            .map(|(position, item)| Edge::new(self.cursor_at(position), node(item)))
            .collect();
        connection
    }
}

/// Declares a type naming a connection and its edge type in the schema.
macro_rules! connection_names {
    ($name:ident, $connection:literal, $edge:literal) => {
        pub(crate) struct $name;
        impl async_graphql::connection::ConnectionNameType for $name {
            fn type_name<T: async_graphql::OutputType>() -> String {
                $connection.to_string()
            }
        }
        impl async_graphql::connection::EdgeNameType for $name {
            fn type_name<T: async_graphql::OutputType>() -> String {
                $edge.to_string()
            }
        }
    };
}

pub(crate) use connection_names;

/// Declares a root object whose fields are connections. Each field takes `filter`
/// (optional, its default when omitted), `first` and `after`, whose description and
/// complexity are written here once, and resolves with its body, which returns
/// `Result<Connection, GatewayError>`:
///
/// ```ignore
/// connection_fields! {
///     impl OneUptimeQuery {
///         /// OneUptime call logs, newest first.
///         fn one_uptime_call_logs as "oneUptimeCallLogs"(ctx, filter: OneUptimeCallLogFilter, page) -> OneUptimeConnection {
///             /* read with `page.read(ctx, ...)` */
///         }
///     }
/// }
/// ```
///
/// The body is written against `scope::Env`, and runs twice over: as the field's
/// async-graphql resolver, and as the field's reader in compiled plans (`PLANNED`,
/// `graphql::plan`), which render its connection without async-graphql.
macro_rules! connection_fields {
    // Fields plans cannot read (their body needs async-graphql's `Context`): resolvers only.
    (
        unplanned impl $object:ident {
            $(
                $(#[$attr:meta])*
                fn $field:ident as $name:literal($ctx:ident, $filter:ident: $filter_type:ty, $page:ident) -> $connection:ty $body:block
            )+
        }
    ) => {
        crate::graphql::connection::connection_fields! {
            @resolvers impl $object {
                $( $(#[$attr])* fn $field as $name($ctx, $filter: $filter_type, $page) -> $connection $body )+
            }
        }
    };
    (
        impl $object:ident {
            $(
                $(#[$attr:meta])*
                fn $field:ident as $name:literal($ctx:ident, $filter:ident: $filter_type:ty, $page:ident) -> $connection:ty $body:block
            )+
        }
    ) => {
        crate::graphql::connection::connection_fields! {
            @resolvers impl $object {
                $( $(#[$attr])* fn $field as $name($ctx, $filter: $filter_type, $page) -> $connection $body )+
            }
        }
        crate::graphql::connection::connection_fields! {
            @planned impl $object {
                $( fn $field as $name($ctx, $filter: $filter_type, $page) -> $connection $body )+
            }
        }
    };
    (
        @resolvers impl $object:ident {
            $(
                $(#[$attr:meta])*
                fn $field:ident as $name:literal($ctx:ident, $filter:ident: $filter_type:ty, $page:ident) -> $connection:ty $body:block
            )+
        }
    ) => {
        #[async_graphql::Object]
        impl $object {
            $(
                $(#[$attr])*
                #[graphql(complexity = "crate::graphql::connection::page_complexity(first, child_complexity)")]
                async fn $field(
                    &self,
                    $ctx: &async_graphql::Context<'_>,
                    $filter: Option<$filter_type>,
                    #[graphql(desc = "Page size, 1 to the configured maximum (default 100); 20 when omitted.")]
                    first: Option<i32>,
                    after: Option<String>,
                ) -> async_graphql::Result<$connection> {
                    let $filter = $filter.unwrap_or_default();
                    let $page = crate::graphql::connection::Page { connection: $name, first, after };
                    let answer: Result<$connection, crate::graphql::error::GatewayError> = async { $body }.await;
                    Ok(answer?)
                }
            )+
        }
    };
    (
        @planned impl $object:ident {
            $(
                fn $field:ident as $name:literal($ctx:ident, $filter:ident: $filter_type:ty, $page:ident) -> $connection:ty $body:block
            )+
        }
    ) => {
        impl $object {
            /// Its fields as compiled plans read them (`graphql::plan`).
            pub(crate) const PLANNED: &'static [crate::graphql::plan::PlannedField] = &[
                $(
                    crate::graphql::plan::PlannedField {
                        name: $name,
                        call_logs: <$connection as crate::graphql::plan::PlanConnection>::CALL_LOGS,
                        read: {
                            fn read<'a>(
                                $ctx: &'a crate::graphql::plan::FieldEnv<'a>,
                                arguments: &'a crate::graphql::plan::Arguments,
                            ) -> crate::graphql::plan::ReadFuture<'a> {
                                Box::pin(async move {
                                    let $filter = arguments.input::<Option<$filter_type>>("filter")?.unwrap_or_default();
                                    let $page = crate::graphql::connection::Page {
                                        connection: $name,
                                        first: arguments.input("first")?,
                                        after: arguments.input("after")?,
                                    };
                                    let answer: Result<$connection, crate::graphql::error::GatewayError> = async { $body }.await;
                                    Ok(Box::new(answer?) as Box<dyn crate::graphql::plan::RenderConnection>)
                                })
                            }
                            read
                        },
                    },
                )+
            ];
        }
    };
}

pub(crate) use connection_fields;

/// Complexity of a connection field: its children cost once per item asked for (`first`,
/// default 20), so `first: 100` of a wide selection costs what it will execute.
pub(super) fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let items = first.unwrap_or(20).clamp(1, i32::MAX) as usize;
    items.saturating_mul(child_complexity).saturating_add(1)
}

/// Complexity of `nodes`: its children cost once per id.
pub(super) fn ids_complexity(ids: usize, child_complexity: usize) -> usize {
    ids.max(1).saturating_mul(child_complexity).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::canonical_filter;
    use serde_json::json;

    #[test]
    fn lists_in_another_order_or_repeated_are_the_same_filter() {
        let a = json!({"providers": ["SignalWire", "OneUptime"], "number": null});
        let b = json!({"providers": ["OneUptime", "SignalWire", "OneUptime"], "number": null});
        assert_eq!(canonical_filter(&a), canonical_filter(&b));
        let c = json!({"providers": ["OneUptime"], "number": null});
        assert_ne!(canonical_filter(&a), canonical_filter(&c));
    }

    /// A filter without lists takes the short way; cursors bound to its form before stay
    /// valid, so the form is the one the long way gives.
    #[test]
    fn a_filter_without_lists_has_the_form_it_always_had() {
        #[derive(serde::Serialize)]
        struct Filter {
            created_after: Option<&'static str>,
            number: Option<&'static str>,
            include_deleted: bool,
        }
        let filter = Filter {
            created_after: Some("2026-01-01T00:00:00Z"),
            number: None,
            include_deleted: true,
        };
        let long_way = serde_json::to_value(&filter).unwrap().to_string();
        assert_eq!(canonical_filter(&filter), long_way);
        assert_eq!(
            long_way,
            r#"{"created_after":"2026-01-01T00:00:00Z","number":null,"include_deleted":true}"#
        );
    }
}
