//! Static catalogues: the feature catalogue, name lists, regions, industries, and the
//! CSM team (generated once per run from the global seed).

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::model::{normal, pick};

/// Products that have their own contracts. `core` includes the core, analytics,
/// integrations and admin modules (subject to plan tier); add-ons are separate.
pub(crate) const ADDON_PRODUCTS: [&str; 2] = ["automation", "api"];

pub(crate) struct Feature {
    pub key: &'static str,
    pub name: &'static str,
    pub module: &'static str,
    /// Index into PLAN_TIERS (0 starter, 1 professional, 2 enterprise).
    pub tier: usize,
    pub is_core: bool,
    /// Relative event frequency once adopted.
    pub weight: f64,
    pub description: &'static str,
}

const fn f(
    key: &'static str,
    name: &'static str,
    module: &'static str,
    tier: usize,
    is_core: bool,
    weight: f64,
    description: &'static str,
) -> Feature {
    Feature {
        key,
        name,
        module,
        tier,
        is_core,
        weight,
        description,
    }
}

/// Index of `login` in [`FEATURES`]; every session starts with it.
pub(crate) const LOGIN: usize = 0;

pub(crate) static FEATURES: &[Feature] = &[
    f(
        "login",
        "Log in",
        "core",
        0,
        true,
        0.0,
        "User signs in to the workspace",
    ),
    f(
        "dashboard.view",
        "Home dashboard",
        "core",
        0,
        true,
        10.0,
        "Open the home dashboard",
    ),
    f(
        "projects.create",
        "Create project",
        "core",
        0,
        true,
        4.0,
        "Create a project",
    ),
    f(
        "tasks.assign",
        "Assign tasks",
        "core",
        0,
        true,
        8.0,
        "Assign tasks to teammates",
    ),
    f(
        "comments.post",
        "Comments",
        "core",
        0,
        true,
        6.0,
        "Comment on tasks and projects",
    ),
    f(
        "search.query",
        "Search",
        "core",
        0,
        false,
        5.0,
        "Full-text search",
    ),
    f(
        "files.upload",
        "File upload",
        "core",
        0,
        false,
        3.0,
        "Attach files",
    ),
    f(
        "notifications.configure",
        "Notification settings",
        "core",
        0,
        false,
        1.0,
        "Tune notifications",
    ),
    f(
        "mobile.session",
        "Mobile app",
        "core",
        1,
        false,
        3.0,
        "Use the mobile app",
    ),
    f(
        "reports.view",
        "View reports",
        "analytics",
        0,
        true,
        5.0,
        "Open standard reports",
    ),
    f(
        "reports.create",
        "Report builder",
        "analytics",
        1,
        false,
        2.0,
        "Build custom reports",
    ),
    f(
        "reports.export",
        "Report export",
        "analytics",
        1,
        false,
        1.5,
        "Export any report to CSV or PDF",
    ),
    f(
        "dashboards.custom",
        "Custom dashboards",
        "analytics",
        1,
        false,
        2.0,
        "Build team dashboards",
    ),
    f(
        "analytics.forecast",
        "Forecasting",
        "analytics",
        2,
        false,
        1.0,
        "Capacity and delivery forecasts",
    ),
    f(
        "analytics.cohorts",
        "Cohort analysis",
        "analytics",
        2,
        false,
        0.8,
        "Cohort and trend analysis",
    ),
    f(
        "integrations.slack",
        "Slack integration",
        "integrations",
        0,
        false,
        3.0,
        "Notifications and actions in Slack",
    ),
    f(
        "integrations.google",
        "Google Workspace",
        "integrations",
        0,
        false,
        2.0,
        "Calendar and Drive sync",
    ),
    f(
        "integrations.salesforce",
        "Salesforce integration",
        "integrations",
        1,
        false,
        1.5,
        "Sync accounts and opportunities",
    ),
    f(
        "integrations.jira",
        "Jira sync",
        "integrations",
        1,
        false,
        2.0,
        "Two-way Jira issue sync",
    ),
    f(
        "sso.saml",
        "SAML single sign-on",
        "integrations",
        2,
        false,
        0.5,
        "SAML 2.0 SSO",
    ),
    f(
        "scim.provisioning",
        "SCIM provisioning",
        "integrations",
        2,
        false,
        0.3,
        "Automatic user provisioning",
    ),
    f(
        "admin.users",
        "User management",
        "admin",
        0,
        true,
        0.8,
        "Invite and manage users",
    ),
    f(
        "admin.roles",
        "Custom roles",
        "admin",
        1,
        false,
        0.4,
        "Role-based permissions",
    ),
    f(
        "admin.audit_log",
        "Audit log",
        "admin",
        2,
        false,
        0.3,
        "Audit trail of changes",
    ),
    f(
        "admin.billing",
        "Billing settings",
        "admin",
        0,
        false,
        0.2,
        "Manage plan and invoices",
    ),
    f(
        "workflows.create",
        "Workflow builder",
        "automation",
        0,
        false,
        1.5,
        "Design automated workflows",
    ),
    f(
        "workflows.run",
        "Workflow runs",
        "automation",
        0,
        false,
        4.0,
        "Automated workflow executions",
    ),
    f(
        "rules.trigger",
        "Rules",
        "automation",
        0,
        false,
        2.0,
        "If-this-then-that rules",
    ),
    f(
        "approvals.route",
        "Approval routing",
        "automation",
        1,
        false,
        1.0,
        "Multi-step approvals",
    ),
    f(
        "scheduler.jobs",
        "Scheduled jobs",
        "automation",
        1,
        false,
        0.8,
        "Recurring scheduled jobs",
    ),
    f(
        "api.calls",
        "REST API",
        "api",
        0,
        false,
        4.0,
        "Calls to the public REST API",
    ),
    f(
        "api.webhooks",
        "Webhooks",
        "api",
        0,
        false,
        1.5,
        "Outbound webhooks",
    ),
    f(
        "api.tokens",
        "API tokens",
        "api",
        0,
        false,
        0.2,
        "Create and rotate API tokens",
    ),
];

