//! Intervention outcomes on hand-built facts: the verdict of each intervention, the
//! success rates with their Wilson intervals (checked against the formula, computed here),
//! and which play is recommended when data is thin and when it is ample.

use chrono::{Days, NaiveDate};
use coco_actions::outcomes::{
    InterventionFacts, OutcomeReport, PlayRecord, Verdict, judge, recommend, report,
};
use coco_actions::playbooks::{DEFAULT_PLAYBOOKS, OutcomeSettings, PlaybooksConfig};

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

/// The shipped settings: 60-day window, +5 health, follow-ups at 30/60/90, prior
/// strength 4, 5 observations, 95%.
fn settings() -> OutcomeSettings {
    PlaybooksConfig::from_toml(DEFAULT_PLAYBOOKS)
        .unwrap()
        .outcomes
}

/// The two-sided 95% normal quantile, Φ⁻¹(0.975).
const Z95: f64 = 1.959963984540054;

/// The Wilson score interval, written out: centre (p + z²/2n) / (1 + z²/n), half-width
/// z / (1 + z²/n) · √(p(1−p)/n + z²/4n²).
fn wilson(successes: u64, n: u64, z: f64) -> (f64, f64) {
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    (centre - half, centre + half)
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

fn assert_interval(got: Option<(f64, f64)>, want: (f64, f64)) {
    let (lo, hi) = got.expect("an interval");
    assert!(
        close(lo, want.0, 1e-9) && close(hi, want.1, 1e-9),
        "{got:?} vs {want:?}"
    );
}

fn facts(id: i64, play: &str, profile: &str, done_on: &str) -> InterventionFacts {
    InterventionFacts {
        intervention_id: id,
        account_id: format!("acc_{id}"),
        play: play.into(),
        profile: profile.into(),
        channel: "call".into(),
        stakeholder: Some("champion".into()),
        done_on: day(done_on),
        health_before: None,
        health_after: Vec::new(),
        renewal_churned: None,
        renewal_decided_on: None,
    }
}

fn with_health(
    mut f: InterventionFacts,
    before: f64,
    after: &[(u32, Option<f64>)],
) -> InterventionFacts {
    f.health_before = Some(before);
    f.health_after = after.to_vec();
    f
}

fn with_renewal(mut f: InterventionFacts, churned: bool, on: &str) -> InterventionFacts {
    f.renewal_churned = Some(churned);
    f.renewal_decided_on = Some(day(on));
    f
}

// ---------------------------------------------------------------------------------
// Verdicts

#[test]
fn health_gain_at_the_end_of_the_window_decides_once_it_has_passed() {
    let s = settings();
    // Done 2026-01-10: the 60-day window ends 2026-03-11.
    let base = facts(1, "exec_call", "renewal_risk", "2026-01-10");
    let at = |after60: Option<f64>| {
        with_health(
            base.clone(),
            50.0,
            &[(30, Some(45.0)), (60, after60), (90, None)],
        )
    };
    let cases: Vec<(Option<f64>, &str, Verdict, &str)> = vec![
        (
            Some(56.0),
            "2026-03-11",
            Verdict::Success,
            "health 50 → 56 after 60 days (+6, needed +5)",
        ),
        // Exactly the gain needed is enough.
        (
            Some(55.0),
            "2026-04-30",
            Verdict::Success,
            "health 50 → 55 after 60 days (+5, needed +5)",
        ),
        (
            Some(54.5),
            "2026-03-11",
            Verdict::Failure,
            "health 50 → 54.5 after 60 days (+4.5, needed +5)",
        ),
        (
            Some(42.0),
            "2026-03-11",
            Verdict::Failure,
            "health 50 → 42 after 60 days (-8.0, needed +5)",
        ),
        // The day before the window ends: not yet, whatever health did.
        (
            Some(80.0),
            "2026-03-10",
            Verdict::Pending,
            "the 60-day window ends 2026-03-11",
        ),
        // Past the window, but no score at its end: it cannot be judged.
        (
            None,
            "2026-06-01",
            Verdict::Pending,
            "no health score before or after the window",
        ),
    ];
    for (after60, as_of, verdict, because) in cases {
        let judged = judge(&at(after60), &s, day(as_of));
        assert_eq!(judged.verdict, verdict, "{after60:?} as of {as_of}");
        assert_eq!(judged.because, because);
        assert_eq!(judged.facts, at(after60));
    }
    // Only the window's day counts: a big gain at day 30 or 90 alone decides nothing.
    let other_days = with_health(base.clone(), 50.0, &[(30, Some(70.0)), (90, Some(70.0))]);
    assert_eq!(
        judge(&other_days, &s, day("2026-06-01")).verdict,
        Verdict::Pending
    );
    // Nothing before: pending too.
    let mut no_before = at(Some(70.0));
    no_before.health_before = None;
    assert_eq!(
        judge(&no_before, &s, day("2026-06-01")).verdict,
        Verdict::Pending
    );
}

#[test]
fn a_renewal_in_the_window_decides_before_health_and_before_the_window_ends() {
    let s = settings();
    let base = with_health(
        facts(2, "exec_call", "renewal_risk", "2026-01-10"),
        50.0,
        &[(60, Some(70.0))],
    );
    // Churned: a failure even though health rose 20, and even mid-window.
    let churned = judge(
        &with_renewal(base.clone(), true, "2026-02-01"),
        &s,
        day("2026-02-05"),
    );
    assert_eq!(churned.verdict, Verdict::Failure);
    assert_eq!(churned.because, "churned at the renewal decided 2026-02-01");
    // Renewed: a success even though health fell.
    let mut fell = base.clone();
    fell.health_after = vec![(60, Some(30.0))];
    let renewed = judge(
        &with_renewal(fell, false, "2026-02-01"),
        &s,
        day("2026-02-05"),
    );
    assert_eq!(renewed.verdict, Verdict::Success);
    assert_eq!(renewed.because, "renewed (2026-02-01)");
    // An outcome without its date is not a decision: health decides.
    let mut undated = base;
    undated.renewal_churned = Some(true);
    assert_eq!(
        judge(&undated, &s, day("2026-06-01")).verdict,
        Verdict::Success
    );
}

// ---------------------------------------------------------------------------------
// Rates

/// exec_call × renewal_risk: 7 successes (health 50 → 53 at 30, → 58 at 60), 3
/// failures (50 → 49, → 52) and 2 pending (done 2026-06-01, 50 → 51 at 30);
/// training × usage_decline: one renewal, one churn.
fn book() -> Vec<InterventionFacts> {
    let mut rows = Vec::new();
    let start = day("2026-01-05");
    for i in 0..10u64 {
        let on = (start + Days::new(i)).to_string();
        let success = i < 7;
        let (at30, at60) = if success { (53.0, 58.0) } else { (49.0, 52.0) };
        rows.push(with_health(
            facts(i as i64 + 1, "exec_call", "renewal_risk", &on),
            50.0,
            &[(30, Some(at30)), (60, Some(at60)), (90, None)],
        ));
    }
    for id in [11, 12] {
        rows.push(with_health(
            facts(id, "exec_call", "renewal_risk", "2026-06-01"),
            50.0,
            &[(30, Some(51.0)), (60, None), (90, None)],
        ));
    }
    rows.push(with_renewal(
        facts(13, "training", "usage_decline", "2026-02-01"),
        false,
        "2026-03-01",
    ));
    rows.push(with_renewal(
        facts(14, "training", "usage_decline", "2026-02-01"),
        true,
        "2026-03-15",
    ));
    rows
}

#[test]
fn seven_of_ten_has_the_wilson_interval_of_the_formula() {
    let s = settings();
    let r = report(&book(), &s, day("2026-07-15"));
    assert_eq!(r.as_of, day("2026-07-15"));
    assert_eq!(r.interventions, 14);
    assert_eq!(r.decided, 12);
    assert!(close(r.overall_rate.unwrap(), 8.0 / 12.0, 1e-12));
    assert_eq!(r.judged.len(), 14);
    let verdicts: Vec<Verdict> = r.judged.iter().map(|j| j.verdict).collect();
    assert_eq!(
        verdicts.iter().filter(|v| **v == Verdict::Pending).count(),
        2
    );

    let pairs: Vec<(&str, Option<&str>)> = r
        .by_play_and_profile
        .iter()
        .map(|p| (p.play.as_str(), p.profile.as_deref()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("exec_call", Some("renewal_risk")),
            ("training", Some("usage_decline"))
        ]
    );
    let exec = &r.by_play_and_profile[0];
    assert_eq!(
        (exec.decided, exec.successes, exec.pending),
        (10, 7, 2),
        "{exec:?}"
    );
    assert!(close(exec.rate.unwrap(), 0.7, 1e-12));
    assert_interval(exec.interval, wilson(7, 10, Z95));
    // And the published figures for 7/10 at 95%: 39.7%–89.2%.
    let (lo, hi) = exec.interval.unwrap();
    assert!(
        close(lo, 0.39678, 5e-5) && close(hi, 0.89221, 5e-5),
        "{lo} {hi}"
    );

    // Mean health change at each follow-up day, decided and pending alike:
    // day 30 over 12 rows (7 × +3, 3 × −1, 2 × +1), day 60 over 10 (7 × +8, 3 × +2).
    let means = &exec.mean_health_change;
    assert_eq!(means.len(), 3);
    assert_eq!((means[0].0, means[1].0, means[2].0), (30, 60, 90));
    assert!(close(means[0].1.unwrap(), 20.0 / 12.0, 1e-12), "{means:?}");
    assert!(close(means[1].1.unwrap(), 6.2, 1e-12), "{means:?}");
    assert_eq!(means[2].1, None);

    let training = &r.by_play_and_profile[1];
    assert_eq!((training.decided, training.successes), (2, 1));
    assert_interval(training.interval, wilson(1, 2, Z95));
    assert!(training.mean_health_change.iter().all(|(_, m)| m.is_none()));

    // By play over all profiles: the same here, with no profile named.
    let by_play: Vec<(&str, Option<&str>, u64, u64)> = r
        .by_play
        .iter()
        .map(|p| {
            (
                p.play.as_str(),
                p.profile.as_deref(),
                p.decided,
                p.successes,
            )
        })
        .collect();
    assert_eq!(
        by_play,
        vec![("exec_call", None, 10, 7), ("training", None, 2, 1)]
    );
}

#[test]
fn the_interval_follows_the_confidence_asked_for() {
    let mut s = settings();
    s.confidence = 0.9;
    let r = report(&book(), &s, day("2026-07-15"));
    // Φ⁻¹(0.95) = 1.6448536269514722.
    assert_interval(
        r.by_play_and_profile[0].interval,
        wilson(7, 10, 1.6448536269514722),
    );
    let (lo90, hi90) = r.by_play_and_profile[0].interval.unwrap();
    let (lo95, hi95) = wilson(7, 10, Z95);
    assert!(lo90 > lo95 && hi90 < hi95);
}

#[test]
fn nothing_decided_means_no_rate_and_no_interval() {
    let s = settings();
    let pending: Vec<InterventionFacts> = book().into_iter().skip(10).take(2).collect();
    let r = report(&pending, &s, day("2026-07-15"));
    assert_eq!(r.decided, 0);
    assert_eq!(r.overall_rate, None);
    let record: &PlayRecord = &r.by_play[0];
    assert_eq!((record.decided, record.pending), (0, 2));
    assert_eq!(record.rate, None);
    assert_eq!(record.interval, None);
    assert!(close(record.mean_health_change[0].1.unwrap(), 1.0, 1e-12));
    let empty = report(&[], &s, day("2026-07-15"));
    assert_eq!(empty.interventions, 0);
    assert!(empty.by_play.is_empty() && empty.by_play_and_profile.is_empty());
}

// ---------------------------------------------------------------------------------
// Recommendations

/// `n` interventions decided by renewal, the first `successes` renewed.
fn decided(
    rows: &mut Vec<InterventionFacts>,
    play: &str,
    profile: &str,
    n: usize,
    successes: usize,
) {
    for i in 0..n {
        let id = rows.len() as i64 + 1;
        rows.push(with_renewal(
            facts(id, play, profile, "2026-01-05"),
            i >= successes,
            "2026-02-01",
        ));
    }
}

/// (successes + k·prior) / (decided + k).
fn shrunk(successes: f64, decided: f64, k: f64, prior: f64) -> f64 {
    (successes + k * prior) / (decided + k)
}

fn score_of(r: &coco_actions::outcomes::Recommendation, play: &str) -> f64 {
    r.candidates
        .iter()
        .find(|c| c.play == play)
        .unwrap_or_else(|| panic!("{play} not a candidate"))
        .shrunk_rate
}

#[test]
fn with_thin_data_the_prior_carries_the_choice_and_the_reason_says_so() {
    let s = settings();
    let mut rows = Vec::new();
    // exec_call: 8 of 9 for renewal_risk, 1 of 1 for relationship (9 of 10 overall).
    decided(&mut rows, "exec_call", "renewal_risk", 9, 8);
    decided(&mut rows, "exec_call", "relationship", 1, 1);
    // training: 2 of 2 for relationship, 1 of 8 for sentiment (3 of 10 overall).
    decided(&mut rows, "training", "relationship", 2, 2);
    decided(&mut rows, "training", "sentiment", 8, 1);
    let r: OutcomeReport = report(&rows, &s, day("2026-07-01"));
    let rec = recommend(&r, "relationship", &[], &s);

    // Both are perfect for the profile; training even has more tries. The priors
    // (play rates shrunk towards the global 12/20) decide.
    let k = 4.0;
    let global = 12.0 / 20.0;
    let exec_prior = shrunk(9.0, 10.0, k, global);
    let training_prior = shrunk(3.0, 10.0, k, global);
    let exec = shrunk(1.0, 1.0, k, exec_prior);
    let training = shrunk(2.0, 2.0, k, training_prior);
    assert!(close(score_of(&rec, "exec_call"), exec, 1e-12));
    assert!(close(score_of(&rec, "training"), training, 1e-12));
    assert!(close(exec, 0.8514285714285714, 1e-12), "{exec}");
    assert!(close(training, 0.5904761904761905, 1e-12), "{training}");

    let best = rec.best.as_ref().unwrap();
    assert_eq!(best.play, "exec_call");
    assert_eq!(
        (best.decided_for_profile, best.successes_for_profile),
        (1, 1)
    );
    assert_eq!(best.raw_rate, Some(1.0));
    assert_interval(best.interval, wilson(1, 1, Z95));
    assert_eq!(rec.profile, "relationship");
    assert_eq!(
        rec.because,
        "exec_call has the best estimate for relationship (85%), but only 1 decided \
         intervention for this profile: the estimate leans on the play's record over all \
         profiles (prior strength 4)"
    );
    let order: Vec<&str> = rec.candidates.iter().map(|c| c.play.as_str()).collect();
    assert_eq!(order, vec!["exec_call", "training"]);
}

#[test]
fn an_untried_play_is_estimated_at_the_global_rate_and_said_to_be() {
    let s = settings();
    let mut rows = Vec::new();
    decided(&mut rows, "exec_call", "support", 10, 3);
    decided(&mut rows, "training", "support", 10, 9);
    let r = report(&rows, &s, day("2026-07-01"));
    let rec = recommend(
        &r,
        "support",
        &["exec_call".to_string(), "new_play".to_string()],
        &s,
    );
    // Only the candidates asked about are scored.
    assert_eq!(rec.candidates.len(), 2);
    let global = 12.0 / 20.0;
    let new_play = rec
        .candidates
        .iter()
        .find(|c| c.play == "new_play")
        .unwrap();
    assert!(close(new_play.shrunk_rate, global, 1e-12));
    assert_eq!(new_play.raw_rate, None);
    assert_eq!(new_play.interval, None);
    // exec_call's 3 of 10 shrinks towards its own 30%, below the global 60%.
    assert_eq!(rec.best.as_ref().unwrap().play, "new_play");
    assert!(
        rec.because.starts_with(
            "new_play has the best estimate for support (60%), but only 0 decided interventions"
        ),
        "{}",
        rec.because
    );
}

#[test]
fn with_ample_data_the_best_record_wins_over_a_better_prior() {
    let s = settings();
    let mut rows = Vec::new();
    // exec_call: perfect elsewhere (40 of 40), poor for support (3 of 10).
    decided(&mut rows, "exec_call", "renewal_risk", 40, 40);
    decided(&mut rows, "exec_call", "support", 10, 3);
    // training: only support, 8 of 10.
    decided(&mut rows, "training", "support", 10, 8);
    let r = report(&rows, &s, day("2026-07-01"));
    let rec = recommend(&r, "support", &[], &s);

    let k = 4.0;
    let global = 51.0 / 60.0;
    let exec_prior = shrunk(43.0, 50.0, k, global);
    let training_prior = shrunk(8.0, 10.0, k, global);
    assert!(exec_prior > training_prior);
    let exec = shrunk(3.0, 10.0, k, exec_prior);
    let training = shrunk(8.0, 10.0, k, training_prior);
    assert!(close(score_of(&rec, "exec_call"), exec, 1e-12));
    assert!(close(score_of(&rec, "training"), training, 1e-12));

    let best = rec.best.as_ref().unwrap();
    assert_eq!(best.play, "training");
    assert_eq!(best.decided_for_profile, 10);
    let (lo, hi) = wilson(8, 10, Z95);
    assert_interval(best.interval, (lo, hi));
    assert_eq!(
        rec.because,
        format!(
            "training succeeded 8 of 10 times for support (80%, {:.0}–{:.0}% at 95%), the best \
             record among 2 plays",
            lo * 100.0,
            hi * 100.0
        )
    );
    assert!(
        rec.because.contains("(80%, 49–94% at 95%)"),
        "{}",
        rec.because
    );
}

#[test]
fn equal_estimates_prefer_more_data_then_the_name() {
    let s = settings();
    let mut rows = Vec::new();
    decided(&mut rows, "b_play", "support", 10, 5);
    decided(&mut rows, "a_play", "support", 10, 5);
    decided(&mut rows, "c_play", "support", 20, 10);
    let r = report(&rows, &s, day("2026-07-01"));
    let rec = recommend(&r, "support", &[], &s);
    // All at exactly 50%: c_play has the most data, then a before b.
    let order: Vec<&str> = rec.candidates.iter().map(|c| c.play.as_str()).collect();
    assert_eq!(order, vec!["c_play", "a_play", "b_play"]);
    assert!(
        rec.candidates
            .iter()
            .all(|c| close(c.shrunk_rate, 0.5, 1e-12))
    );
}

#[test]
fn no_data_at_all_leans_on_an_even_prior_and_no_candidates_means_no_choice() {
    let s = settings();
    let empty = report(&[], &s, day("2026-07-01"));
    let rec = recommend(&empty, "support", &["exec_call".to_string()], &s);
    assert!(close(rec.best.unwrap().shrunk_rate, 0.5, 1e-12));
    let none = recommend(&empty, "support", &[], &s);
    assert_eq!(none.best, None);
    assert!(none.candidates.is_empty());
    assert_eq!(none.because, "no play to choose from for support");
}
