//! Budgets in Redis, so every replica draws on one: each charge is one `EVAL` of a script
//! that does what `gcra` does, for the tenant's and the user's budget together, on Redis's
//! clock, atomically (two replicas can never both spend the last unit).
//!
//! Every replica also says it is alive every `BEAT` (a sorted set of replica ids by last
//! beat), so while Redis does not answer each one knows how many replicas it last saw and
//! keeps that share of each budget. A failed command makes the next `RETRY` of charges
//! local without asking Redis, so a dead Redis adds no latency.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::gcra::Rate;

/// How often a replica says it is alive.
pub(super) const BEAT: Duration = Duration::from_secs(5);
/// A replica not heard from for this long is no longer counted.
const GONE: Duration = Duration::from_secs(15);
/// How long charges stay local after Redis failed to answer.
const RETRY: Duration = Duration::from_secs(1);

/// Reserves (mode `r`, refusing when any budget lacks the cost) or settles (mode `s`,
/// never refusing) `ARGV[1]` units on each key; `ARGV[2 + 2i]` and `ARGV[3 + 2i]` are key
/// i's refill interval (us) and limit. Returns `{now, wait, tat...}` in microseconds.
const CHARGE: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local cost = tonumber(ARGV[1])
local reserve = ARGV[2] == 'r'
local base = {}
local wait = 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[1 + 2 * i])
  local burst = interval * tonumber(ARGV[2 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  base[i] = tat
  local ahead = tat + cost * interval - now
  if reserve and ahead > burst and ahead - burst > wait then wait = ahead - burst end
end
local result = {string.format('%.0f', now), string.format('%.0f', wait)}
for i = 1, #KEYS do
  local tat = base[i]
  if wait == 0 then
    tat = tat + cost * tonumber(ARGV[1 + 2 * i])
    if tat < now then tat = now end
    if tat > now then
      redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
    else
      redis.call('DEL', KEYS[i])
    end
  end
  result[#result + 1] = string.format('%.0f', tat)
end
return result";

/// What Redis answered to a charge: its clock, the wait (0: charged) and each key's
/// arrival time after it.
pub(super) struct Reply {
    pub now: u64,
    pub wait: u64,
    pub tats: Vec<u64>,
}

/// The Redis side of the budgets.
pub(super) struct Shared {
    commands: ConnectionManager,
    prefix: String,
    replicas_key: String,
    replica: String,
    timeout: Duration,
    /// Charges stay local until then.
    local_until: Mutex<Option<Instant>>,
    /// Replicas seen at the last beat (this one included).
    replicas: AtomicU64,
    /// Whether the last command reached Redis (to log each change once).
    up: AtomicBool,
}

impl Shared {
    /// Budgets under `prefix` in the Redis at `url`; connects on first use.
    pub(super) fn connect(url: &str, prefix: &str, timeout: Duration) -> Result<Shared, String> {
        let client = redis::Client::open(url).map_err(|e| format!("{:?}", e.kind()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(0);
        let commands = client
            .get_connection_manager_lazy(config)
            .map_err(|e| format!("{:?}", e.kind()))?;
        Ok(Shared {
            commands,
            prefix: format!("{prefix}:budget:"),
            replicas_key: format!("{prefix}:budget-replicas"),
            replica: uuid::Uuid::new_v4().to_string(),
            timeout,
            local_until: Mutex::new(None),
            replicas: AtomicU64::new(1),
            up: AtomicBool::new(true),
        })
    }

    /// The Redis key of a budget key.
    pub(super) fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Replicas this one last saw (at least 1).
    pub(super) fn replicas(&self) -> u64 {
        self.replicas.load(Ordering::Relaxed).max(1)
    }

    fn available(&self) -> bool {
        let mut until = self
            .local_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match *until {
            Some(at) if Instant::now() < at => false,
            Some(_) => {
                *until = None;
                true
            }
            None => true,
        }
    }

    /// Says once when Redis stops or starts answering, and keeps charges local for a while
    /// after a failure.
    fn health(&self, up: bool, error: Option<&str>) {
        if !up {
            *self
                .local_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now() + RETRY);
        }
        if self.up.swap(up, Ordering::AcqRel) != up {
            match error {
                Some(e) => tracing::warn!(
                    error = e,
                    replicas = self.replicas(),
                    "cost budgets: Redis is not answering; this replica now keeps its own share of each budget (the budget divided by the replicas it last saw)"
                ),
                None => tracing::info!("cost budgets: Redis answers again; replicas share each budget"),
            }
        }
    }

    /// Charges `cost` on `keys` (Redis keys) with their rates; `None` when Redis did not
    /// answer (the caller charges locally).
    pub(super) async fn charge(&self, keys: &[(String, Rate)], cost: i64, reserve: bool) -> Option<Reply> {
        if !self.available() {
            return None;
        }
        let mut eval = redis::cmd("EVAL");
        eval.arg(CHARGE).arg(keys.len());
        for (key, _) in keys {
            eval.arg(key);
        }
        eval.arg(cost).arg(if reserve { "r" } else { "s" });
        for (_, rate) in keys {
            eval.arg(rate.interval_us()).arg(rate.limit);
        }
        let mut commands = self.commands.clone();
        let answer = tokio::time::timeout(self.timeout, eval.query_async::<Vec<String>>(&mut commands)).await;
        let numbers = match answer {
            Ok(Ok(values)) => values.iter().map(|v| v.parse::<u64>()).collect::<Result<Vec<_>, _>>(),
            Ok(Err(e)) => {
                self.health(false, Some(&e.to_string()));
                return None;
            }
            Err(_) => {
                self.health(false, Some("timed out"));
                return None;
            }
        };
        match numbers {
            Ok(numbers) if numbers.len() == keys.len() + 2 => {
                self.health(true, None);
                Some(Reply {
                    now: numbers[0],
                    wait: numbers[1],
                    tats: numbers[2..].to_vec(),
                })
            }
            _ => {
                self.health(false, Some("unexpected answer to the budget script"));
                None
            }
        }
    }

    /// Says this replica is alive and counts the live ones (every `BEAT`).
    pub(super) async fn beat_once(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let mut pipe = redis::pipe();
        pipe.cmd("ZADD")
            .arg(&self.replicas_key)
            .arg(now)
            .arg(&self.replica)
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&self.replicas_key)
            .arg("-inf")
            .arg(now.saturating_sub(GONE.as_millis() as u64))
            .ignore()
            .cmd("PEXPIRE")
            .arg(&self.replicas_key)
            .arg(GONE.as_millis() as u64)
            .ignore()
            .cmd("ZCARD")
            .arg(&self.replicas_key);
        let mut commands = self.commands.clone();
        match tokio::time::timeout(self.timeout, pipe.query_async::<(u64,)>(&mut commands)).await {
            Ok(Ok((count,))) => {
                self.replicas.store(count.max(1), Ordering::Relaxed);
            }
            Ok(Err(e)) => self.health(false, Some(&e.to_string())),
            Err(_) => self.health(false, Some("timed out")),
        }
    }
}
