//! Every metric kind against hand-computed values on a small book (three customers and
//! one former customer), computed through the real path: CSV ingest into a DuckDB file,
//! the compiled catalogue, the store's snapshot. Then the point-in-time property: rows
//! stamped after the as-of date — new events, tickets closing, contacts arriving,
//! milestones completing — never change the snapshot.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use coco_core::contract;
use coco_metrics::{Catalogue, compile};
use coco_store::snapshots::{SnapshotAnalyses, SnapshotRequest, WideSnapshot};
use coco_store::{IngestOptions, Store};

const AS_OF: &str = "2026-06-30";

const ACCOUNTS: &str = "\
account_id,name,segment,industry,employee_count,region,owner_csm_id,coverage_model,customer_since
acc_a,Alpha,enterprise,software,5000,EMEA,,high_touch,2025-01-01
acc_b,Beta,smb,retail,20,NA,,tech_touch,2026-05-01
acc_c,Gamma,smb,retail,30,NA,,tech_touch,2025-04-01
acc_d,Delta,mid_market,media,400,APAC,,mid_touch,2026-01-01
";

const CONTRACTS: &str = "\
contract_id,account_id,product,plan_tier,seats,arr,start_date,end_date,status
ca1,acc_a,core,professional,10,12000,2026-01-01,2026-12-31,active
ca2,acc_a,api,professional,10,1800,2026-01-01,2026-12-31,active
ca3,acc_a,core,professional,5,3000,2026-04-01,2026-12-31,active
cb1,acc_b,core,starter,4,2400,2026-05-01,2027-04-30,active
cc1,acc_c,core,starter,5,3000,2025-04-01,2026-03-31,churned
";

const FEATURES: &str = "\
feature_key,name,module,tier,is_core
f1,One,core,starter,true
f2,Two,core,starter,true
f3,Three,analytics,professional,false
f4,Four,api,starter,false
";

const CONTACTS: &str = "\
contact_id,account_id,role,start_date,end_date
con_a_champ,acc_a,champion,2025-01-01,2026-06-01
con_a_exec,acc_a,executive_sponsor,,
con_b_champ,acc_b,champion,,
";

const USAGE_EVENTS: &str = "\
account_id,user_id,feature_key,occurred_at,value
acc_a,u1,f1,2026-06-30T23:00:00Z,
acc_a,u1,f1,2026-06-01T00:00:00Z,
acc_a,u2,f3,2026-05-31T23:59:59Z,
acc_a,u3,f4,2026-04-02T10:00:00Z,3.5
acc_a,u1,f2,2026-03-15T09:00:00Z,
acc_c,u9,f1,2026-03-01T09:00:00Z,
";

const USAGE_DAILY: &str = "\
account_id,date,feature_key,active_users,event_count
acc_b,2026-06-10,f1,3,7
acc_b,2026-06-20,f2,2,4
";

const TICKETS_V1: &str = "\
ticket_id,account_id,opened_at,closed_at,priority,status,escalated
t1,acc_a,2026-06-10T00:00:00Z,2026-06-11T12:00:00Z,high,solved,true
t2,acc_a,2026-06-20T00:00:00Z,,urgent,open,false
t3,acc_a,2026-06-25T00:00:00Z,2026-07-02T00:00:00Z,normal,closed,false
t5,acc_a,2026-01-01T00:00:00Z,2026-01-03T00:00:00Z,low,closed,false
";

/// t1 reopened…
const TICKETS_V2: &str = "\
ticket_id,account_id,opened_at,closed_at,priority,status,escalated
t1,acc_a,2026-06-10T00:00:00Z,,high,open,true
";

/// …and solved again a day later.
const TICKETS_V3: &str = "\
ticket_id,account_id,opened_at,closed_at,priority,status,escalated
t1,acc_a,2026-06-10T00:00:00Z,2026-06-12T12:00:00Z,high,solved,true
";

const TOUCHPOINTS: &str = "\
touchpoint_id,account_id,kind,occurred_at,contact_id
tp1,acc_a,qbr,2026-06-15T15:00:00Z,con_a_exec
tp2,acc_a,call,2026-05-01T15:00:00Z,con_a_champ
tp3,acc_a,email,2026-02-01T15:00:00Z,con_a_champ
";

