//! Time, behind a seam so that tests never sleep.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The future of [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The source of the current time for every expiry decision in the entra-* crates.
///
/// Implementations must be cheap, must never go backwards on their own (a
/// [`ManualClock`] goes where the test puts it), and must be safe to call from many
/// threads at once.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// Waits `duration` (a `Retry-After`, a backoff). Defaults to a tokio timer;
    /// a [`ManualClock`] moves itself forward instead, so retry tests take no real
    /// time.
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }

    /// Seconds since the Unix epoch (0 for times before it). [`SystemClock`]'s
    /// may be up to one scheduler tick behind `unix_seconds(self.now())` (it
    /// reads the coarse clock).
    fn unix_now(&self) -> i64 {
        unix_seconds(self.now())
    }
}

/// Whole seconds since the Unix epoch, rounded down: 0 for times before it,
/// `i64::MAX` for times past that.
pub fn unix_seconds(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
    fn unix_now(&self) -> i64 {
        (**self).unix_now()
    }
}

impl<T: Clock + ?Sized> Clock for Box<T> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
    fn unix_now(&self) -> i64 {
        (**self).unix_now()
    }
}

impl<T: Clock + ?Sized> Clock for Arc<T> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
    fn unix_now(&self) -> i64 {
        (**self).unix_now()
    }
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    /// On Linux, the kernel's coarse real-time clock (`CLOCK_REALTIME_COARSE`,
    /// read from the vDSO): it moves once per scheduler tick, so it is at most a
    /// few milliseconds behind [`SystemClock::now`], and costs about a third of a
    /// precise read. Every decision made with it is in whole seconds (`exp`,
    /// `nbf`, cache lifetimes), and it is read on every cached validation.
    fn unix_now(&self) -> i64 {
        #[cfg(target_os = "linux")]
        {
            rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse).tv_sec.max(0)
        }
        #[cfg(not(target_os = "linux"))]
        {
            unix_seconds(self.now())
        }
    }
}

/// A clock that moves only when told to. Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use entra_core::{Clock, ManualClock};
/// let clock = ManualClock::at_unix(1_700_000_000);
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(3600));
/// assert_eq!(shared.unix_now(), 1_700_003_600);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// A clock stopped at `time`.
    pub fn new(time: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(time)))
    }

    /// A clock stopped at the current system time.
    pub fn starting_now() -> Self {
        Self::new(SystemTime::now())
    }

    /// A clock stopped at `secs` seconds after the Unix epoch.
    pub fn at_unix(secs: u64) -> Self {
        Self::new(UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *t += by;
    }

    /// Sets the clock.
    pub fn set(&self, time: SystemTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = time;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
    /// Moves the clock forward by `duration` at once, then yields to the
    /// runtime.
    fn sleep(&self, duration: Duration) -> Sleep {
        self.advance(duration);
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clocks_seconds_agree_with_the_precise_clock() {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        for _ in 0..1000 {
            let before = unix_seconds(SystemTime::now());
            let coarse = clock.unix_now();
            let after = unix_seconds(SystemTime::now());
            // At most one tick (a few milliseconds) behind: the same second or
            // the one before, never ahead.
            assert!(before - 1 <= coarse && coarse <= after, "{before} {coarse} {after}");
        }
        assert!(clock.unix_now() > 1_700_000_000);
    }

    #[test]
    fn wrappers_forward_unix_now() {
        struct Fixed;
        impl fmt::Debug for Fixed {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Fixed")
            }
        }
        impl Clock for Fixed {
            fn now(&self) -> SystemTime {
                UNIX_EPOCH
            }
            fn unix_now(&self) -> i64 {
                42
            }
        }
        assert_eq!(Clock::unix_now(&&Fixed), 42);
        assert_eq!(Box::new(Fixed).unix_now(), 42);
        let shared: Arc<dyn Clock> = Arc::new(Fixed);
        assert_eq!(shared.unix_now(), 42);
    }
}
