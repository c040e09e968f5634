//! The built-in scheduler of `coco serve` (`[schedule]` in `notifications.toml`):
//!
//! - the **daily run**: sleeps until the next time the cron expression `schedule.daily`
//!   fires (UTC), then runs what `coco run daily` runs — score as of today, predictions,
//!   alerts with their tasks and messages, digests, delivery — with trigger `scheduler`
//!   in the run log, and forgets every memoised view (the snapshot changed);
//! - the **outbox drain**: every `deliver_every_seconds`, one delivery pass over the
//!   messages that are due (retries after their back-off, alerts queued by the API).
//!
//! Both run on store handles of the pool (blocking threads) and one at a time with the
//! API's daily runs (`Shared::actions_lock`). A failure is logged and the loop goes on:
//! the scheduler never takes the server down. Missed times are not made up: a server
//! started after today's time waits for tomorrow's (`coco run daily` runs one by hand).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coco_actions::notify::Notifier;
use coco_engine::actions::daily::DailyOptions;
use coco_engine::actions::outbox::{self, DeliveryReport};
use tokio::task::JoinHandle;

use crate::error::AppError;
use crate::state::AppState;

/// The first time `schedule` fires strictly after `after`.
pub fn next_fire_after(schedule: &cron::Schedule, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    schedule.after(&after).next()
}

/// The running loops; dropping it stops them.
pub struct Scheduler {
    daily: JoinHandle<()>,
    deliver: JoinHandle<()>,
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.daily.abort();
        self.deliver.abort();
    }
}

/// Starts the daily run and the outbox drain when `schedule.enabled` (None otherwise).
/// Call it inside the server's runtime.
pub fn start(state: &AppState) -> Option<Scheduler> {
    let actions = &state.inner.actions;
    let settings = &actions.notifications.schedule;
    if !settings.enabled {
        tracing::info!(
            origin = actions.notifications_origin,
            "the scheduler is off (schedule.enabled = false): `coco run daily` and `coco outbox deliver` by hand"
        );
        return None;
    }
    tracing::info!(
        daily = settings.daily,
        deliver_every_seconds = settings.deliver_every_seconds,
        origin = actions.notifications_origin,
        "scheduler on"
    );
    Some(start_with(
        state,
        actions.schedule.clone(),
        Duration::from_secs(settings.deliver_every_seconds.max(1)),
    ))
}

/// [`start`] with a schedule and a delivery interval of the caller's.
pub fn start_with(
    state: &AppState,
    schedule: cron::Schedule,
    deliver_every: Duration,
) -> Scheduler {
    Scheduler {
        daily: tokio::spawn(daily_loop(state.clone(), schedule)),
        deliver: tokio::spawn(deliver_loop(state.clone(), deliver_every)),
    }
}

/// The longest single sleep: the wall clock is read again after it, so a suspended
/// machine or a changed clock does not push the run past its time.
const MAX_NAP: Duration = Duration::from_secs(60);

async fn sleep_until(when: DateTime<Utc>) {
    loop {
        let now = Utc::now();
        if now >= when {
            return;
        }
        let left = (when - now).to_std().unwrap_or(Duration::ZERO);
        tokio::time::sleep(left.min(MAX_NAP)).await;
    }
}

async fn daily_loop(state: AppState, schedule: cron::Schedule) {
    loop {
        let Some(next) = next_fire_after(&schedule, Utc::now()) else {
            tracing::warn!("the daily schedule never fires again: no scheduled runs");
            return;
        };
        tracing::info!(next = %next, "next scheduled daily run");
        sleep_until(next).await;
        let as_of = Utc::now().date_naive();
        let options = DailyOptions {
            as_of,
            trigger: "scheduler".into(),
            refresh: true,
            deliver: true,
        };
        match crate::actions::daily_run(&state, options).await {
            Ok(run) => tracing::info!(
                run_id = run.run_id,
                %as_of,
                opened = run.alerts.opened,
                refreshed = run.alerts.refreshed,
                resolved = run.alerts.resolved,
                tasks = run.alerts.tasks,
                queued = run.alerts.queued,
                digests = run.digests_queued,
                delivered = run.delivery.map(|d| d.delivered),
                seconds = run.seconds,
                "scheduled daily run done"
            ),
            Err(error) => tracing::error!(
                %as_of,
                error = %error.message,
                "scheduled daily run failed (see `coco runs`); trying again at the next time"
            ),
        }
    }
}

