//! File descriptors against `server.max_connections`: every client connection holds one,
//! and so do upstream connections, Redis, listeners and logs. With `ulimit -n` below what
//! the connection cap needs, `accept` would fail at the limit (and so would upstream
//! connects) instead of the cap answering 503. So at startup the soft limit is raised
//! towards the hard one; if that is still not enough, the effective cap is lowered to fit
//! and a warning names both numbers.

/// Descriptors kept for everything that is not a client connection (upstream pools per
/// provider and tenant, Redis, listeners, the log writer, epoll).
pub const RESERVED: u64 = 128;

/// The connection cap that fits the process's file-descriptor limit.
pub fn fit(max_connections: usize) -> usize {
    let needed = max_connections as u64 + RESERVED;
    let soft = match rlimit::increase_nofile_limit(needed) {
        Ok(soft) => soft,
        Err(e) => {
            tracing::debug!(error = %e, "the file-descriptor limit could not be read");
            return max_connections;
        }
    };
    effective(max_connections, soft)
}

/// `max_connections`, or what a soft limit of `soft` descriptors leaves room for (saying so).
fn effective(max_connections: usize, soft: u64) -> usize {
    let needed = max_connections as u64 + RESERVED;
    if soft >= needed {
        return max_connections;
    }
    let fits = usize::try_from(soft.saturating_sub(RESERVED).max(1)).unwrap_or(1);
    tracing::warn!(
        ulimit_n = soft,
        max_connections,
        needed,
        effective_max_connections = fits,
        "ulimit -n ({soft}) is below what server.max_connections ({max_connections}) needs (about {needed}, {RESERVED} kept for upstream connections and files): at most {fits} connections are accepted; raise the limit (ulimit -n {needed}, or LimitNOFILE= in systemd) or lower server.max_connections"
    );
    fits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_below_the_cap_lowers_it_and_a_sufficient_one_keeps_it() {
        assert_eq!(effective(1024, 65_536), 1024);
        assert_eq!(effective(1024, 1024 + RESERVED), 1024);
        assert_eq!(effective(1024, 1024), 1024 - RESERVED as usize);
        assert_eq!(effective(1024, 64), 1, "never zero");
    }
}
