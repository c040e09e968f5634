//! Segmentation and coverage (S1–S3) against hand-computed fixtures: factor scores from
//! percentiles and ramps, weights renormalised over the factors with data, proxy inputs,
//! strategic flags, tiers; misalignment (direction, steps, impact, CSM capacity, matrix,
//! top five); migration candidates with their risks and exceptions. Also the `values`
//! resolver the analyzers share (`Values`, `ramp`, `percentiles`), and the shipped
//! `config/segments.toml` against the real metric catalogue.

mod common;

use coco_core::Category;
use coco_insights::segments::migration::{MoveDirection, plan};
use coco_insights::segments::misalignment::{ServiceGap, misaligned, report};
use coco_insights::segments::{
    Assignment, FactorScore, SegmentInputs, SegmentsConfig, apply, summarise,
};
use coco_insights::values::{Resolved, SideValues, Values, is_known_source, percentiles, ramp};
use coco_insights::{AccountRow, Direction, SnapshotFrame};
use common::{as_of, assert_close, assert_some_close, date, meta, shipped_metrics};

// ------------------------------------------------------------------------- fixtures

/// Four factors: ARR by percentile, expansion potential on a line (with a utilisation
/// proxy), renewal proximity on a falling line, strategic value from three flags.
/// Tier 2 needs 60,000 ARR as well as its score.
const SMALL: &str = r#"
version = "test"

[model]
name = "test model"
rationale = "hand-computed fixture"
reassess_every_days = 90

[[factors]]
key = "arr"
label = "ARR"
weight = 0.4
rationale = "value at stake"
inputs = [{ source = "arr", percentile = true }]

[[factors]]
key = "expansion_potential"
label = "Expansion potential"
weight = 0.2
rationale = "room to grow"
inputs = [{ source = "expansion_potential", zero = 0.0, full = 0.4 }]
proxy = [{ source = "seat_utilisation_30d", zero = 0.6, full = 1.0 }]

[[factors]]
key = "renewal_proximity"
label = "Renewal proximity"
weight = 0.2
rationale = "renewal near"
inputs = [{ source = "days_to_renewal", zero = 365.0, full = 60.0 }]

[[factors]]
key = "strategic"
label = "Strategic value"
weight = 0.2
rationale = "logos and references"
flags = [
  { label = "reference customer", milestone = "reference_customer", weight = 1.0 },
  { label = "target industry", attribute = "industry", any_of = ["software", "healthcare"], weight = 0.5 },
  { label = "strategic logo", custom = "strategic_logo", weight = 0.5 },
]

[[tiers]]
key = "tier_1"
label = "Tier 1"
min_score = 70.0
coverage = "high_touch"
accounts_per_csm = 10.0
definition = "d1"
coverage_plan = "named senior CSM"

[[tiers]]
key = "tier_2"
label = "Tier 2"
min_score = 50.0
min_arr = 60000.0
coverage = "mid_touch"
accounts_per_csm = 40.0
definition = "d2"
coverage_plan = "named CSM"

[[tiers]]
key = "tier_3"
label = "Tier 3"
min_score = 35.0
coverage = "tech_touch"
accounts_per_csm = 100.0
definition = "d3"
coverage_plan = "pooled CSM on triggers"

[[tiers]]
key = "digital"
label = "Digital"
min_score = 0.0
coverage = "pooled"
accounts_per_csm = 400.0
definition = "d4"
coverage_plan = "automated journeys"

[migration]
renewal_window_days = 90
risks = [
  { label = "detractor NPS", source = "nps_latest", at_most = 6.0 },
  { label = "health score below 40", source = "health_score", at_most = 40.0 },
]
"#;

fn small() -> SegmentsConfig {
    let config = SegmentsConfig::from_toml(SMALL).expect("the small segments config parses");
    config
        .validate(&shipped_metrics())
        .expect("the small segments config validates");
    config
}

/// Owned inputs of one tiering run.
struct Book {
    frame: SnapshotFrame,
    names: Vec<String>,
    side: SideValues,
    milestones: Vec<Vec<String>>,
    custom: Vec<Vec<String>>,
    renewals: Vec<Option<chrono::NaiveDate>>,
}

impl Book {
    fn inputs(&self) -> SegmentInputs<'_> {
        SegmentInputs {
            frame: &self.frame,
            names: &self.names,
            side: &self.side,
            milestones: &self.milestones,
            custom_flags: &self.custom,
            renewal_dates: &self.renewals,
        }
    }
}

const NAN: f64 = f64::NAN;

