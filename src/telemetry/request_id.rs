//! The id of the request a task is working for, as a tokio task-local: set around each
//! request by `http::observe`, carried into the DataLoader tasks a request spawns
//! (`request::spawn_in_budget`), and read wherever a log line or an error should
//! name the request.

use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// Runs `future` as work for request `id`.
pub fn scope<F: Future>(id: Arc<str>, future: F) -> impl Future<Output = F::Output> {
    REQUEST_ID.scope(id, future)
}

/// Runs `future` for the same request as the current task, if it works for one.
pub fn inherit<F: Future>(future: F) -> impl Future<Output = F::Output> {
    let id = REQUEST_ID.try_with(Arc::clone).unwrap_or_else(|_| Arc::from(""));
    REQUEST_ID.scope(id, future)
}

/// The current request's id, if the task works for one.
pub fn current() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok().filter(|id| !id.is_empty())
}
