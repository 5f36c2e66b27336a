//! The log writer: formatted lines are appended to one shared buffer, and a background
//! thread writes whatever has gathered to stderr every few milliseconds.
//!
//! `tracing-appender`'s non-blocking writer sends every line through a channel as its own
//! allocation and wakes its thread for it; on a busy gateway that wake-up and the write
//! it leads to cost more than formatting the line (an access or audit line cost about
//! 3.5 us of CPU per request that way). Here a line costs a lock and a copy; lines reach
//! stderr within `FLUSH_EVERY`, in the order they were written, never interleaved (each
//! formatted event arrives in one `write_all`). When the writer falls more than
//! `MAX_PENDING` behind, new lines are dropped, not waited for, and counted.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Most bytes waiting to be written; past it, lines are dropped.
const MAX_PENDING: usize = 8 << 20;

struct Shared {
    pending: Mutex<Vec<u8>>,
    /// Wakes the thread early: to stop.
    wake: Condvar,
    closed: AtomicBool,
    dropped: AtomicU64,
}

/// Where `tracing`'s formatter writes lines (a `MakeWriter`).
#[derive(Clone)]
pub struct Lines(Arc<Shared>);

/// Stops the writer thread when dropped, after it wrote every pending line.
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer for one formatted event.
pub struct Line<'a>(&'a Shared);

/// Starts the writer thread over `out`.
pub fn spawn(mut out: impl Write + Send + 'static) -> std::io::Result<(Lines, Guard)> {
    let shared = Arc::new(Shared {
        pending: Mutex::new(Vec::with_capacity(64 * 1024)),
        wake: Condvar::new(),
        closed: AtomicBool::new(false),
        dropped: AtomicU64::new(0),
    });
    let worker = shared.clone();
    let thread = std::thread::Builder::new()
        .name("switchboard-log".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(64 * 1024);
            loop {
                let closed = {
                    let pending = worker.pending.lock().unwrap_or_else(|e| e.into_inner());
                    let (mut pending, _) = worker
                        .wake
                        .wait_timeout(pending, FLUSH_EVERY)
                        .unwrap_or_else(|e| e.into_inner());
                    std::mem::swap(&mut *pending, &mut batch);
                    worker.closed.load(Ordering::Acquire)
                };
                let dropped = worker.dropped.swap(0, Ordering::Relaxed);
                if dropped > 0 {
                    let _ = writeln!(
                        batch,
                        "switchboard: {dropped} log lines dropped (the log writer fell behind)"
                    );
                }
                if !batch.is_empty() {
                    let _ = out.write_all(&batch);
                    let _ = out.flush();
                    batch.clear();
                }
                if closed {
                    let rest = std::mem::take(&mut *worker.pending.lock().unwrap_or_else(|e| e.into_inner()));
                    let _ = out.write_all(&rest);
                    let _ = out.flush();
                    return;
                }
            }
        })?;
    Ok((
        Lines(shared.clone()),
        Guard {
            shared,
            thread: Some(thread),
        },
    ))
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line(&self.0)
    }
}

impl Write for Line<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.0.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.len() + data.len() > MAX_PENDING {
            self.0.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            pending.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_whole_and_in_order_by_the_time_the_guard_is_dropped() {
        let sink = Sink::default();
        let (lines, guard) = spawn(sink.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let lines = lines.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        lines
                            .make_writer()
                            .write_all(format!("thread {t} line {i}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 4000);
        for t in 0..4 {
            let own: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<String> = (0..1000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(own, expected, "thread {t}'s lines whole and in order");
        }
    }

    #[test]
    fn lines_past_the_limit_are_dropped_and_counted_instead_of_waited_for() {
        let sink = Sink::default();
        let (lines, guard) = spawn(sink.clone()).unwrap();
        // Hold the buffer full, as a writer that fell behind would.
        {
            let mut pending = lines.0.pending.lock().unwrap();
            pending.resize(MAX_PENDING, b'.');
        }
        lines.make_writer().write_all(b"one more\n").unwrap();
        assert_eq!(lines.0.dropped.load(Ordering::Relaxed), 1);
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("one more"));
        assert!(text.ends_with("switchboard: 1 log lines dropped (the log writer fell behind)\n"));
    }
}