/// The four-account book of the tiering tests.
///
/// | account | ARR     | expansion_potential | seat util. | days to renewal | flags                      | coverage now |
/// |---------|---------|---------------------|------------|-----------------|----------------------------|--------------|
/// | A       | 100,000 | 0.2                 | 0.9        | 60              | reference, software        | mid_touch    |
/// | B       |  50,000 | —                   | 0.8        | 212.5           | none (retail)              | high_touch   |
/// | C       |  20,000 | 0.5                 | —          | 365             | strategic logo (retail)    | tech_touch   |
/// | D       |  50,000 | —                   | —          | 121             | healthcare, strategic logo | tech_touch   |
fn book() -> Book {
    let metrics = vec![
        meta(
            "seat_utilisation_30d",
            Category::ProductUsage,
            Direction::HigherIsBetter,
        ),
        meta("days_to_renewal", Category::Commercial, Direction::Neutral),
    ];
    let accounts = vec![
        AccountRow::new("A")
            .number("arr", 100_000.0)
            .text("industry", "software")
            .text("segment", "enterprise")
            .text("owner_csm_id", "csm-1")
            .text("coverage_model", "mid_touch"),
        AccountRow::new("B")
            .number("arr", 50_000.0)
            .text("industry", "retail")
            .text("coverage_model", "high_touch"),
        AccountRow::new("C")
            .number("arr", 20_000.0)
            .text("industry", "retail")
            .text("coverage_model", "tech_touch"),
        AccountRow::new("D")
            .number("arr", 50_000.0)
            .text("industry", "healthcare")
            .text("coverage_model", "tech_touch"),
    ];
    let values = vec![
        0.9, 60.0, // A
        0.8, 212.5, // B
        NAN, 365.0, // C
        NAN, 121.0, // D
    ];
    let frame = SnapshotFrame::new(as_of(), metrics, accounts, values).expect("valid frame");
    let mut side = SideValues::default();
    side.insert(
        "expansion_potential",
        vec![Some(0.2), None, Some(0.5), None],
    );
    Book {
        frame,
        names: vec![
            "Acme".into(),
            "Beta".into(),
            "Cobalt".into(),
            "Delta".into(),
        ],
        side,
        milestones: vec![
            vec!["reference_customer".into(), "go_live".into()],
            vec!["go_live".into()],
            vec![],
            vec![],
        ],
        custom: vec![
            vec![],
            vec!["other_flag".into()],
            vec!["strategic_logo".into()],
            vec!["strategic_logo".into()],
        ],
        renewals: vec![
            Some(date(2026, 12, 31)),
            None,
            Some(date(2027, 11, 1)),
            None,
        ],
    }
}

fn factor<'a>(assignment: &'a Assignment, key: &str) -> &'a FactorScore {
    assignment
        .factors
        .iter()
        .find(|f| f.key == key)
        .unwrap_or_else(|| panic!("factor {key} in the assignment"))
}

// --------------------------------------------------------------------- S1: tiers

