//! End-to-end tests over real generated files in a temporary directory.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use coco_core::contract::{ColumnType, ENTITIES, Entity, MergeMode};
use coco_demo::{DemoConfig, DemoSummary, FileSummary, generate};

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

fn run(config: &DemoConfig, dir: &Path) -> DemoSummary {
    generate(config, dir, &|_| {}).expect("generate")
}

fn read_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn normalise_enum(value: &str) -> String {
    value.trim().to_lowercase().replace([' ', '-'], "_")
}

/// Checks one value against its column type and bounds (the value is non-empty).
fn check_value(
    ty: ColumnType,
    value: &str,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<(), String> {
    let number = match ty {
        ColumnType::Text | ColumnType::TextList => None,
        ColumnType::Integer => Some(value.parse::<i64>().map_err(|e| e.to_string())? as f64),
        ColumnType::Number | ColumnType::Money => {
            let v = value.parse::<f64>().map_err(|e| e.to_string())?;
            if !v.is_finite() {
                return Err("not finite".into());
            }
            if ty == ColumnType::Money && value.split('.').nth(1).is_some_and(|d| d.len() > 2) {
                return Err("more than 2 decimals".into());
            }
            Some(v)
        }
        ColumnType::Boolean => {
            if !["true", "false", "yes", "no", "y", "n", "1", "0", "t", "f"]
                .contains(&value.to_ascii_lowercase().as_str())
            {
                return Err("not a boolean".into());
            }
            None
        }
        ColumnType::Date => {
            NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|e| e.to_string())?;
            None
        }
        ColumnType::Timestamp => {
            NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%SZ")
                .map_err(|e| e.to_string())?;
            None
        }
        ColumnType::Enum(values) => {
            if !values.contains(&normalise_enum(value).as_str()) {
                return Err(format!("{value:?} not allowed"));
            }
            None
        }
        ColumnType::Json => {
            let v: serde_json::Value = serde_json::from_str(value).map_err(|e| e.to_string())?;
            if !v.is_object() {
                return Err("not an object".into());
            }
            None
        }
    };
    if let Some(n) = number
        && (min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m))
    {
        return Err(format!("{n} out of bounds"));
    }
    Ok(())
}

/// The contract's multi-column rules, evaluated in Rust.
fn rule_violated(entity: &Entity, get: &dyn Fn(&str) -> Option<String>) -> bool {
    let num = |c: &str| get(c).and_then(|v| v.parse::<f64>().ok());
    match entity.name {
        "contracts" => get("arr").is_none() && get("mrr").is_none(),
        "surveys" => {
            let kind = get("survey_type").map(|v| normalise_enum(&v));
            let score = num("score").unwrap_or(0.0);
            match kind.as_deref() {
                Some("csat") => !(1.0..=5.0).contains(&score),
                Some("ces") => !(1.0..=7.0).contains(&score),
                _ => false,
            }
        }
        "outcomes" => {
            let kind = get("kind").map(|v| normalise_enum(&v));
            let outcome = get("outcome")
                .map(|v| normalise_enum(&v))
                .unwrap_or_default();
            match kind.as_deref() {
                Some("renewal") => {
                    !["renewed", "churned", "downgraded", "expanded"].contains(&outcome.as_str())
                }
                Some("expansion") => !["won", "lost"].contains(&outcome.as_str()),
                _ => false,
            }
        }
        _ => {
            assert!(
                entity.rules.is_empty(),
                "rule of {} not checked",
                entity.name
            );
            false
        }
    }
}

struct Checked {
    violations: u64,
    duplicates: u64,
    keys: HashSet<String>,
    rows: Vec<Vec<String>>,
    header: Vec<String>,
}