const SURVEYS: &str = "\
response_id,account_id,survey_type,score,responded_at
s1,acc_a,nps,9,2026-01-10T10:00:00Z
s2,acc_a,nps,6,2026-06-20T10:00:00Z
s3,acc_a,nps,8,2025-10-01T10:00:00Z
s4,acc_a,csat,4,2026-06-25T10:00:00Z
s5,acc_a,csat,2,2026-05-01T10:00:00Z
";

const FEEDBACK: &str = "\
feedback_id,account_id,submitted_at,source,category,text
fb1,acc_a,2026-06-01T10:00:00Z,call,competitor,Looking at a competitor
";

const BILLING: &str = "\
billing_event_id,account_id,kind,amount,occurred_on
b1,acc_a,failed_payment,1000,2026-05-10
b2,acc_a,dunning,0,2026-05-17
b3,acc_a,failed_payment,1000,2026-03-01
b4,acc_a,downgrade_request,0,2026-06-29
";

const MILESTONES: &str = "\
milestone_id,account_id,milestone_key,stage,due_date,completed_date
m1,acc_a,kickoff,onboarding,2026-01-10,2026-01-09
m2,acc_a,admin_setup,onboarding,2026-02-01,2026-03-01
m3,acc_a,training,onboarding,2026-06-15,
m4,acc_a,core_adoption,adoption,2026-08-01,
m5,acc_a,go_live,onboarding,2026-06-20,2026-07-02
";

const OUTCOMES: &str = "\
outcome_id,account_id,kind,outcome,decided_on
o1,acc_a,expansion,won,2026-03-01
o2,acc_a,expansion,lost,2026-05-01
";

/// Kinds the shipped catalogue does not use.
const EXTRA_METRICS: &str = r#"
version = "test"

[[metric]]
name = "usage_value_90d"
description = "Sum of event values"
unit = "units"
category = "product_usage"
direction = "higher_is_better"
kind = "sum"
source = "usage"
column = "value"
window_days = 90

[[metric]]
name = "contacts_in_role"
description = "Contacts in role"
unit = "contacts"
category = "relationship"
kind = "contacts"

[[metric]]
name = "mrr"
description = "MRR"
unit = "currency"
category = "commercial"
kind = "contract_value"
field = "mrr"

[[metric]]
name = "days_since_last_ticket"
description = "Days since a ticket"
unit = "days"
category = "support"
kind = "days_since"
source = "tickets"

[[metric]]
name = "won_expansions_365d"
description = "Expansion opportunities won"
unit = "opportunities"
category = "commercial"
kind = "count"
source = "outcomes"
window_days = 365
filter = { outcome = "won" }

[[metric]]
name = "tickets_per_touchpoint_90d"
description = "Tickets per touchpoint"
unit = "ratio"
category = "support"
kind = "ratio"
numerator = "tickets_90d"
denominator = "touchpoints_90d"

[[metric]]
name = "analytics_events_90d"
description = "Events on analytics features"
unit = "events"
category = "product_usage"
kind = "count"
source = "usage"
window_days = 90
filter = { module = "analytics" }

[[metric]]
name = "tenure"
description = "Days as a customer"
unit = "days"
category = "profile"
kind = "tenure_days"

[[metric]]
name = "active_users_30d_delta_90d"
description = "Change in active users"
unit = "users"
category = "product_usage"
kind = "change"
metric = "active_users_30d"
compare_offset_days = 90
"#;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn ingest(store: &mut Store, dir: &Path, entity: &str, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let entity = contract::entity(entity).unwrap();
    let report = store
        .ingest_file(entity, &path, &IngestOptions::default())
        .unwrap();
    assert_eq!(report.rejected, 0, "{name}: {report:?}");
}

fn load_book(store: &mut Store, dir: &Path) {
    for (entity, text) in [
        ("accounts", ACCOUNTS),
        ("features", FEATURES),
        ("contracts", CONTRACTS),
        ("contacts", CONTACTS),
        ("usage_events", USAGE_EVENTS),
        ("usage_daily", USAGE_DAILY),
        ("tickets", TICKETS_V1),
        ("touchpoints", TOUCHPOINTS),
        ("surveys", SURVEYS),
        ("feedback", FEEDBACK),
        ("billing_events", BILLING),
        ("milestones", MILESTONES),
        ("outcomes", OUTCOMES),
    ] {
        ingest(store, dir, entity, &format!("{entity}.csv"), text);
    }
    ingest(store, dir, "tickets", "tickets_v2.csv", TICKETS_V2);
    ingest(store, dir, "tickets", "tickets_v3.csv", TICKETS_V3);
}