#[test]
fn tier_assignment_scores_every_factor_by_hand() {
    let book = book();
    let config = small();
    let out = apply(&book.inputs(), &config);
    assert_eq!(out.len(), 4);
    let [a, b, c, d] = [&out[0], &out[1], &out[2], &out[3]];

    // ARR percentiles (mid-rank) among [20k, 50k, 50k, 100k]:
    //   A 100k: (3 below + 0.5 × 1 equal) / 4 = 87.5
    //   B, D 50k: (1 + 0.5 × 2) / 4 = 50
    //   C 20k: (0 + 0.5 × 1) / 4 = 12.5
    assert_some_close(factor(a, "arr").score, 87.5);
    assert_some_close(factor(b, "arr").score, 50.0);
    assert_some_close(factor(c, "arr").score, 12.5);
    assert_some_close(factor(d, "arr").score, 50.0);
    assert_eq!(factor(a, "arr").inputs[0].value, Some(100_000.0));

    // Expansion potential on 0 → 0.4:
    //   A 0.2 → 50; C 0.5 → 125, clamped to 100.
    //   B has no expansion value: the proxy stands in, utilisation 0.8 on 0.6 → 1.0 → 50.
    //   D has neither: no score, left out.
    assert_some_close(factor(a, "expansion_potential").score, 50.0);
    assert!(!factor(a, "expansion_potential").proxy);
    assert_some_close(factor(c, "expansion_potential").score, 100.0);
    let b_exp = factor(b, "expansion_potential");
    assert_some_close(b_exp.score, 50.0);
    assert!(b_exp.proxy, "B's expansion factor comes from the proxy");
    assert_eq!(b_exp.inputs.len(), 1);
    assert_eq!(b_exp.inputs[0].source, "seat_utilisation_30d");
    assert_eq!(b_exp.inputs[0].value, Some(0.8));
    let d_exp = factor(d, "expansion_potential");
    assert_eq!(d_exp.score, None);
    assert!(!d_exp.proxy);
    assert_eq!(d_exp.weight, 0.0);
    assert_eq!(d_exp.points, 0.0);
    // Without data the breakdown still shows the (missing) primary input.
    assert_eq!(d_exp.inputs[0].source, "expansion_potential");
    assert_eq!(d_exp.inputs[0].value, None);

    // Renewal proximity on 365 → 60 days (less is more):
    //   A 60 → 100; B 212.5 → 100 × (212.5 − 365) / (60 − 365) = 50; C 365 → 0;
    //   D 121 → 100 × 244 / 305 = 80.
    assert_some_close(factor(a, "renewal_proximity").score, 100.0);
    assert_some_close(factor(b, "renewal_proximity").score, 50.0);
    assert_some_close(factor(c, "renewal_proximity").score, 0.0);
    assert_some_close(factor(d, "renewal_proximity").score, 80.0);

    // Strategic flags, weights 1 (reference) + 0.5 (industry) + 0.5 (logo) = 2:
    //   A reference + software = 1.5 / 2 → 75; B none (retail, an unrelated custom flag)
    //   → 0; C logo 0.5 / 2 → 25; D healthcare + logo = 1 / 2 → 50.
    let a_str = factor(a, "strategic");
    assert_some_close(a_str.score, 75.0);
    assert_eq!(a_str.flags, vec!["reference customer", "target industry"]);
    assert_some_close(factor(b, "strategic").score, 0.0);
    assert!(factor(b, "strategic").flags.is_empty());
    assert_some_close(factor(c, "strategic").score, 25.0);
    assert_eq!(factor(c, "strategic").flags, vec!["strategic logo"]);
    assert_some_close(factor(d, "strategic").score, 50.0);
    assert_eq!(
        factor(d, "strategic").flags,
        vec!["target industry", "strategic logo"]
    );

    // Segment scores, weights 0.4 / 0.2 / 0.2 / 0.2:
    //   A 0.4×87.5 + 0.2×50 + 0.2×100 + 0.2×75 = 35 + 10 + 20 + 15 = 80
    //   B 0.4×50 + 0.2×50 + 0.2×50 + 0.2×0 = 20 + 10 + 10 + 0 = 40
    //   C 0.4×12.5 + 0.2×100 + 0.2×0 + 0.2×25 = 5 + 20 + 0 + 5 = 30
    //   D no expansion factor: weights renormalise over 0.8 → 0.5 / 0.25 / 0.25:
    //     0.5×50 + 0.25×80 + 0.25×50 = 25 + 20 + 12.5 = 57.5
    assert_close(a.score, 80.0);
    assert_close(b.score, 40.0);
    assert_close(c.score, 30.0);
    assert_close(d.score, 57.5);
    assert_close(factor(a, "arr").weight, 0.4);
    assert_close(factor(a, "arr").points, 35.0);
    assert_close(factor(a, "strategic").points, 15.0);
    assert_close(factor(d, "arr").weight, 0.5);
    assert_close(factor(d, "arr").points, 25.0);
    assert_close(factor(d, "renewal_proximity").weight, 0.25);
    assert_close(factor(d, "renewal_proximity").points, 20.0);
    assert_close(factor(d, "strategic").points, 12.5);
    for assignment in &out {
        let points: f64 = assignment.factors.iter().map(|f| f.points).sum();
        assert_close(points, assignment.score);
        let weights: f64 = assignment.factors.iter().map(|f| f.weight).sum();
        assert_close(weights, 1.0);
    }

    // Tiers: A 80 ≥ 70 → tier_1. B 40 → tier_3. C 30 → digital.
    // D 57.5 ≥ 50 but ARR 50,000 < tier 2's 60,000 → tier_3 (57.5 ≥ 35).
    assert_eq!(
        out.iter().map(|a| a.tier.as_str()).collect::<Vec<_>>(),
        vec!["tier_1", "tier_3", "digital", "tier_3"]
    );
    assert_eq!(a.tier_label, "Tier 1");
    assert_eq!(a.recommended_coverage, "high_touch");
    assert_eq!(d.recommended_coverage, "tech_touch");

    // What the assignment carries from the row.
    assert_eq!(a.account_name, "Acme");
    assert_eq!(a.segment.as_deref(), Some("enterprise"));
    assert_eq!(a.owner_csm_id.as_deref(), Some("csm-1"));
    assert_eq!(a.arr, Some(100_000.0));
    assert_eq!(a.current_coverage.as_deref(), Some("mid_touch"));
    assert_eq!(a.renewal_date, Some(date(2026, 12, 31)));
    assert_eq!(b.renewal_date, None);
    assert_eq!(b.segment, None);

    // Top factors by points: A's ARR 35, renewal 20, strategic 15, expansion 10.
    let top: Vec<&str> = a.top_factors(3).iter().map(|f| f.key.as_str()).collect();
    assert_eq!(top, vec!["arr", "renewal_proximity", "strategic"]);
    // D's factor without data is never a top factor.
    assert!(
        d.top_factors(10)
            .iter()
            .all(|f| f.key != "expansion_potential")
    );
}

#[test]
fn tier_summary_counts_arr_and_csms() {
    let book = book();
    let config = small();
    let out = apply(&book.inputs(), &config);
    let summary = summarise(&out, &config);
    assert_eq!(summary.len(), 4);
    // Total ARR 100k + 50k + 20k + 50k = 220k.
    // tier_1: A → 1 account, 100k, 1/4, 100/220, 1/10 CSM.
    let t1 = &summary[0];
    assert_eq!((t1.tier.as_str(), t1.accounts), ("tier_1", 1));
    assert_close(t1.arr, 100_000.0);
    assert_close(t1.share_of_accounts, 0.25);
    assert_close(t1.share_of_arr, 100.0 / 220.0);
    assert_close(t1.csms_needed, 0.1);
    // tier_2: nobody (D missed the ARR floor).
    assert_eq!(summary[1].accounts, 0);
    assert_close(summary[1].arr, 0.0);
    assert_close(summary[1].csms_needed, 0.0);
    // tier_3: B and D → 2 accounts, 100k, 2/100 CSM.
    let t3 = &summary[2];
    assert_eq!(t3.accounts, 2);
    assert_close(t3.arr, 100_000.0);
    assert_close(t3.share_of_accounts, 0.5);
    assert_close(t3.csms_needed, 0.02);
    // digital: C → 20k, 1/400 CSM.
    let dg = &summary[3];
    assert_eq!(dg.accounts, 1);
    assert_close(dg.share_of_arr, 20.0 / 220.0);
    assert_close(dg.csms_needed, 1.0 / 400.0);
    assert_eq!(dg.coverage, "pooled");
}

