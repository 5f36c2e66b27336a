//! Provider-neutral call-log vocabulary: the normalized fields every provider maps into
//! (`CallLogCore`), the enums of the `CallLog` interface, money and global ids.
//!
//! Nothing here knows about HTTP, GraphQL or a provider's wire format; providers map into
//! these types at their edge and the GraphQL layer only renders them.

mod call_log;
mod ids;
mod money;
mod tenant;
pub mod time;

pub use call_log::{CallDirection, CallLogCore, CallStatus, Provider};
pub use ids::{GlobalId, IdError, NodeKind, encode as encode_id};
pub use money::{Money, MoneyError, currency};
pub use tenant::TenantId;