/// The product (contract) a feature's module is sold in.
pub(crate) fn product_of(module: &str) -> Option<usize> {
    ADDON_PRODUCTS.iter().position(|p| *p == module)
}

pub(crate) const REGIONS: [&str; 4] = ["NA", "EMEA", "APAC", "LATAM"];
pub(crate) const REGION_WEIGHTS: [f64; 4] = [0.45, 0.33, 0.15, 0.07];
/// UTC hour at which the region's working day starts (sessions start within 8 hours).
pub(crate) const REGION_DAY_START: [u32; 4] = [13, 7, 0, 11];

pub(crate) const INDUSTRIES: [&str; 12] = [
    "software",
    "manufacturing",
    "logistics",
    "healthcare",
    "financial_services",
    "retail",
    "education",
    "media",
    "professional_services",
    "energy",
    "construction",
    "nonprofit",
];

/// Departments product users work in, with the job titles drawn for them.
pub(crate) const DEPARTMENTS: [(&str, &[&str]); 10] = [
    (
        "Operations",
        &[
            "Operations Manager",
            "Operations Analyst",
            "Coordinator",
            "Process Lead",
        ],
    ),
    (
        "Engineering",
        &[
            "Software Engineer",
            "Engineering Manager",
            "QA Engineer",
            "DevOps Engineer",
        ],
    ),
    (
        "Product",
        &["Product Manager", "Product Designer", "Product Owner"],
    ),
    (
        "Marketing",
        &[
            "Marketing Manager",
            "Content Strategist",
            "Campaign Specialist",
        ],
    ),
    (
        "Sales",
        &[
            "Account Executive",
            "Sales Manager",
            "Sales Development Rep",
        ],
    ),
    ("Finance", &["Analyst", "Controller", "Accountant"]),
    (
        "Support",
        &["Support Agent", "Support Lead", "Support Engineer"],
    ),
    (
        "HR",
        &["HR Business Partner", "Recruiter", "People Partner"],
    ),
    ("Legal", &["Counsel", "Paralegal", "Contract Manager"]),
    (
        "Procurement",
        &["Buyer", "Procurement Manager", "Category Manager"],
    ),
];