#[test]
fn reasons_name_the_proxy_and_the_flags() {
    let book = book();
    let config = small();
    let out = apply(&book.inputs(), &config);
    // B is over-served: its reasons are its weakest factors (what does not call for
    // more attention), strategic value first with no flag held.
    let b = misaligned(&out[1]).expect("B is misaligned");
    assert_eq!(
        b.gap,
        coco_insights::segments::misalignment::ServiceGap::OverServed
    );
    assert_eq!(b.reasons[0], "Strategic value 0/100");
    // Its strongest factors: ARR 20 points, then expansion (proxy) and renewal at 10
    // each — tie broken by key.
    assert_eq!(
        coco_insights::segments::misalignment::reasons(&out[1], 3),
        vec![
            "ARR 50/100",
            "Expansion potential 50/100 (proxy)",
            "Renewal proximity 50/100"
        ]
    );
    // A: renewal 100 and strategic 75 with its flags.
    let a = misaligned(&out[0]).expect("A is misaligned");
    assert_eq!(a.reasons[1], "Renewal proximity 100/100");
    assert_eq!(
        a.reasons[2],
        "Strategic value 75/100 (reference customer, target industry)"
    );
}

#[test]
fn a_factor_of_flags_and_inputs_averages_them() {
    // A factor with one input and flags: (input score + flag score) / 2.
    let text = SMALL.replace(
        "key = \"strategic\"\nlabel = \"Strategic value\"\nweight = 0.2\nrationale = \"logos and references\"\n",
        "key = \"strategic\"\nlabel = \"Strategic value\"\nweight = 0.2\nrationale = \"logos and references\"\ninputs = [{ source = \"days_to_renewal\", zero = 0.0, full = 100.0 }]\n",
    );
    assert_ne!(text, SMALL, "the replacement applied");
    let config = SegmentsConfig::from_toml(&text).expect("parses");
    config.validate(&shipped_metrics()).expect("validates");
    let book = book();
    let out = apply(&book.inputs(), &config);
    // A: days 60 on 0 → 100 = 60; flags 75 → (60 + 75) / 2 = 67.5.
    assert_some_close(factor(&out[0], "strategic").score, 67.5);
    // C: days 365 → 100 (clamped); flags 25 → 62.5.
    assert_some_close(factor(&out[2], "strategic").score, 62.5);
}

// -------------------------------------------------------------- S2: misalignment

#[test]
fn misalignment_of_the_tiered_book() {
    let book = book();
    let config = small();
    let out = apply(&book.inputs(), &config);
    let r = report(&out, &config);
    // Coverage ranks: high_touch 0 < mid_touch 1 < tech_touch 2 < pooled 3.
    //   A mid_touch (1) → high_touch (0): under-served, 1 step.
    //   B high_touch (0) → tech_touch (2): over-served, 2 steps.
    //   C tech_touch (2) → pooled (3): over-served, 1 step.
    //   D tech_touch → tech_touch: aligned.
    assert_eq!(r.accounts_compared, 4);
    assert_eq!(r.misaligned, 3);
    assert_close(r.share_misaligned, 0.75);
    assert_eq!((r.over_served, r.under_served), (2, 1));
    assert_close(r.arr_over_served, 70_000.0);
    assert_close(r.arr_under_served, 100_000.0);

    // Impact = ARR × steps × (1 + renewal/100 [+ expansion/100 when under-served]):
    //   A 100,000 × 1 × (1 + 1.0 + 0.5) = 250,000
    //   B  50,000 × 2 × (1 + 0.5) = 150,000 (its expansion score is not counted: over-served)
    //   C  20,000 × 1 × (1 + 0.0) = 20,000
    let ids: Vec<&str> = r.accounts.iter().map(|m| m.account_id.as_str()).collect();
    assert_eq!(ids, vec!["A", "B", "C"]);
    let [a, b, c] = [&r.accounts[0], &r.accounts[1], &r.accounts[2]];
    assert_eq!((a.gap, a.steps), (ServiceGap::UnderServed, 1));
    assert_eq!((b.gap, b.steps), (ServiceGap::OverServed, 2));
    assert_eq!((c.gap, c.steps), (ServiceGap::OverServed, 1));
    assert_close(a.impact, 250_000.0);
    assert_close(b.impact, 150_000.0);
    assert_close(c.impact, 20_000.0);
    assert_eq!(a.recommended_tier, "tier_1");
    assert_eq!(b.current_coverage, "high_touch");
    assert_eq!(b.recommended_coverage, "tech_touch");
    assert_eq!(a.gap.as_str(), "under_served");

    // CSMs (accounts ÷ accounts_per_csm of the first tier with that coverage):
    //   now:         A 1/40 + B 1/10 + C 1/100 + D 1/100 = 0.025 + 0.1 + 0.01 + 0.01 = 0.145
    //   recommended: A 1/10 + B 1/100 + C 1/400 + D 1/100 = 0.1 + 0.01 + 0.0025 + 0.01 = 0.1225
    //   freed: B 1/10 − 1/100 = 0.09, C 1/100 − 1/400 = 0.0075 → 0.0975
    //   needed: A 1/10 − 1/40 = 0.075
    //   check: 0.145 − 0.1225 = 0.0225 = 0.0975 − 0.075.
    assert_close(r.csms_at_current_coverage, 0.145);
    assert_close(r.csms_at_recommended_coverage, 0.1225);
    assert_close(r.csms_freed, 0.0975);
    assert_close(r.csms_needed, 0.075);

    // Matrix by (current rank, recommended rank).
    let cells: Vec<(&str, &str, usize, f64)> = r
        .matrix
        .iter()
        .map(|c| {
            (
                c.current_coverage.as_str(),
                c.recommended_coverage.as_str(),
                c.accounts,
                c.arr,
            )
        })
        .collect();
    assert_eq!(
        cells,
        vec![
            ("high_touch", "tech_touch", 1, 50_000.0),
            ("mid_touch", "high_touch", 1, 100_000.0),
            ("tech_touch", "tech_touch", 1, 50_000.0),
            ("tech_touch", "pooled", 1, 20_000.0),
        ]
    );
    assert_eq!(r.top.len(), 3);
}