/// Validates every row of every file against the contract, in load order, resolving
/// references against the valid rows of the files already checked.
fn check_all(dir: &Path) -> HashMap<&'static str, Checked> {
    let mut done: HashMap<&'static str, Checked> = HashMap::new();
    for entity in ENTITIES {
        let (header, rows) = read_rows(&dir.join(format!("{}.csv", entity.name)));
        let position: HashMap<&str, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.as_str(), i))
            .collect();
        for column in entity.columns {
            if column.name != "custom_attributes" {
                assert!(
                    position.contains_key(column.name),
                    "{}.{} missing",
                    entity.name,
                    column.name
                );
            }
        }
        let key_of = |row: &Vec<String>| -> String {
            entity
                .key
                .iter()
                .map(|k| row[position[k]].as_str())
                .collect::<Vec<_>>()
                .join("\u{1f}")
        };
        // Pass 1: everything but self references.
        let mut ok = vec![true; rows.len()];
        for (r, row) in rows.iter().enumerate() {
            let get = |c: &str| {
                position
                    .get(c)
                    .map(|&i| row[i].clone())
                    .filter(|v| !v.is_empty())
            };
            for column in entity.columns {
                let Some(&i) = position.get(column.name) else {
                    continue;
                };
                let value = &row[i];
                if value.is_empty() {
                    if column.required {
                        ok[r] = false;
                    }
                    continue;
                }
                if check_value(column.ty, value, column.min, column.max).is_err() {
                    ok[r] = false;
                }
                if let Some(reference) = column.references
                    && reference.entity != entity.name
                    && !done[reference.entity].keys.contains(value)
                {
                    ok[r] = false;
                }
            }
            if rule_violated(entity, &get) {
                ok[r] = false;
            }
        }
        let own_keys: HashSet<String> = rows
            .iter()
            .zip(&ok)
            .filter(|(_, ok)| **ok)
            .map(|(row, _)| key_of(row))
            .collect();
        // Pass 2: self references, then duplicate keys.
        let mut keys = HashSet::new();
        let mut seen_rows: HashSet<&Vec<String>> = HashSet::new();
        let mut violations = 0;
        let mut duplicates = 0;
        for (r, row) in rows.iter().enumerate() {
            for column in entity.columns {
                if let (Some(reference), Some(&i)) = (column.references, position.get(column.name))
                    && reference.entity == entity.name
                    && !row[i].is_empty()
                    && !own_keys.contains(&row[i])
                {
                    ok[r] = false;
                }
            }
            if !ok[r] {
                violations += 1;
                continue;
            }
            let key = key_of(row);
            if !keys.insert(key) {
                match entity.merge {
                    MergeMode::AppendDedup => {
                        assert!(
                            seen_rows.contains(row),
                            "{}: same key, different row",
                            entity.name
                        );
                        duplicates += 1;
                    }
                    MergeMode::Upsert => violations += 1,
                }
            }
            seen_rows.insert(row);
        }
        done.insert(
            entity.name,
            Checked {
                violations,
                duplicates,
                keys,
                rows,
                header,
            },
        );
    }
    done
}

fn file<'a>(summary: &'a DemoSummary, entity: &str) -> &'a FileSummary {
    summary.files.iter().find(|f| f.entity == entity).unwrap()
}

#[test]
fn generation_is_deterministic_and_seed_dependent() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let config = DemoConfig::new(150, 12, 7, end());
    let sa = run(&config, a.path());
    let sb = run(&config, b.path());
    assert_eq!(sa.files.len(), ENTITIES.len());
    for (fa, fb) in sa.files.iter().zip(&sb.files) {
        assert_eq!(fa.rows, fb.rows);
        let bytes_a = std::fs::read(&fa.path).unwrap();
        let bytes_b = std::fs::read(&fb.path).unwrap();
        assert!(
            bytes_a == bytes_b,
            "{} differs between identical runs",
            fa.entity
        );
    }
    assert_eq!(
        std::fs::read(&sa.truth_path).unwrap(),
        std::fs::read(&sb.truth_path).unwrap()
    );
    let other = DemoConfig { seed: 8, ..config };
    let sc = run(&other, c.path());
    assert_ne!(
        std::fs::read(&file(&sa, "usage_events").path).unwrap(),
        std::fs::read(&file(&sc, "usage_events").path).unwrap()
    );
    assert_ne!(
        std::fs::read(&file(&sa, "accounts").path).unwrap(),
        std::fs::read(&file(&sc, "accounts").path).unwrap()
    );
}