/// Per industry (in the order of [`INDUSTRIES`]): the departments most likely to be the
/// first team using the product (indices into [`DEPARTMENTS`], most likely first).
pub(crate) const FIRST_TEAMS: [[usize; 3]; 12] = [
    [1, 2, 0], // software: Engineering, Product, Operations
    [0, 1, 9], // manufacturing: Operations, Engineering, Procurement
    [0, 9, 6], // logistics: Operations, Procurement, Support
    [0, 6, 7], // healthcare: Operations, Support, HR
    [5, 0, 8], // financial_services: Finance, Operations, Legal
    [3, 0, 4], // retail: Marketing, Operations, Sales
    [0, 7, 3], // education: Operations, HR, Marketing
    [3, 2, 4], // media: Marketing, Product, Sales
    [0, 5, 4], // professional_services: Operations, Finance, Sales
    [1, 0, 9], // energy: Engineering, Operations, Procurement
    [0, 1, 9], // construction: Operations, Engineering, Procurement
    [0, 3, 5], // nonprofit: Operations, Marketing, Finance
];

pub(crate) const FIRST_NAMES: [&str; 48] = [
    "Lin", "Maria", "James", "Aisha", "Carlos", "Sofia", "Kenji", "Priya", "Lucas", "Emma", "Omar",
    "Chloe", "Mateo", "Hannah", "Arjun", "Julia", "Noah", "Fatima", "Liam", "Yuki", "Elena",
    "David", "Zara", "Tomas", "Grace", "Ivan", "Leila", "Marco", "Nina", "Samuel", "Ingrid",
    "Diego", "Mei", "Oliver", "Amara", "Felix", "Rosa", "Hugo", "Anika", "Pablo", "Sara", "Ethan",
    "Noor", "Jonas", "Clara", "Ravi", "Alice", "Kofi",
];

pub(crate) const LAST_NAMES: [&str; 48] = [
    "Wei",
    "Rossi",
    "Smith",
    "Khan",
    "Garcia",
    "Muller",
    "Tanaka",
    "Patel",
    "Silva",
    "Johnson",
    "Haddad",
    "Martin",
    "Lopez",
    "Schmidt",
    "Sharma",
    "Novak",
    "Brown",
    "Ali",
    "Walsh",
    "Sato",
    "Petrova",
    "Cohen",
    "Ahmed",
    "Kowalski",
    "Kim",
    "Ivanov",
    "Nasser",
    "Bianchi",
    "Berg",
    "Okafor",
    "Larsen",
    "Fernandez",
    "Chen",
    "Taylor",
    "Mensah",
    "Weber",
    "Moreno",
    "Dubois",
    "Gupta",
    "Ruiz",
    "Nilsson",
    "Clarke",
    "Rahman",
    "Fischer",
    "Costa",
    "Iyer",
    "Laurent",
    "Boateng",
];

pub(crate) const COMPANY_STEMS: [&str; 40] = [
    "Northwind",
    "Bluepeak",
    "Ironclad",
    "Lumen",
    "Cedar",
    "Harbor",
    "Summit",
    "Vertex",
    "Silverline",
    "Brightwater",
    "Redwood",
    "Stonebridge",
    "Aurora",
    "Pinnacle",
    "Meridian",
    "Oakridge",
    "Falcon",
    "Granite",
    "Keystone",
    "Evergreen",
    "Crescent",
    "Atlas",
    "Beacon",
    "Cobalt",
    "Driftwood",
    "Ember",
    "Foxglove",
    "Horizon",
    "Juniper",
    "Kestrel",
    "Lighthouse",
    "Maple",
    "Nimbus",
    "Orchid",
    "Polaris",
    "Quarry",
    "Riverstone",
    "Sable",
    "Tidewater",
    "Willow",
];

pub(crate) const COMPANY_SUFFIXES: [&str; 16] = [
    "Logistics",
    "Health",
    "Labs",
    "Systems",
    "Foods",
    "Capital",
    "Energy",
    "Retail",
    "Works",
    "Analytics",
    "Partners",
    "Manufacturing",
    "Media",
    "Education",
    "Group",
    "Technologies",
];