/// A hand-made assignment: only what the misalignment and migration read.
fn assignment(
    id: &str,
    arr: f64,
    current: Option<&str>,
    tier: &str,
    coverage: &str,
    renewal_score: f64,
    expansion_score: Option<f64>,
) -> Assignment {
    let factor = |key: &str, label: &str, score: Option<f64>, weight: f64| FactorScore {
        key: key.into(),
        label: label.into(),
        weight,
        score,
        points: weight * score.unwrap_or(0.0),
        inputs: Vec::new(),
        flags: Vec::new(),
        proxy: false,
    };
    Assignment {
        account_id: id.into(),
        account_name: format!("{id} Inc"),
        segment: None,
        owner_csm_id: Some("csm-9".into()),
        arr: Some(arr),
        current_coverage: current.map(str::to_string),
        score: 50.0,
        tier: tier.into(),
        tier_label: tier.to_uppercase(),
        recommended_coverage: coverage.into(),
        renewal_date: None,
        factors: vec![
            factor("arr", "ARR", Some(60.0), 0.5),
            factor(
                "renewal_proximity",
                "Renewal proximity",
                Some(renewal_score),
                0.25,
            ),
            factor(
                "expansion_potential",
                "Expansion potential",
                expansion_score,
                if expansion_score.is_some() { 0.25 } else { 0.0 },
            ),
        ],
    }
}

#[test]
fn the_top_five_by_impact_and_accounts_without_coverage() {
    let config = small();
    let book = vec![
        // id, ARR, now, tier, recommended, renewal score, expansion score
        // impact = ARR × steps × urgency:
        assignment(
            "p",
            10_000.0,
            Some("pooled"),
            "tier_1",
            "high_touch",
            50.0,
            Some(100.0),
        ), // under 3 steps: 10,000 × 3 × (1 + 0.5 + 1.0) = 75,000
        assignment(
            "q",
            40_000.0,
            Some("high_touch"),
            "digital",
            "pooled",
            0.0,
            Some(100.0),
        ), // over 3 steps, expansion ignored: 40,000 × 3 × 1 = 120,000
        assignment(
            "r",
            30_000.0,
            Some("mid_touch"),
            "tier_1",
            "high_touch",
            100.0,
            None,
        ), // under 1: 30,000 × 1 × (1 + 1.0 + 0) = 60,000 (no expansion data counts 0)
        assignment(
            "s",
            60_000.0,
            Some("tech_touch"),
            "tier_2",
            "mid_touch",
            0.0,
            Some(0.0),
        ), // under 1: 60,000 × 1 × 1 = 60,000 (ties r: id order)
        assignment(
            "t",
            5_000.0,
            Some("mid_touch"),
            "tier_3",
            "tech_touch",
            20.0,
            None,
        ), // over 1: 5,000 × 1 × 1.2 = 6,000
        assignment(
            "u",
            100_000.0,
            Some("mid_touch"),
            "tier_3",
            "tech_touch",
            10.0,
            None,
        ), // over 1: 100,000 × 1.1 = 110,000
        assignment(
            "v",
            70_000.0,
            Some("mid_touch"),
            "tier_2",
            "mid_touch",
            90.0,
            None,
        ), // aligned
        assignment("w", 90_000.0, None, "tier_1", "high_touch", 90.0, None), // no coverage model: not compared
        assignment(
            "x",
            90_000.0,
            Some("white_glove"),
            "tier_1",
            "high_touch",
            90.0,
            None,
        ), // unknown coverage model: not compared
    ];
    let r = report(&book, &config);
    assert_eq!(r.accounts_compared, 7);
    assert_eq!(r.misaligned, 6);
    assert_close(r.share_misaligned, 6.0 / 7.0);
    let order: Vec<(&str, f64)> = r
        .accounts
        .iter()
        .map(|m| (m.account_id.as_str(), m.impact))
        .collect();
    let expected = [
        ("q", 120_000.0),
        ("u", 110_000.0),
        ("p", 75_000.0),
        ("r", 60_000.0),
        ("s", 60_000.0),
        ("t", 6_000.0),
    ];
    assert_eq!(order.len(), expected.len());
    for ((id, impact), (want_id, want)) in order.iter().zip(expected) {
        assert_eq!(*id, want_id);
        assert_close(*impact, want);
    }
    let top: Vec<&str> = r.top.iter().map(|m| m.account_id.as_str()).collect();
    assert_eq!(top, vec!["q", "u", "p", "r", "s"]);
    assert_eq!((r.over_served, r.under_served), (3, 3));
    assert_eq!(r.accounts[2].steps, 3);
    // Over-served ARR q + u + t = 145,000; under-served p + r + s = 100,000.
    assert_close(r.arr_over_served, 145_000.0);
    assert_close(r.arr_under_served, 100_000.0);
    // Freed: q 1/10 − 1/400 = 0.0975, u 1/40 − 1/100 = 0.015, t 0.015 → 0.1275.
    // Needed: p 1/10 − 1/400 = 0.0975, r 1/10 − 1/40 = 0.075, s 1/40 − 1/100 = 0.015 → 0.1875.
    assert_close(r.csms_freed, 0.1275);
    assert_close(r.csms_needed, 0.1875);
    // The matrix counts the aligned account too: (mid, mid) holds v.
    let mid_mid = r
        .matrix
        .iter()
        .find(|c| c.current_coverage == "mid_touch" && c.recommended_coverage == "mid_touch")
        .expect("the aligned cell");
    assert_eq!(mid_mid.accounts, 1);
    assert_close(mid_mid.arr, 70_000.0);
    let mid_tech = r
        .matrix
        .iter()
        .find(|c| c.current_coverage == "mid_touch" && c.recommended_coverage == "tech_touch")
        .expect("t and u");
    assert_eq!(mid_tech.accounts, 2);
    assert_close(mid_tech.arr, 105_000.0);
    assert_eq!(r.matrix.iter().map(|c| c.accounts).sum::<usize>(), 7);
    // An account with no (or an unknown) coverage model is not misaligned.
    assert!(misaligned(&book[7]).is_none());
    assert!(misaligned(&book[8]).is_none());
}