#[test]
fn clean_data_does_not_depend_on_the_dirty_rate() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let dirty = DemoConfig::new(60, 6, 3, end());
    let clean = DemoConfig {
        dirty_rate: 0.0,
        ..dirty.clone()
    };
    run(&dirty, a.path());
    let sb = run(&clean, b.path());
    assert!(sb.files.iter().all(|f| f.dirty_rows == 0));
    let (_, dirty_rows) = read_rows(&a.path().join("tickets.csv"));
    let (_, clean_rows) = read_rows(&b.path().join("tickets.csv"));
    let clean_ids: HashSet<&String> = clean_rows.iter().map(|r| &r[0]).collect();
    let kept: Vec<&Vec<String>> = dirty_rows
        .iter()
        .filter(|r| clean_ids.contains(&r[0]))
        .collect();
    assert_eq!(kept.len(), clean_rows.len());
    assert!(kept.iter().zip(&clean_rows).all(|(a, b)| *a == b));
    // Users (composite key): the clean rows are the dirty file's rows with a clean key.
    let (_, dirty_users) = read_rows(&a.path().join("users.csv"));
    let (_, clean_users) = read_rows(&b.path().join("users.csv"));
    let clean_keys: HashSet<(&String, &String)> =
        clean_users.iter().map(|r| (&r[0], &r[1])).collect();
    let kept: Vec<&Vec<String>> = dirty_users
        .iter()
        .filter(|r| clean_keys.contains(&(&r[0], &r[1])))
        .collect();
    assert_eq!(kept.len(), clean_users.len());
    assert!(kept.iter().zip(&clean_users).all(|(a, b)| *a == b));
    assert!(dirty_users.len() > clean_users.len());
}

#[test]
fn every_clean_row_conforms_and_dirty_rows_are_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = DemoConfig::new(400, 12, 11, end());
    config.dirty_rate = 0.02;
    let summary = run(&config, dir.path());
    let checked = check_all(dir.path());
    for f in &summary.files {
        let c = &checked[f.entity];
        assert_eq!(c.rows.len() as u64, f.rows, "{} row count", f.entity);
        assert_eq!(
            c.violations, f.dirty_rows,
            "{}: invalid rows vs dirty_rows",
            f.entity
        );
        assert_eq!(c.duplicates, f.duplicate_rows, "{}: duplicates", f.entity);
        match f.entity {
            "csms" | "features" => assert_eq!(f.dirty_rows, 0),
            _ => assert!(f.dirty_rows > 0, "{} has no dirty rows", f.entity),
        }
        if f.entity != "usage_events" {
            assert_eq!(f.duplicate_rows, 0);
        }
    }
    assert!(file(&summary, "usage_events").duplicate_rows > 0);
    // Accounts: custom columns present, custom_attributes not written.
    let accounts = &checked["accounts"];
    assert!(accounts.header.iter().any(|h| h == "acquisition_channel"));
    assert!(accounts.header.iter().any(|h| h == "crm_health_note"));
    assert!(!accounts.header.iter().any(|h| h == "custom_attributes"));
    // Every generated account is valid: dirty account rows are extra rows.
    assert_eq!(accounts.keys.len(), config.accounts);
    // Accounts that export daily aggregates have no raw events, and vice versa.
    let known = |rows: &Vec<Vec<String>>| -> HashSet<String> {
        rows.iter()
            .map(|r| r[0].clone())
            .filter(|a| accounts.keys.contains(a))
            .collect()
    };
    let daily = known(&checked["usage_daily"].rows);
    let raw = known(&checked["usage_events"].rows);
    assert!(
        daily.len() >= config.accounts / 25,
        "{} daily accounts",
        daily.len()
    );
    assert!(daily.is_disjoint(&raw));
    assert!(summary.events > 0);
}

#[test]
fn long_windows_and_high_dirty_rates_stay_exact() {
    for (accounts, months, rate) in [(120, 36, 0.05), (30, 2, 0.2)] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DemoConfig::new(accounts, months, 99, end());
        config.dirty_rate = rate;
        let summary = run(&config, dir.path());
        let checked = check_all(dir.path());
        for f in &summary.files {
            let c = &checked[f.entity];
            assert_eq!(
                c.violations, f.dirty_rows,
                "{} ({accounts}x{months})",
                f.entity
            );
            assert_eq!(
                c.duplicates, f.duplicate_rows,
                "{} ({accounts}x{months})",
                f.entity
            );
        }
        assert_eq!(checked["accounts"].keys.len(), accounts);
    }
}