pub(crate) const SKILLS: [&str; 14] = [
    "onboarding",
    "enterprise",
    "renewals",
    "technical",
    "analytics",
    "integrations",
    "training",
    "executive",
    "es",
    "de",
    "fr",
    "ja",
    "zh",
    "pt",
];

pub(crate) fn person_name(rng: &mut ChaCha8Rng) -> (&'static str, &'static str) {
    (
        FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())],
        LAST_NAMES[rng.random_range(0..LAST_NAMES.len())],
    )
}

/// A CSM of the generated team.
pub(crate) struct Csm {
    pub id: String,
    pub name: String,
    pub email: String,
    pub manager: Option<usize>,
    pub team: String,
    pub region: usize,
    /// Segment focus: 0 enterprise, 1 mid-market, 2 scale (smb, tech-touch/pooled).
    pub focus: usize,
    pub capacity: i64,
    pub skills: String,
    pub start: NaiveDate,
    pub active: bool,
    /// Relative share of new accounts routed to this CSM (unequal books).
    pub weight: f64,
}

pub(crate) const FOCUS_NAMES: [&str; 3] = ["Enterprise", "Mid-Market", "Scale"];
/// Share of CSMs per focus; books are ~15 / ~40 / ~65 accounts at the default mix.
const FOCUS_SHARE: [f64; 3] = [0.32, 0.33, 0.35];
const FOCUS_CAPACITY: [(i64, i64); 3] = [(12, 20), (35, 45), (60, 80)];

pub(crate) fn build_csms(accounts: usize, rng: &mut ChaCha8Rng, end: NaiveDate) -> Vec<Csm> {
    let n = (accounts as f64 / 40.0).round().max(3.0) as usize;
    let width = digits(n).max(3);
    let mut csms: Vec<Csm> = Vec::with_capacity(n);
    let mut leads: Vec<(usize, usize, usize)> = Vec::new(); // (focus, region, csm index)
    for i in 0..n {
        let focus = if i < 3 { i } else { pick(rng, &FOCUS_SHARE) };
        let region = if i < 3 { 0 } else { pick(rng, &REGION_WEIGHTS) };
        let (first, last) = person_name(rng);
        let (lo, hi) = FOCUS_CAPACITY[focus];
        let capacity = rng.random_range(lo..=hi);
        // Unequal books: log-normal routing weights (sigma 0.55), a few very heavy.
        let mut weight = (0.35 * normal(rng)).exp().clamp(0.45, 2.2);
        let active = i == 0 || rng.random::<f64>() > 0.03;
        if !active {
            // Left the team; their accounts have not all been reassigned yet.
            weight *= 0.3;
        }
        let mut skills: Vec<&str> = Vec::new();
        for skill in SKILLS {
            if rng.random::<f64>() < 0.18 {
                skills.push(skill);
            }
        }
        if focus == 0 && !skills.contains(&"enterprise") {
            skills.insert(0, "enterprise");
        }
        let tenure_days = rng.random_range(60..(6 * 365));
        let team = format!("{} {}", FOCUS_NAMES[focus], REGIONS[region]);
        let lead = leads
            .iter()
            .find(|(f, r, _)| *f == focus && *r == region)
            .map(|(_, _, c)| *c);
        let manager = match lead {
            Some(lead) => Some(lead),
            None => {
                // First CSM of a team becomes its lead, reporting to the head of CS
                // (csm 0, who has no manager).
                if i > 0 {
                    leads.push((focus, region, i));
                    Some(0)
                } else {
                    leads.push((focus, region, 0));
                    None
                }
            }
        };
        csms.push(Csm {
            id: format!("csm_{:0width$}", i + 1),
            name: format!("{first} {last}"),
            email: format!(
                "{}.{}{}@coco-demo.example",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase(),
                i + 1
            ),
            manager,
            team,
            region,
            focus,
            capacity,
            skills: skills.join(";"),
            start: end - chrono::TimeDelta::days(tenure_days),
            active,
            weight,
        });
    }
    csms
}

pub(crate) fn digits(n: usize) -> usize {
    n.max(1).to_string().len()
}