// ----------------------------------------------------------------- S3: migration

#[test]
fn migration_holds_risky_downgrades_and_names_upgrade_risks() {
    let config = small();
    // Risk values: nps_latest from the snapshot, health_score beside it.
    let metrics = vec![meta(
        "nps_latest",
        Category::Sentiment,
        Direction::HigherIsBetter,
    )];
    let ids = [
        "down_renewal",
        "down_clean",
        "down_nps",
        "up_risk",
        "down_past",
        "aligned",
    ];
    let accounts: Vec<AccountRow> = ids.iter().map(|id| AccountRow::new(*id)).collect();
    let frame = SnapshotFrame::new(
        as_of(),
        metrics,
        accounts,
        vec![8.0, 9.0, 5.0, 8.0, 4.0, 2.0],
    )
    .expect("valid frame");
    let mut side = SideValues::default();
    side.insert(
        "health_score",
        vec![
            Some(70.0),
            Some(80.0),
            Some(60.0),
            Some(35.0),
            None,
            Some(10.0),
        ],
    );
    let values = Values::new(&frame, &side);
    let with_renewal = |mut a: Assignment, renewal: Option<chrono::NaiveDate>| {
        a.renewal_date = renewal;
        a
    };
    let book = vec![
        // high → mid, renewal 2026-12-15: 44 days after 2026-11-01 (29 left in Nov + 15),
        // inside the 90-day window.
        with_renewal(
            assignment(
                "down_renewal",
                80_000.0,
                Some("high_touch"),
                "tier_2",
                "mid_touch",
                10.0,
                None,
            ),
            Some(date(2026, 12, 15)),
        ),
        // mid → tech, renewal in 2027-06-01 (212 days), no risk.
        with_renewal(
            assignment(
                "down_clean",
                30_000.0,
                Some("mid_touch"),
                "tier_3",
                "tech_touch",
                0.0,
                None,
            ),
            Some(date(2027, 6, 1)),
        ),
        // high → pooled, detractor NPS 5, renewal 2027-08-01 (273 days, outside the window).
        with_renewal(
            assignment(
                "down_nps",
                50_000.0,
                Some("high_touch"),
                "digital",
                "pooled",
                0.0,
                None,
            ),
            Some(date(2027, 8, 1)),
        ),
        // tech → high, renewal 2026-11-21 (20 days) and health 35 < 40: proceeds, risks named.
        with_renewal(
            assignment(
                "up_risk",
                120_000.0,
                Some("tech_touch"),
                "tier_1",
                "high_touch",
                90.0,
                Some(40.0),
            ),
            Some(date(2026, 11, 21)),
        ),
        // mid → tech, renewal 2026-10-01 already past (−31 days), NPS 4.
        with_renewal(
            assignment(
                "down_past",
                10_000.0,
                Some("mid_touch"),
                "tier_3",
                "tech_touch",
                0.0,
                None,
            ),
            Some(date(2026, 10, 1)),
        ),
        // aligned (NPS 2, health 10): no candidate.
        assignment(
            "aligned",
            99_000.0,
            Some("pooled"),
            "digital",
            "pooled",
            0.0,
            None,
        ),
    ];
    let previous = |id: &str| (id == "up_risk").then(|| "tier_3".to_string());
    let p = plan(&book, &values, &config, as_of(), &previous);
    assert_eq!(p.as_of, as_of());

    assert_eq!(p.upgrades.len(), 1);
    let up = &p.upgrades[0];
    assert_eq!(up.account_id, "up_risk");
    assert_eq!(up.direction, MoveDirection::Upgrade);
    assert_eq!(
        (up.from_coverage.as_str(), up.to_coverage.as_str()),
        ("tech_touch", "high_touch")
    );
    assert_eq!(up.days_to_renewal, Some(20));
    assert_eq!(
        up.transition_risks,
        vec!["renewal in 20 days", "health score below 40"]
    );
    assert_eq!(up.exception, None, "upgrades proceed");
    assert_eq!(up.previous_tier.as_deref(), Some("tier_3"));
    assert_eq!(up.coverage_plan, "named senior CSM");
    assert_eq!(up.to_tier, "tier_1");
    // Upgrade reasons: the strongest factors (points): ARR 30, renewal 22.5, expansion 10.
    assert_eq!(
        up.reasons,
        vec![
            "ARR 60/100",
            "Renewal proximity 90/100",
            "Expansion potential 40/100"
        ]
    );

    // Downgrades by ARR: down_renewal 80k, down_nps 50k, down_clean 30k, down_past 10k.
    let ids: Vec<&str> = p.downgrades.iter().map(|c| c.account_id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["down_renewal", "down_nps", "down_clean", "down_past"]
    );
    let [dr, dn, dc, dp] = [
        &p.downgrades[0],
        &p.downgrades[1],
        &p.downgrades[2],
        &p.downgrades[3],
    ];
    assert_eq!(dr.days_to_renewal, Some(44));
    assert_eq!(dr.transition_risks, vec!["renewal in 44 days"]);
    assert_eq!(
        dr.exception.as_deref(),
        Some("hold until after the renewal on 2026-12-15: renewal in 44 days")
    );
    // A detractor with the renewal far away: held until the risk clears, not for 9 months.
    assert_eq!(dn.days_to_renewal, Some(273));
    assert_eq!(dn.transition_risks, vec!["detractor NPS"]);
    assert_eq!(
        dn.exception.as_deref(),
        Some("hold until the risk clears: detractor NPS")
    );
    assert_eq!(dc.transition_risks, Vec::<String>::new());
    assert_eq!(dc.exception, None);
    assert_eq!(dc.days_to_renewal, Some(212));
    assert_eq!(dp.days_to_renewal, Some(-31));
    assert_eq!(dp.transition_risks, vec!["detractor NPS"]);
    assert_eq!(
        dp.exception.as_deref(),
        Some("hold until the risk clears: detractor NPS")
    );
    // Downgrade reasons: the weakest factors, lowest score first (ties by key).
    assert_eq!(
        dc.reasons,
        vec!["Renewal proximity 0/100", "ARR 60/100"],
        "the factor without data is not a reason"
    );
    assert_eq!(dr.previous_tier, None);
    assert_eq!(dr.coverage_plan, "named CSM");

    assert_eq!(p.exceptions, 3);
    assert_close(p.arr_upgrading, 120_000.0);
    assert_close(p.arr_downgrading, 170_000.0);
}