#[test]
fn churn_follows_the_hidden_risk_factors() {
    let dir = tempfile::tempdir().unwrap();
    let config = DemoConfig::new(1_500, 12, 5, end());
    let summary = run(&config, dir.path());
    let (header, truth) = read_rows(&summary.truth_path);
    assert_eq!(truth.len(), config.accounts);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id, prob, decline, nps, champion) = (
        col("account_id"),
        col("churn_probability"),
        col("usage_decline"),
        col("low_nps"),
        col("champion_left"),
    );
    let (_, outcomes) = read_rows(&dir.path().join("outcomes.csv"));
    let churned: HashMap<&str, bool> = outcomes
        .iter()
        .filter(|o| {
            o[3] == "renewal"
                && ["renewed", "churned", "downgraded", "expanded"].contains(&o[4].as_str())
        })
        .map(|o| (o[1].as_str(), o[4] == "churned"))
        .collect();
    let rate = |filter: &dyn Fn(&Vec<String>) -> bool| {
        let group: Vec<bool> = truth
            .iter()
            .filter(|t| filter(t))
            .filter_map(|t| churned.get(t[id].as_str()).copied())
            .collect();
        (
            group.iter().filter(|c| **c).count() as f64 / group.len().max(1) as f64,
            group.len(),
        )
    };
    let (high, n_high) = rate(&|t| t[prob].parse::<f64>().unwrap() > 0.3);
    let (low, n_low) = rate(&|t| t[prob].parse::<f64>().unwrap() < 0.05);
    assert!(
        n_high > 50 && n_low > 200,
        "groups too small: {n_high} / {n_low}"
    );
    assert!(
        high > 3.0 * low + 0.1,
        "high-risk churn {high:.3} vs low-risk {low:.3}"
    );
    // Observable factors, one at a time.
    let (with_decline, _) = rate(&|t| t[decline].parse::<f64>().unwrap() > 0.0);
    let (without_decline, _) = rate(&|t| t[decline].parse::<f64>().unwrap() == 0.0);
    assert!(
        with_decline > 1.5 * without_decline,
        "{with_decline} vs {without_decline}"
    );
    let (low_nps, _) = rate(&|t| t[nps] == "true");
    let (ok_nps, _) = rate(&|t| t[nps] == "false");
    assert!(low_nps > 1.5 * ok_nps, "{low_nps} vs {ok_nps}");
    let (left, _) = rate(&|t| t[champion] == "true");
    let (stayed, _) = rate(&|t| t[champion] == "false");
    assert!(left > 1.5 * stayed, "{left} vs {stayed}");
    // Overall renewal mix in the documented ranges (loose bounds for 1,500 accounts).
    let total = churned.len() as f64;
    let churn_rate = churned.values().filter(|c| **c).count() as f64 / total;
    assert!((0.07..0.2).contains(&churn_rate), "churn rate {churn_rate}");
}