fn catalogue() -> Catalogue {
    let shipped = Catalogue::default_catalogue().unwrap();
    Catalogue::parse(EXTRA_METRICS, "test", Some(&shipped)).unwrap()
}

/// account → metric → value (missing metrics absent).
type Values = BTreeMap<String, BTreeMap<String, f64>>;

fn snapshot(store: &Store, catalogue: &Catalogue, as_of: NaiveDate) -> Values {
    let compiled = compile(catalogue, as_of).unwrap();
    let definition = serde_json::to_string(catalogue).unwrap();
    let fingerprint = catalogue.fingerprint();
    let request = SnapshotRequest {
        as_of,
        sql: &compiled.sql,
        metrics: &compiled.metrics,
        catalogue_fingerprint: &fingerprint,
        catalogue_version: &catalogue.version,
        catalogue_definition: &definition,
    };
    let computed = store
        .compute_snapshot(as_of, &compiled.sql, &compiled.metrics, false)
        .unwrap();
    let values = to_values(&computed.wide);
    store
        .record_snapshot(&request, computed, &SnapshotAnalyses::default())
        .unwrap();
    values
}

fn to_values(wide: &WideSnapshot) -> Values {
    let width = wide.metrics.len();
    wide.accounts
        .iter()
        .enumerate()
        .map(|(row, account)| {
            let values = wide
                .metrics
                .iter()
                .enumerate()
                .filter_map(|(column, metric)| {
                    let value = wide.values[row * width + column];
                    (!value.is_nan()).then(|| (metric.clone(), value))
                })
                .collect();
            (account.account_id.clone(), values)
        })
        .collect()
}

#[track_caller]
fn expect(values: &Values, account: &str, metric: &str, expected: Option<f64>) {
    let actual = values[account].get(metric).copied();
    match (actual, expected) {
        (Some(a), Some(e)) => assert!(
            (a - e).abs() < 1e-9,
            "{account}.{metric}: got {a}, expected {e}"
        ),
        (a, e) => assert_eq!(a, e, "{account}.{metric}"),
    }
}