#[test]
fn a_renewal_inside_the_window_and_another_risk_are_both_named() {
    let config = small();
    let metrics = vec![meta(
        "nps_latest",
        Category::Sentiment,
        Direction::HigherIsBetter,
    )];
    let frame = SnapshotFrame::new(as_of(), metrics, vec![AccountRow::new("z")], vec![3.0])
        .expect("valid frame");
    let side = SideValues::default();
    let values = Values::new(&frame, &side);
    let mut a = assignment("z", 1.0, Some("high_touch"), "digital", "pooled", 0.0, None);
    // 2027-01-30 is 90 days after 2026-11-01: the window's last day.
    a.renewal_date = Some(date(2027, 1, 30));
    let p = plan(&[a], &values, &config, as_of(), &|_| None);
    let c = &p.downgrades[0];
    assert_eq!(c.days_to_renewal, Some(90));
    assert_eq!(
        c.transition_risks,
        vec!["renewal in 90 days", "detractor NPS"]
    );
    assert_eq!(
        c.exception.as_deref(),
        Some("hold until after the renewal on 2027-01-30: renewal in 90 days; detractor NPS")
    );
    // The health risk has no value (no side column): it does not hold.
    assert_eq!(p.exceptions, 1);
}

// ------------------------------------------------------------------ configuration

#[test]
fn the_shipped_segments_config_validates_against_the_catalogue() {
    let text = coco_insights::segments::config::DEFAULT_SEGMENTS;
    let config = SegmentsConfig::from_toml(text).expect("the shipped segments config parses");
    config
        .validate(&shipped_metrics())
        .expect("the shipped segments config validates");
    assert_eq!(config.factors.len(), 8);
    let weights: f64 = config.factors.iter().map(|f| f.weight).sum();
    assert_close(weights, 1.0);
    assert_eq!(config.tiers.last().map(|t| t.min_score), Some(0.0));
    assert_eq!(config.migration.renewal_window_days, 90);
    assert_eq!(SegmentsConfig::coverage_rank("high_touch"), Some(0));
    assert_eq!(SegmentsConfig::coverage_rank("pooled"), Some(3));
    assert_eq!(SegmentsConfig::coverage_rank("white_glove"), None);
}

#[track_caller]
fn rejects(text: &str, names: &[&str]) {
    let config = SegmentsConfig::from_toml(text).expect("parses");
    let err = config
        .validate(&shipped_metrics())
        .expect_err("the configuration should be invalid")
        .to_string();
    for name in names {
        assert!(err.contains(name), "`{err}` should name `{name}`");
    }
}