#[test]
fn users_cover_every_usage_user_with_their_departments() {
    let dir = tempfile::tempdir().unwrap();
    let config = DemoConfig::new(300, 12, 13, end());
    let summary = run(&config, dir.path());
    let checked = check_all(dir.path());
    let window_start = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    let date = |v: &str| NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap();
    let (truth_header, truth) = read_rows(&summary.truth_path);
    let t = |name: &str| truth_header.iter().position(|h| h == name).unwrap();
    let truth: HashMap<&str, &Vec<String>> = truth
        .iter()
        .map(|r| (r[t("account_id")].as_str(), r))
        .collect();

    // The valid users rows, by account in file (= user index) order.
    let users = &checked["users"];
    let col = |name: &str| users.header.iter().position(|h| h == name).unwrap();
    let (account, user, department, role, created, deactivated) = (
        col("account_id"),
        col("user_id"),
        col("department"),
        col("role"),
        col("created_on"),
        col("deactivated_on"),
    );
    let mut by_account: HashMap<&str, Vec<&Vec<String>>> = HashMap::new();
    let mut by_key: HashMap<(&str, &str), &Vec<String>> = HashMap::new();
    for row in &users.rows {
        if users
            .keys
            .contains(&format!("{}\u{1f}{}", row[account], row[user]))
            && truth.contains_key(row[account].as_str())
            && !row[user].ends_with("_x")
        {
            by_account.entry(&row[account]).or_default().push(row);
            by_key.insert((&row[account], &row[user]), row);
        }
    }
    assert_eq!(by_account.len(), config.accounts, "every account has users");

    let mut single = 0;
    let mut joined_later = 0;
    for (id, rows) in &by_account {
        let num = id.trim_start_matches("acc_");
        for (k, row) in rows.iter().enumerate() {
            assert_eq!(
                row[user],
                format!("u_{num}_{:03}", k + 1),
                "ids are contiguous"
            );
            if let Some(off) = Some(&row[deactivated]).filter(|v| !v.is_empty()) {
                assert!(
                    date(off) >= date(&row[created]),
                    "{id}: deactivated before created"
                );
            }
        }
        assert_eq!(rows[0][role], "admin", "{id}: the first user is an admin");
        let since = date(&truth[id][t("customer_since")]);
        let alive_from = since.max(window_start);
        let initial: Vec<&&Vec<String>> = rows
            .iter()
            .filter(|r| date(&r[created]) <= alive_from)
            .collect();
        for r in &initial {
            let on = date(&r[created]);
            assert!(on >= since && on <= since + chrono::TimeDelta::days(30));
        }
        // Contiguous blocks, the first (holding user 001) the largest and at least half.
        let mut blocks: Vec<(&str, usize)> = Vec::new();
        for r in &initial {
            match blocks.last_mut() {
                Some((d, n)) if *d == r[department] => *n += 1,
                _ => {
                    assert!(
                        blocks.iter().all(|(d, _)| *d != r[department]),
                        "{id}: {} is not one block",
                        r[department]
                    );
                    blocks.push((&r[department], 1));
                }
            }
        }
        let departments: usize = truth[id][t("departments")].parse().unwrap();
        assert_eq!(blocks.len(), departments, "{id}: departments at the start");
        if departments == 1 {
            single += 1;
        } else {
            assert!(
                2 * blocks[0].1 >= initial.len(),
                "{id}: first team below half"
            );
            assert!(blocks.iter().all(|(_, n)| *n <= blocks[0].1));
        }
        let segment = &truth[id][t("segment")];
        let most = match segment.as_str() {
            "enterprise" => 6,
            "mid_market" => 4,
            _ => 2,
        };
        assert!(
            departments <= most,
            "{id}: {departments} departments ({segment})"
        );
        let known: HashSet<&str> = blocks.iter().map(|(d, _)| *d).collect();
        if rows
            .iter()
            .any(|r| date(&r[created]) > alive_from && !known.contains(r[department].as_str()))
        {
            joined_later += 1;
        }
    }
    let share = single as f64 / config.accounts as f64;
    assert!((0.2..0.55).contains(&share), "single-team share {share}");
    assert!(joined_later > 0, "no account gained a department");

    // Every valid usage row names a user that exists on that day.
    let events = &checked["usage_events"];
    let mut seen = 0;
    for row in &events.rows {
        let Some(u) = by_key.get(&(row[0].as_str(), row[1].as_str())) else {
            continue;
        };
        let Ok(at) = NaiveDateTime::parse_from_str(&row[3], "%Y-%m-%dT%H:%M:%SZ") else {
            continue;
        };
        seen += 1;
        assert!(at.date() >= date(&u[created]), "{row:?} before {u:?}");
        if !u[deactivated].is_empty() {
            assert!(at.date() <= date(&u[deactivated]), "{row:?} after {u:?}");
        }
    }
    assert!(seen as u64 >= summary.events, "{seen} events matched");
    let unmatched = events
        .rows
        .iter()
        .filter(|r| {
            events.keys.contains(&r[..4].join("\u{1f}"))
                && !by_key.contains_key(&(r[0].as_str(), r[1].as_str()))
        })
        .count();
    assert_eq!(unmatched, 0, "valid events without a users row");
}

#[test]
fn thousand_accounts_for_a_year() {
    let dir = tempfile::tempdir().unwrap();
    let config = DemoConfig::new(1_000, 12, 42, end());
    let done = std::cell::Cell::new(0u64);
    let summary = generate(&config, dir.path(), &|n| done.set(n)).unwrap();
    assert_eq!(done.get(), 1_000);
    assert_eq!(summary.accounts, 1_000);
    assert!(summary.events > 200_000, "{} events", summary.events);
    let names: Vec<&str> = summary.files.iter().map(|f| f.entity).collect();
    let expected: Vec<&str> = ENTITIES.iter().map(|e| e.name).collect();
    assert_eq!(names, expected);
    for f in &summary.files {
        assert!(f.path.exists());
        assert!(f.rows > 0, "{} is empty", f.entity);
    }
    assert!(summary.truth_path.ends_with("_truth.csv"));
}

#[test]
fn invalid_configs_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let bad = [
        DemoConfig::new(0, 12, 1, end()),
        DemoConfig::new(10, 0, 1, end()),
        DemoConfig {
            dirty_rate: 2.0,
            ..DemoConfig::new(10, 12, 1, end())
        },
        DemoConfig {
            events_per_account_month: f64::NAN,
            ..DemoConfig::new(10, 12, 1, end())
        },
    ];
    for config in bad {
        assert!(matches!(
            generate(&config, dir.path(), &|_| {}),
            Err(coco_demo::DemoError::InvalidConfig(_))
        ));
    }
}
