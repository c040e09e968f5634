//! Generates a demo portfolio: `cargo run --release -p coco-demo --example demo_gen -- ACCOUNTS MONTHS SEED OUT_DIR [END]`.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let accounts: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let months: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(12);
    let seed: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(42);
    let out = args.get(4).cloned().unwrap_or_else(|| "demo-out".into());
    let end = args
        .get(5)
        .and_then(|a| chrono::NaiveDate::parse_from_str(a, "%Y-%m-%d").ok())
        .unwrap_or_else(|| chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("date"));
    let config = coco_demo::DemoConfig::new(accounts, months, seed, end);
    let started = Instant::now();
    let summary = coco_demo::generate(&config, std::path::Path::new(&out), &|_| {})
        .unwrap_or_else(|e| panic!("{e}"));
    let elapsed = started.elapsed();
    for f in &summary.files {
        println!(
            "{:<16} rows {:>10}  dirty {:>7}  duplicates {:>6}",
            f.entity, f.rows, f.dirty_rows, f.duplicate_rows
        );
    }
    println!(
        "{} accounts x {} months: {} events in {:.2}s",
        summary.accounts,
        months,
        summary.events,
        elapsed.as_secs_f64()
    );
}