#[test]
fn every_kind_matches_hand_computed_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    load_book(&mut store, dir.path());
    let values = snapshot(&store, &catalogue(), date(AS_OF));

    // Customers at the as-of date: acc_c's only contract ended on 2026-03-31; acc_d has
    // no contracts at all and became a customer before the as-of date.
    let accounts: Vec<&str> = values.keys().map(String::as_str).collect();
    assert_eq!(accounts, ["acc_a", "acc_b", "acc_d"]);

    let a = Some;
    // Usage. Window [06-01, 06-30]: the 06-30 23:00 and 06-01 00:00 events; 05-31 23:59 is out.
    expect(&values, "acc_a", "events_30d", a(2.0));
    expect(&values, "acc_a", "active_users_30d", a(1.0));
    expect(&values, "acc_a", "active_days_30d", a(2.0));
    // 90 days earlier the window is [03-03, 04-01]: one event (03-15).
    expect(&values, "acc_a", "events_30d_change_90d", a(1.0));
    // u1 then; u1 now → (1 − 1) / 1.
    expect(&values, "acc_a", "active_users_30d_change_90d", a(0.0));
    expect(&values, "acc_a", "active_users_30d_delta_90d", a(0.0));
    expect(&values, "acc_a", "events_per_active_user_30d", a(2.0));
    expect(&values, "acc_a", "days_since_last_event", a(0.0));
    // `value` defaults to 1 per event: 1 + 1 + 1 (06-30, 06-01, 05-31) + 3.5 (04-02).
    expect(&values, "acc_a", "usage_value_90d", a(6.5));
    // Seats: core 10 + 5 (seat order), api 10 repeats them → 15.
    expect(&values, "acc_a", "seat_utilisation_30d", a(1.0 / 15.0));
    // Features in [04-02, 06-30]: f1, f3, f4. Entitled (professional + api add-on): f1..f4;
    // core: f1, f2.
    expect(&values, "acc_a", "features_used_90d", a(3.0));
    expect(&values, "acc_a", "feature_adoption_90d", a(0.75));
    expect(&values, "acc_a", "adoption_breadth_90d", a(0.5));
    expect(&values, "acc_a", "reporting_events_30d", a(0.0));
    // Filter on the feature's module (joined from `features`): f3 on 05-31.
    expect(&values, "acc_a", "analytics_events_90d", a(1.0));
    expect(&values, "acc_b", "analytics_events_90d", a(0.0));
    // acc_b reports daily aggregates only: 7 + 4 events, busiest day 3 users, 2 days.
    expect(&values, "acc_b", "events_30d", a(11.0));
    expect(&values, "acc_b", "active_users_30d", a(3.0));
    expect(&values, "acc_b", "active_days_30d", a(2.0));
    expect(&values, "acc_b", "days_since_last_event", a(10.0));
    expect(&values, "acc_b", "seat_utilisation_30d", a(0.75));
    // Starter without the api add-on: entitled f1, f2, both used.
    expect(&values, "acc_b", "feature_adoption_90d", a(1.0));
    // acc_d: no usage (0, not missing: usage data exists), no contract (no seats, no
    // entitlement), never active.
    expect(&values, "acc_d", "events_30d", a(0.0));
    expect(&values, "acc_d", "seat_utilisation_30d", None);
    expect(&values, "acc_d", "adoption_breadth_90d", None);
    expect(&values, "acc_d", "days_since_last_event", None);
    expect(&values, "acc_d", "events_per_active_user_30d", None);

    // Adoption milestones: due by 06-30 are m1, m2, m3, m5; completed by then m1, m2.
    expect(&values, "acc_a", "onboarding_completion", a(0.5));
    expect(&values, "acc_a", "milestones_overdue", a(2.0));
    expect(&values, "acc_b", "milestones_overdue", a(0.0));
    expect(&values, "acc_b", "onboarding_completion", None);

    // Relationship.
    expect(&values, "acc_a", "touchpoints_30d", a(1.0));
    expect(&values, "acc_a", "touchpoints_90d", a(2.0));
    expect(&values, "acc_a", "days_since_last_touchpoint", a(15.0));
    expect(&values, "acc_a", "qbr_last_quarter", a(1.0));
    expect(&values, "acc_a", "exec_sponsor_engaged_90d", a(1.0));
    expect(&values, "acc_a", "contacts_engaged_90d", a(2.0));
    expect(&values, "acc_a", "champion_departed_90d", a(1.0));
    expect(&values, "acc_a", "champion_present", a(0.0));
    expect(&values, "acc_a", "contacts_in_role", a(1.0));
    expect(&values, "acc_b", "champion_present", a(1.0));
    expect(&values, "acc_b", "champion_departed_90d", a(0.0));
    expect(&values, "acc_b", "touchpoints_30d", a(0.0));
    expect(&values, "acc_b", "days_since_last_touchpoint", None);

    // Support: t2 (urgent, no close) and t3 (closes 07-02) are open on 06-30.
    expect(&values, "acc_a", "open_tickets", a(2.0));
    expect(&values, "acc_a", "open_high_priority_tickets", a(1.0));
    expect(&values, "acc_a", "tickets_90d", a(3.0));
    expect(&values, "acc_a", "escalations_90d", a(1.0));
    // Only t1 closed inside the window, after 2.5 days (its latest version).
    expect(&values, "acc_a", "mean_resolution_days_90d", a(2.5));
    // t1 was solved, reopened, solved again: 1 of the 3 tickets opened in the window.
    expect(&values, "acc_a", "reopen_rate_90d", a(1.0 / 3.0));
    expect(&values, "acc_a", "days_since_last_ticket", a(5.0));
    expect(&values, "acc_a", "tickets_per_touchpoint_90d", a(1.5));
    expect(&values, "acc_b", "reopen_rate_90d", None);

    // Sentiment: latest NPS 6 (06-20); last 180 days [01-02, 06-30]: 9, 6 → 7.5; the
    // 180 days before: 8 → change −0.5. CSAT in [04-02, 06-30]: 4, 2.
    expect(&values, "acc_a", "nps_latest", a(6.0));
    expect(&values, "acc_a", "nps_mean_180d", a(7.5));
    expect(&values, "acc_a", "nps_change_180d", a(-0.5));
    expect(&values, "acc_a", "csat_mean_90d", a(3.0));
    expect(&values, "acc_a", "competitor_mentions_90d", a(1.0));
    expect(&values, "acc_b", "nps_latest", None);

    // Commercial.
    expect(&values, "acc_a", "failed_payments_90d", a(1.0));
    expect(&values, "acc_a", "late_payments_90d", a(1.0));
    expect(&values, "acc_a", "downgrade_requests_90d", a(1.0));
    expect(&values, "acc_a", "mrr", a(16800.0 / 12.0));
    expect(&values, "acc_a", "days_to_renewal", a(184.0));
    expect(&values, "acc_a", "won_expansions_365d", a(1.0));
    expect(&values, "acc_d", "days_to_renewal", None);
    // customer_since 2025-01-01 and 2026-01-01.
    expect(&values, "acc_a", "tenure", a(545.0));
    expect(&values, "acc_d", "tenure", a(180.0));
}