/// The notifier, dropped off the runtime's threads (it holds a blocking HTTP client,
/// which must not be torn down on an async thread).
struct OffRuntime(Option<Arc<Notifier>>);

impl Drop for OffRuntime {
    fn drop(&mut self) {
        if let Some(notifier) = self.0.take() {
            let _ = std::thread::Builder::new()
                .name("coco-notifier-drop".into())
                .spawn(move || drop(notifier));
        }
    }
}

async fn deliver_loop(state: AppState, every: Duration) {
    let actions = Arc::clone(&state.inner.actions);
    let notifier = match tokio::task::spawn_blocking(move || outbox::notifier(&actions)).await {
        Ok(Ok(notifier)) => OffRuntime(Some(Arc::new(notifier))),
        Ok(Err(error)) => {
            tracing::error!(%error, "outbox delivery is off: the notifiers cannot be built");
            return;
        }
        Err(error) => {
            tracing::error!(%error, "outbox delivery is off");
            return;
        }
    };
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(shared) = notifier.0.as_ref().map(Arc::clone) else {
            return;
        };
        match deliver_pass(&state, shared).await {
            Ok(report) if report.attempted > 0 => tracing::info!(
                attempted = report.attempted,
                delivered = report.delivered,
                retrying = report.retrying,
                dead = report.dead,
                "outbox delivery pass"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error.message, "outbox delivery pass failed"),
        }
    }
}

/// One delivery pass over the due messages, one at a time with the daily runs.
pub async fn deliver_pass(
    state: &AppState,
    notifier: Arc<Notifier>,
) -> Result<DeliveryReport, AppError> {
    let _running = state.inner.actions_lock.lock().await;
    let actions = Arc::clone(&state.inner.actions);
    state
        .pool()
        .run(move |store| Ok(outbox::deliver_due(store, &actions, &notifier)?))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
    }

    #[test]
    fn the_daily_time_is_the_next_one_strictly_after() {
        let daily: cron::Schedule = "0 0 6 * * *".parse().unwrap();
        assert_eq!(
            next_fire_after(&daily, at(2026, 12, 2, 5, 59, 59)),
            Some(at(2026, 12, 2, 6, 0, 0))
        );
        // At the time itself, the next is tomorrow's (no run twice in one second).
        assert_eq!(
            next_fire_after(&daily, at(2026, 12, 2, 6, 0, 0)),
            Some(at(2026, 12, 3, 6, 0, 0))
        );
        // Started after today's time: tomorrow's, not a catch-up run now.
        assert_eq!(
            next_fire_after(&daily, at(2026, 12, 2, 14, 56, 0)),
            Some(at(2026, 12, 3, 6, 0, 0))
        );
        // Across the end of a month and of a year.
        assert_eq!(
            next_fire_after(&daily, at(2026, 12, 31, 23, 0, 0)),
            Some(at(2027, 1, 1, 6, 0, 0))
        );
    }

    #[test]
    fn weekdays_only_skips_the_weekend() {
        let weekdays: cron::Schedule = "0 30 7 * * Mon-Fri".parse().unwrap();
        // Friday 2026-12-04 after 07:30 → Monday 2026-12-07.
        assert_eq!(
            next_fire_after(&weekdays, at(2026, 12, 4, 8, 0, 0)),
            Some(at(2026, 12, 7, 7, 30, 0))
        );
    }

    #[test]
    fn a_schedule_that_never_fires_again_says_so() {
        let once: cron::Schedule = "0 0 6 1 1 * 2026".parse().unwrap();
        assert_eq!(next_fire_after(&once, at(2026, 6, 1, 0, 0, 0)), None);
    }
}