#[test]
fn invalid_segments_configs_name_the_field() {
    rejects(
        &SMALL.replace(
            "source = \"days_to_renewal\"",
            "source = \"days_to_renewl\"",
        ),
        &["factors[2] (renewal_proximity)", "days_to_renewl"],
    );
    rejects(
        &SMALL.replace(
            "{ source = \"arr\", percentile = true }",
            "{ source = \"arr\", percentile = true, zero = 0.0, full = 1.0 }",
        ),
        &["factors[0] (arr).inputs[0]", "percentile"],
    );
    rejects(
        &SMALL.replace("coverage = \"pooled\"", "coverage = \"white_glove\""),
        &["tiers[3] (digital)", "white_glove"],
    );
    rejects(
        &SMALL.replace("min_score = 35.0", "min_score = 55.0"),
        &["tiers[2] (tier_3)", "may not rise"],
    );
    rejects(
        &SMALL.replace("min_score = 0.0", "min_score = 10.0"),
        &["last tier"],
    );
    rejects(
        &SMALL.replace(
            "milestone = \"reference_customer\", weight",
            "milestone = \"reference_customer\", custom = \"x\", weight",
        ),
        &["factors[3] (strategic).flags[0]", "exactly one"],
    );
    rejects(
        &SMALL.replace("weight = 0.4", "weight = 0.0"),
        &["factors[0] (arr)", "positive"],
    );
    rejects(
        &SMALL.replace(
            "source = \"nps_latest\", at_most = 6.0",
            "source = \"nps_latest\"",
        ),
        &["migration.risks[0]"],
    );
    let err = SegmentsConfig::from_toml(&SMALL.replace("[model]", "[model]\nextra = 1"))
        .expect_err("unknown fields are rejected");
    assert!(err.to_string().contains("extra"), "{err}");
}

// ------------------------------------------------------------------ values resolver

#[test]
fn values_resolve_side_then_metric_then_attribute() {
    let metrics = vec![
        meta(
            "health_score",
            Category::Relationship,
            Direction::HigherIsBetter,
        ),
        meta("nps_latest", Category::Sentiment, Direction::HigherIsBetter),
        meta("arr", Category::Commercial, Direction::HigherIsBetter),
    ];
    let accounts = vec![
        AccountRow::new("a")
            .number("arr", 1000.0)
            .number("seats", 25.0)
            .text("segment", "smb")
            .number("employee_count", f64::INFINITY),
        AccountRow::new("b").text("seats", "many"),
    ];
    let frame = SnapshotFrame::new(
        as_of(),
        metrics,
        accounts,
        vec![
            50.0,
            9.0,
            7.0, // a
            60.0,
            f64::INFINITY,
            NAN, // b
        ],
    )
    .expect("valid frame");
    let mut side = SideValues::default();
    side.insert("health_score", vec![Some(77.0), Some(f64::NAN)]);
    assert!(side.contains("health_score"));
    assert!(!side.contains("nps_latest"));
    let values = Values::new(&frame, &side);

    // A side value wins over the metric of the same name; a non-finite side value is none.
    assert!(matches!(values.resolve("health_score"), Resolved::Side(_)));
    assert_eq!(values.value("health_score", 0), Some(77.0));
    assert_eq!(values.value("health_score", 1), None);
    // A metric wins over the account number of the same name.
    assert!(matches!(values.resolve("arr"), Resolved::Metric(2)));
    assert_eq!(values.value("arr", 0), Some(7.0));
    assert_eq!(values.value("arr", 1), None);
    // Infinite metric values are missing.
    assert_eq!(values.value("nps_latest", 1), None);
    assert_eq!(values.value("nps_latest", 0), Some(9.0));
    // Numeric attributes, only numbers, only finite ones.
    assert!(matches!(
        values.resolve("seats"),
        Resolved::Attribute("seats")
    ));
    assert_eq!(values.value("seats", 0), Some(25.0));
    assert_eq!(
        values.value("seats", 1),
        None,
        "a text attribute is no number"
    );
    assert_eq!(values.value("employee_count", 0), None);
    // A name nobody carries.
    assert!(matches!(
        values.resolve("churn_probability"),
        Resolved::Absent
    ));
    assert_eq!(values.value("churn_probability", 0), None);
    // Text attributes.
    assert_eq!(values.text("segment", 0), Some("smb"));
    assert_eq!(values.text("seats", 0), None);
    assert_eq!(values.text("segment", 1), None);
    // Which names a settings file may use.
    let metas = shipped_metrics();
    assert!(is_known_source("nps_latest", &metas, &[]));
    assert!(is_known_source("tenure_days", &metas, &[]));
    assert!(is_known_source("health_score", &metas, &["health_score"]));
    assert!(!is_known_source("health_score", &metas, &[]));
}

#[test]
fn ramp_and_percentiles_by_hand() {
    // Rising line 10 → 30: 15 is a quarter of the way.
    assert_close(ramp(15.0, 10.0, 30.0), 25.0);
    assert_close(ramp(5.0, 10.0, 30.0), 0.0);
    assert_close(ramp(31.0, 10.0, 30.0), 100.0);
    // Falling line 9 → 4 (NPS, less is more): 6 → 100 × (6 − 9) / (4 − 9) = 60.
    assert_close(ramp(6.0, 9.0, 4.0), 60.0);
    // A step when zero = full: 100 at or above, 0 below.
    assert_close(ramp(2.0, 2.0, 2.0), 100.0);
    assert_close(ramp(1.9, 2.0, 2.0), 0.0);

    // Mid-rank percentiles among the 5 present values [1, 3, 3, 3, 8]:
    //   1: 0.5/5 = 10; 3: (1 + 1.5)/5 = 50; 8: 4.5/5 = 90.
    let p = percentiles(&[Some(3.0), None, Some(1.0), Some(8.0), Some(3.0), Some(3.0)]);
    assert_eq!(
        p,
        vec![
            Some(50.0),
            None,
            Some(10.0),
            Some(90.0),
            Some(50.0),
            Some(50.0)
        ]
    );
    assert_eq!(percentiles(&[Some(4.0)]), vec![Some(50.0)]);
    assert_eq!(percentiles(&[None, None]), vec![None, None]);
}