const AFTER_AS_OF: &[(&str, &str)] = &[
    (
        "usage_events",
        "account_id,user_id,feature_key,occurred_at,value\n\
         acc_a,u7,f1,2026-07-01T00:00:00Z,\nacc_a,u8,f3,2026-07-15T10:00:00Z,9\nacc_d,u1,f1,2026-07-02T00:00:00Z,\n",
    ),
    (
        "usage_daily",
        "account_id,date,feature_key,active_users,event_count\nacc_b,2026-07-01,f1,9,99\n",
    ),
    (
        // t2 and t3 close after the as-of date; a new escalation arrives.
        "tickets",
        "ticket_id,account_id,opened_at,closed_at,priority,status,escalated\n\
         t2,acc_a,2026-06-20T00:00:00Z,2026-07-03T00:00:00Z,urgent,solved,false\n\
         t6,acc_a,2026-07-01T00:00:00Z,,urgent,open,true\n",
    ),
    (
        "touchpoints",
        "touchpoint_id,account_id,kind,occurred_at,contact_id\ntp9,acc_b,qbr,2026-07-01T09:00:00Z,con_b_champ\n",
    ),
    (
        // A new champion starts, the sponsor leaves — both after the as-of date.
        "contacts",
        "contact_id,account_id,role,start_date,end_date\n\
         con_a_new,acc_a,champion,2026-07-15,\ncon_a_exec,acc_a,executive_sponsor,,2026-07-20\n",
    ),
    (
        "surveys",
        "response_id,account_id,survey_type,score,responded_at\ns9,acc_a,nps,0,2026-07-01T00:00:00Z\n",
    ),
    (
        "feedback",
        "feedback_id,account_id,submitted_at,source,category,text\nfb9,acc_b,2026-07-01T00:00:00Z,call,competitor,x\n",
    ),
    (
        "billing_events",
        "billing_event_id,account_id,kind,amount,occurred_on\nb9,acc_b,failed_payment,10,2026-07-01\n",
    ),
    (
        // m3 completes after the as-of date.
        "milestones",
        "milestone_id,account_id,milestone_key,stage,due_date,completed_date\n\
         m3,acc_a,training,onboarding,2026-06-15,2026-07-10\n",
    ),
    (
        // acc_c comes back after the as-of date; acc_b buys more seats from July.
        "contracts",
        "contract_id,account_id,product,plan_tier,seats,arr,start_date,end_date,status\n\
         cc2,acc_c,core,starter,5,3000,2026-07-01,2027-06-30,active\n\
         cb2,acc_b,core,starter,10,6000,2026-07-01,2027-04-30,active\n",
    ),
    (
        "outcomes",
        "outcome_id,account_id,kind,outcome,decided_on\no9,acc_a,expansion,won,2026-07-01\n",
    ),
];

#[test]
fn rows_stamped_after_the_as_of_date_never_change_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    load_book(&mut store, dir.path());
    let catalogue = catalogue();
    let before = snapshot(&store, &catalogue, date(AS_OF));
    for (index, (entity, text)) in AFTER_AS_OF.iter().enumerate() {
        ingest(
            &mut store,
            dir.path(),
            entity,
            &format!("later_{index}_{entity}.csv"),
            text,
        );
    }
    let after = snapshot(&store, &catalogue, date(AS_OF));
    assert_eq!(before, after);

    // The later rows do count as of a later date (so the test would notice a snapshot
    // that ignored them for another reason).
    let later = snapshot(&store, &catalogue, date("2026-07-31"));
    assert!(later.contains_key("acc_c"));
    expect(&later, "acc_a", "escalations_90d", Some(2.0));
    expect(&later, "acc_a", "nps_latest", Some(0.0));
    expect(&later, "acc_a", "champion_present", Some(1.0));
}

#[test]
fn recomputing_a_snapshot_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    load_book(&mut store, dir.path());
    let catalogue = catalogue();
    let first = snapshot(&store, &catalogue, date(AS_OF));
    let second = snapshot(&store, &catalogue, date(AS_OF));
    assert_eq!(first, second);
    let snapshots = store.list_snapshots().unwrap();
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0].accounts, 3);
}
