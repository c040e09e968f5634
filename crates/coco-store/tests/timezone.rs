//! Timestamps are stored as UTC whatever the machine's time zone. Its own test binary:
//! it sets TZ for the whole process before DuckDB starts.

mod common;

use coco_core::contract::USAGE_EVENTS;
use common::Fixture;

#[test]
fn timestamps_are_utc_whatever_the_machine_time_zone() {
    // SAFETY: the only test in this binary, run before any other thread reads the env.
    unsafe { std::env::set_var("TZ", "Asia/Tokyo") };
    let mut fx = Fixture::new().with_basics();
    let path = fx.write(
        "usage_events.csv",
        "account_id,user_id,feature_key,occurred_at\n\
         acc_1,u1,login,2026-01-02T03:04:05Z\n\
         acc_1,u1,login,2026-01-02T12:04:05+09:00\n\
         acc_1,u2,login,2026-01-02 03:04:05\n",
    );
    let report = fx.ingest(&USAGE_EVENTS, &path);
    assert_eq!((report.inserted, report.unchanged), (2, 1));
    assert_eq!(
        fx.strings(
            "SELECT user_id || ' ' || CAST(occurred_at AS VARCHAR) FROM usage_events ORDER BY 1"
        ),
        ["u1 2026-01-02 03:04:05", "u2 2026-01-02 03:04:05"]
    );
    // The load's finish time is UTC like its start time (written from Rust's clock).
    let skew = fx.strings("SELECT CAST(abs(date_diff('minute', started_at, finished_at)) AS VARCHAR) FROM loads ORDER BY load_id DESC LIMIT 1");
    assert_eq!(skew, ["0"]);
}
