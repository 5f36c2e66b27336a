//! Demand control below GraphQL: what a request may still spend.
//!
//! A request's cost is counted in units of a tenth of an upstream call (`cost`): an
//! upstream call costs 10, a request that needs none costs 1. Budgets per tenant and per
//! user (`[limits]`) refill continuously over a minute (GCRA, `gcra`); `budgets` keeps them
//! in this process, or in Redis so every replica draws on one budget (`shared`), and falls
//! back to a per-replica share of each budget while Redis is down.
//!
//! It knows neither GraphQL nor HTTP: the GraphQL layer estimates a document's cost
//! (`graphql::cost`), the HTTP layer admits, refuses and reports (`http::demand`).

pub mod budgets;
pub mod config;
pub mod cost;
pub mod gcra;
mod shared;

pub use budgets::{Admission, Budgets, Payer, Standing, Ticket, User};
pub use config::LimitsConfig;
pub use cost::Cost;
