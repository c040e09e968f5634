//! The data contract: every table COCO ingests, its columns, keys, allowed values and
//! references. This is the single description that ingest validation, the quality
//! report, the demo generator and `docs/data-contract.md` (rendered by
//! `coco contract --format markdown`) all read, so they cannot drift apart.
//!
//! The physical schema lives in versioned migrations (`coco-store/migrations`); a test
//! there checks every column declared here exists with the matching SQL type.

use serde::Serialize;

/// Plan tiers, lowest first. A feature's `tier` is the lowest tier that includes it.
pub const PLAN_TIERS: &[&str] = &["starter", "professional", "enterprise"];

/// The value type of a column as it is validated on ingest and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "values")]
pub enum ColumnType {
    Text,
    Integer,
    /// Floating-point measure (scores, hours, event values).
    Number,
    /// Currency amount, stored as DECIMAL(18,2).
    Money,
    /// `true/false`, `yes/no`, `y/n`, `1/0`, `t/f` (any case).
    Boolean,
    /// ISO date `YYYY-MM-DD` (a mapping file may declare another format).
    Date,
    /// ISO 8601 date-time; an offset is converted to UTC, none means UTC.
    Timestamp,
    /// One of a fixed list of lower-case values; input is trimmed and lower-cased,
    /// spaces and hyphens become underscores.
    Enum(&'static [&'static str]),
    /// A list of text values separated by `;` in CSV, a JSON array in JSON Lines.
    TextList,
    /// A JSON object (accounts' custom attributes).
    Json,
}

impl ColumnType {
    /// The DuckDB type the column is stored as.
    pub fn sql_type(&self) -> &'static str {
        match self {
            ColumnType::Text | ColumnType::Enum(_) | ColumnType::Json => "VARCHAR",
            ColumnType::Integer => "BIGINT",
            ColumnType::Number => "DOUBLE",
            ColumnType::Money => "DECIMAL(18,2)",
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Date => "DATE",
            ColumnType::Timestamp => "TIMESTAMP",
            ColumnType::TextList => "VARCHAR[]",
        }
    }

    /// Short human name used in error messages and docs.
    pub fn describe(&self) -> String {
        match self {
            ColumnType::Text => "text".into(),
            ColumnType::Integer => "integer".into(),
            ColumnType::Number => "number".into(),
            ColumnType::Money => "money (decimal, 2 places)".into(),
            ColumnType::Boolean => "boolean".into(),
            ColumnType::Date => "date (YYYY-MM-DD)".into(),
            ColumnType::Timestamp => "timestamp (ISO 8601, UTC)".into(),
            ColumnType::Enum(values) => format!("one of: {}", values.join(", ")),
            ColumnType::TextList => "list of text (`;`-separated)".into(),
            ColumnType::Json => "JSON object".into(),
        }
    }
}

/// A column whose value must name an existing row of another (or the same) entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub entity: &'static str,
    pub column: &'static str,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Column {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub required: bool,
    pub references: Option<Reference>,
    /// Inclusive numeric bounds, checked on ingest.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// SQL over the row's typed columns giving the value when the source has none
    /// (e.g. `mrr` from `arr / 12`).
    pub default_sql: Option<&'static str>,
    pub description: &'static str,
    pub example: &'static str,
}

/// How rows of a file are reconciled with rows already in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeMode {
    /// The key identifies a row; a changed row replaces the stored one (the old version
    /// goes to `<table>_history`), an identical row is counted unchanged. Two rows with
    /// one key in one file: the later is rejected as a duplicate.
    Upsert,
    /// Append-only facts (raw events). Rows equal on the key are the same event: only the
    /// first is kept, repeats (in the file or already stored) count as unchanged.
    AppendDedup,
}

/// A rule over several columns of one row; `violated_when` is a SQL condition over the
/// typed columns that is true for a bad row.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RowRule {
    pub field: &'static str,
    pub violated_when: &'static str,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Entity {
    /// Entity name, also the table name and the file stem `coco ingest --dir` maps.
    pub name: &'static str,
    pub description: &'static str,
    pub columns: &'static [Column],
    pub key: &'static [&'static str],
    pub merge: MergeMode,
    pub rules: &'static [RowRule],
    /// The column that dates a row (for staleness and future-date checks), if any.
    pub event_time: Option<&'static str>,
}

impl Entity {
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn history_table(&self) -> Option<String> {
        (self.merge == MergeMode::Upsert).then(|| format!("{}_history", self.name))
    }
}

/// Builder-style constructors keep the table below readable.
const fn col(name: &'static str, ty: ColumnType, description: &'static str) -> Column {
    Column {
        name,
        ty,
        required: false,
        references: None,
        min: None,
        max: None,
        default_sql: None,
        description,
        example: "",
    }
}

impl Column {
    const fn req(mut self) -> Self {
        self.required = true;
        self
    }
    const fn refs(mut self, entity: &'static str, column: &'static str) -> Self {
        self.references = Some(Reference { entity, column });
        self
    }
    const fn range(mut self, min: f64, max: f64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }
    const fn non_negative(mut self) -> Self {
        self.min = Some(0.0);
        self
    }
    const fn or_else(mut self, sql: &'static str) -> Self {
        self.default_sql = Some(sql);
        self
    }
    const fn eg(mut self, example: &'static str) -> Self {
        self.example = example;
        self
    }
}

use ColumnType::*;

const SEGMENTS: &[&str] = &["enterprise", "mid_market", "smb"];
/// Coverage models from the most to the least CSM attention.
pub const COVERAGE_MODELS: &[&str] = &["high_touch", "mid_touch", "tech_touch", "pooled"];
const CONTRACT_STATUS: &[&str] = &["active", "pending", "expired", "cancelled", "churned"];
pub const CONTACT_ROLES: &[&str] = &[
    "champion",
    "executive_sponsor",
    "economic_buyer",
    "admin",
    "user",
    "other",
];
const TICKET_PRIORITY: &[&str] = &["low", "normal", "high", "urgent"];
const TICKET_STATUS: &[&str] = &["new", "open", "pending", "solved", "closed"];
const TOUCHPOINT_KINDS: &[&str] = &[
    "meeting", "call", "email", "qbr", "ebr", "note", "event", "chat",
];
const DIRECTIONS: &[&str] = &["inbound", "outbound"];
const SURVEY_TYPES: &[&str] = &["nps", "csat", "ces"];
const JOURNEY_STAGES: &[&str] = &["onboarding", "adoption", "expansion", "renewal", "advocacy"];
const MILESTONE_STATUS: &[&str] = &["planned", "in_progress", "completed", "skipped", "blocked"];
const BILLING_KINDS: &[&str] = &[
    "invoice",
    "payment",
    "failed_payment",
    "refund",
    "credit_note",
    "dunning",
    "chargeback",
    "downgrade_request",
];
const OUTCOME_KINDS: &[&str] = &["renewal", "expansion"];
const OUTCOME_VALUES: &[&str] = &[
    "renewed",
    "churned",
    "downgraded",
    "expanded",
    "won",
    "lost",
];
const EXPANSION_TYPES: &[&str] = &["seats", "tier", "module", "other"];
pub const FEEDBACK_SOURCES: &[&str] = &[
    "survey",
    "ticket",
    "call",
    "meeting",
    "portal",
    "email",
    "community",
    "other",
];
pub const FEEDBACK_CATEGORIES: &[&str] = &[
    "bug",
    "feature_request",
    "ux",
    "performance",
    "pricing",
    "competitor",
    "praise",
    "other",
];
const FEEDBACK_STATUS: &[&str] = &["new", "triaged", "planned", "shipped", "declined", "closed"];

pub static CSMS: Entity = Entity {
    name: "csms",
    description: "Customer success managers: the people who own accounts.",
    columns: &[
        col("csm_id", Text, "Stable CSM identifier.")
            .req()
            .eg("csm_007"),
        col("name", Text, "Full name.").req().eg("Lin Wei"),
        col("email", Text, "Work email, used for notifications.").eg("lin.wei@example.com"),
        col(
            "manager_id",
            Text,
            "The CSM's manager or team lead (another CSM row).",
        )
        .refs("csms", "csm_id")
        .eg("csm_001"),
        col("team", Text, "Team name.").eg("Enterprise East"),
        col("region", Text, "Region the CSM covers.").eg("APAC"),
        col(
            "capacity_accounts",
            Integer,
            "How many accounts the CSM can carry at full load.",
        )
        .non_negative()
        .eg("40"),
        col(
            "skills",
            TextList,
            "Skills for routing and balancing (`;`-separated).",
        )
        .eg("onboarding;enterprise;zh"),
        col("start_date", Date, "First day in the role.").eg("2023-04-01"),
        col("active", Boolean, "Still in the team (default true).")
            .or_else("true")
            .eg("true"),
    ],
    key: &["csm_id"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: None,
};

pub static ACCOUNTS: Entity = Entity {
    name: "accounts",
    description: "Customer accounts. Columns not listed here are kept in `custom_attributes`.",
    columns: &[
        col("account_id", Text, "Stable account identifier (CRM id).")
            .req()
            .eg("acc_00042"),
        col("name", Text, "Account name.")
            .req()
            .eg("Northwind Logistics"),
        col("segment", Enum(SEGMENTS), "Commercial segment.").eg("mid_market"),
        col("industry", Text, "Industry.").eg("logistics"),
        col("employee_count", Integer, "Company size in employees.")
            .non_negative()
            .eg("850"),
        col("region", Text, "Sales region.").eg("EMEA"),
        col("owner_csm_id", Text, "The CSM who owns the account.")
            .refs("csms", "csm_id")
            .eg("csm_007"),
        col(
            "coverage_model",
            Enum(COVERAGE_MODELS),
            "How the account is served.",
        )
        .eg("mid_touch"),
        col(
            "parent_account_id",
            Text,
            "Parent in a corporate hierarchy.",
        )
        .refs("accounts", "account_id")
        .eg("acc_00007"),
        col("customer_since", Date, "First contract start.").eg("2022-03-15"),
        col("website", Text, "Company website.").eg("northwind.example"),
        col(
            "custom_attributes",
            Json,
            "Any other columns of the source file, as a JSON object.",
        )
        .eg(r#"{"crm_owner_team":"East"}"#),
    ],
    key: &["account_id"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: None,
};

pub static FEATURES: Entity = Entity {
    name: "features",
    description: "Feature catalogue: what usage events refer to and which tier includes what.",
    columns: &[
        col("feature_key", Text, "Stable key; usage rows refer to it.")
            .req()
            .eg("reports.export"),
        col("name", Text, "Display name.").req().eg("Report export"),
        col("module", Text, "Product or module the feature belongs to.")
            .req()
            .eg("analytics"),
        col(
            "tier",
            Enum(PLAN_TIERS),
            "Lowest plan tier that includes the feature.",
        )
        .req()
        .eg("professional"),
        col(
            "is_core",
            Boolean,
            "Core feature every customer should adopt.",
        )
        .eg("true"),
        col(
            "resources",
            Text,
            "Enablement resource (doc or course URL).",
        )
        .eg("https://docs.example/reports"),
        col("description", Text, "What the feature does.").eg("Export any report to CSV or PDF"),
    ],
    key: &["feature_key"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: None,
};

pub static CONTRACTS: Entity = Entity {
    name: "contracts",
    description: "Contracts / subscriptions: one row per product or module subscribed.",
    columns: &[
        col("contract_id", Text, "Stable contract or subscription id.")
            .req()
            .eg("ctr_00042_1"),
        col("account_id", Text, "Owning account.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("product", Text, "Product or module subscribed.")
            .req()
            .eg("core"),
        col("plan_tier", Enum(PLAN_TIERS), "Plan tier.")
            .req()
            .eg("professional"),
        col("seats", Integer, "Licensed seats.")
            .non_negative()
            .eg("120"),
        col(
            "arr",
            Money,
            "Annual recurring revenue (arr or mrr is required).",
        )
        .non_negative()
        .or_else("mrr * 12")
        .eg("36000.00"),
        col(
            "mrr",
            Money,
            "Monthly recurring revenue; derived as arr/12 when absent.",
        )
        .non_negative()
        .or_else("arr / 12")
        .eg("3000.00"),
        col("currency", Text, "ISO 4217 currency code (default USD).")
            .or_else("'USD'")
            .eg("USD"),
        col("start_date", Date, "Term start.")
            .req()
            .eg("2025-03-01"),
        col("end_date", Date, "Term end = renewal date.").eg("2026-02-28"),
        col("status", Enum(CONTRACT_STATUS), "Contract status.")
            .req()
            .eg("active"),
        col(
            "auto_renew",
            Boolean,
            "Renews automatically unless cancelled.",
        )
        .eg("false"),
    ],
    key: &["contract_id"],
    merge: MergeMode::Upsert,
    rules: &[RowRule {
        field: "arr",
        violated_when: "arr IS NULL AND mrr IS NULL",
        reason: "arr or mrr is required",
    }],
    event_time: None,
};

pub static CONTACTS: Entity = Entity {
    name: "contacts",
    description: "People at customer accounts and their role in the relationship.",
    columns: &[
        col("contact_id", Text, "Stable contact id.")
            .req()
            .eg("con_00042_3"),
        col("account_id", Text, "Account the contact works for.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("name", Text, "Full name.").eg("Maria Rossi"),
        col("email", Text, "Email address.").eg("maria@northwind.example"),
        col("title", Text, "Job title.").eg("VP Operations"),
        col("role", Enum(CONTACT_ROLES), "Role in the relationship.")
            .req()
            .eg("champion"),
        col("start_date", Date, "Since when the person holds the role.").eg("2024-01-10"),
        col(
            "end_date",
            Date,
            "When the person left the role or company.",
        )
        .eg(""),
        col("is_primary", Boolean, "Primary contact for the account.").eg("true"),
    ],
    key: &["contact_id"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: None,
};

pub static USERS: Entity = Entity {
    name: "users",
    description: "Product users (the people who log in — not necessarily contacts) and the department or team they work in.",
    columns: &[
        col("account_id", Text, "Account the user belongs to.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col(
            "user_id",
            Text,
            "User identifier within the product; usage rows refer to it.",
        )
        .req()
        .eg("u_00042_017"),
        col("email", Text, "Email address.").eg("maria@northwind.example"),
        col("department", Text, "Department or team the user works in.").eg("Finance"),
        col("title", Text, "Job title.").eg("Analyst"),
        col("role", Text, "Role in the product (admin, user, viewer…).").eg("user"),
        col("created_on", Date, "When the user was invited or created.").eg("2025-03-02"),
        col(
            "deactivated_on",
            Date,
            "When the user was removed or deactivated.",
        )
        .eg(""),
    ],
    key: &["account_id", "user_id"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: None,
};

pub static USAGE_EVENTS: Entity = Entity {
    name: "usage_events",
    description: "Raw product usage events. De-duplicated on (account_id, user_id, feature_key, occurred_at).",
    columns: &[
        col("account_id", Text, "Account the user belongs to.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("user_id", Text, "User identifier within the product.")
            .req()
            .eg("u_00042_017"),
        col(
            "feature_key",
            Text,
            "Feature or event key from the feature catalogue.",
        )
        .req()
        .refs("features", "feature_key")
        .eg("reports.export"),
        col("occurred_at", Timestamp, "When the event happened (UTC).")
            .req()
            .eg("2026-10-05T09:31:12Z"),
        col("value", Number, "Event magnitude (default 1).")
            .or_else("1")
            .eg("1"),
    ],
    key: &["account_id", "user_id", "feature_key", "occurred_at"],
    merge: MergeMode::AppendDedup,
    rules: &[],
    event_time: Some("occurred_at"),
};

pub static USAGE_DAILY: Entity = Entity {
    name: "usage_daily",
    description: "Daily usage aggregates, for sources that export counts rather than events.",
    columns: &[
        col("account_id", Text, "Account.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("date", Date, "Day (UTC).").req().eg("2026-10-05"),
        col("feature_key", Text, "Feature key from the catalogue.")
            .req()
            .refs("features", "feature_key")
            .eg("reports.export"),
        col(
            "active_users",
            Integer,
            "Distinct users active on the feature that day.",
        )
        .req()
        .non_negative()
        .eg("14"),
        col("event_count", Integer, "Events that day.")
            .req()
            .non_negative()
            .eg("63"),
    ],
    key: &["account_id", "date", "feature_key"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: Some("date"),
};

pub static TICKETS: Entity = Entity {
    name: "tickets",
    description: "Support tickets.",
    columns: &[
        col("ticket_id", Text, "Ticket id in the help desk.")
            .req()
            .eg("tkt_918273"),
        col("account_id", Text, "Account.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("contact_id", Text, "Requester.")
            .refs("contacts", "contact_id")
            .eg("con_00042_3"),
        col("opened_at", Timestamp, "Created.")
            .req()
            .eg("2026-09-14T08:00:00Z"),
        col("closed_at", Timestamp, "Solved or closed.").eg("2026-09-15T17:20:00Z"),
        col("priority", Enum(TICKET_PRIORITY), "Priority.")
            .req()
            .eg("high"),
        col("status", Enum(TICKET_STATUS), "Status.")
            .req()
            .eg("solved"),
        col("category", Text, "Category or product area.").eg("integrations"),
        col("subject", Text, "Subject line.").eg("SSO login fails for new users"),
        col(
            "escalated",
            Boolean,
            "Escalated to engineering or management.",
        )
        .eg("false"),
        col("csat", Integer, "Ticket CSAT 1-5.")
            .range(1.0, 5.0)
            .eg("4"),
        col("first_response_hours", Number, "Hours to first response.")
            .non_negative()
            .eg("2.5"),
    ],
    key: &["ticket_id"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: Some("opened_at"),
};

pub static TOUCHPOINTS: Entity = Entity {
    name: "touchpoints",
    description: "Interactions with the customer: meetings, calls, emails, QBR/EBR, notes.",
    columns: &[
        col("touchpoint_id", Text, "Stable id.")
            .req()
            .eg("tp_55501"),
        col("account_id", Text, "Account.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("kind", Enum(TOUCHPOINT_KINDS), "Kind of interaction.")
            .req()
            .eg("qbr"),
        col("occurred_at", Timestamp, "When.")
            .req()
            .eg("2026-09-30T14:00:00Z"),
        col("csm_id", Text, "CSM involved.")
            .refs("csms", "csm_id")
            .eg("csm_007"),
        col("contact_id", Text, "Main customer participant.")
            .refs("contacts", "contact_id")
            .eg("con_00042_3"),
        col("direction", Enum(DIRECTIONS), "Who initiated it.").eg("outbound"),
        col("subject", Text, "Subject or title.").eg("Q3 business review"),
        col("notes", Text, "Free-text notes.").eg("Champion asked about the API module."),
    ],
    key: &["touchpoint_id"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: Some("occurred_at"),
};

pub static SURVEYS: Entity = Entity {
    name: "surveys",
    description: "Survey responses (NPS 0-10, CSAT 1-5, CES 1-7) with comments.",
    columns: &[
        col("response_id", Text, "Stable response id.")
            .req()
            .eg("srv_77120"),
        col("account_id", Text, "Account.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("contact_id", Text, "Respondent.")
            .refs("contacts", "contact_id")
            .eg("con_00042_3"),
        col("survey_type", Enum(SURVEY_TYPES), "Survey type.")
            .req()
            .eg("nps"),
        col("score", Integer, "Score on the survey's scale.")
            .req()
            .range(0.0, 10.0)
            .eg("9"),
        col("responded_at", Timestamp, "When answered.")
            .req()
            .eg("2026-08-02T10:11:00Z"),
        col("comment", Text, "Verbatim comment.").eg("Great support, reporting is slow."),
    ],
    key: &["response_id"],
    merge: MergeMode::Upsert,
    rules: &[
        RowRule {
            field: "score",
            violated_when: "survey_type = 'csat' AND (score < 1 OR score > 5)",
            reason: "a CSAT score must be between 1 and 5",
        },
        RowRule {
            field: "score",
            violated_when: "survey_type = 'ces' AND (score < 1 OR score > 7)",
            reason: "a CES score must be between 1 and 7",
        },
    ],
    event_time: Some("responded_at"),
};

pub static MILESTONES: Entity = Entity {
    name: "milestones",
    description: "Journey and onboarding milestones per account: due and completed dates.",
    columns: &[
        col("milestone_id", Text, "Stable id.")
            .req()
            .eg("ms_00042_kickoff"),
        col("account_id", Text, "Account.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("milestone_key", Text, "Which milestone of the journey.")
            .req()
            .eg("kickoff"),
        col("name", Text, "Display name.").eg("Kick-off meeting"),
        col("stage", Enum(JOURNEY_STAGES), "Journey stage.")
            .req()
            .eg("onboarding"),
        col("due_date", Date, "Planned date.").eg("2025-03-10"),
        col("completed_date", Date, "When it was reached.").eg("2025-03-08"),
        col("status", Enum(MILESTONE_STATUS), "Status.").eg("completed"),
    ],
    key: &["milestone_id"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: None,
};

pub static BILLING_EVENTS: Entity = Entity {
    name: "billing_events",
    description: "Invoices, payments, failures, refunds, dunning steps and downgrade requests.",
    columns: &[
        col("billing_event_id", Text, "Stable id.")
            .req()
            .eg("bil_330012"),
        col("account_id", Text, "Account.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("contract_id", Text, "Contract billed.")
            .refs("contracts", "contract_id")
            .eg("ctr_00042_1"),
        col("kind", Enum(BILLING_KINDS), "What happened.")
            .req()
            .eg("invoice"),
        col("amount", Money, "Amount in the currency.")
            .req()
            .eg("9000.00"),
        col("currency", Text, "ISO 4217 code (default USD).")
            .or_else("'USD'")
            .eg("USD"),
        col("occurred_on", Date, "Date of the event.")
            .req()
            .eg("2026-09-01"),
        col("due_date", Date, "Invoice due date.").eg("2026-10-01"),
    ],
    key: &["billing_event_id"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: Some("occurred_on"),
};

pub static OUTCOMES: Entity = Entity {
    name: "outcomes",
    description: "Renewal outcomes and expansion opportunity results: the labels models learn from.",
    columns: &[
        col("outcome_id", Text, "Stable id.")
            .req()
            .eg("out_00042_2025"),
        col("account_id", Text, "Account.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("contract_id", Text, "Contract renewed or expanded.")
            .refs("contracts", "contract_id")
            .eg("ctr_00042_1"),
        col(
            "kind",
            Enum(OUTCOME_KINDS),
            "Renewal or expansion opportunity.",
        )
        .req()
        .eg("renewal"),
        col("outcome", Enum(OUTCOME_VALUES), "Result.")
            .req()
            .eg("renewed"),
        col("decided_on", Date, "Date the outcome became known.")
            .req()
            .eg("2026-02-20"),
        col("arr_before", Money, "ARR before.")
            .non_negative()
            .eg("36000.00"),
        col("arr_after", Money, "ARR after.")
            .non_negative()
            .eg("42000.00"),
        col(
            "expansion_type",
            Enum(EXPANSION_TYPES),
            "For expansions: what grew.",
        )
        .eg("seats"),
        col("reason", Text, "Stated reason (churn reason, loss reason).").eg("budget cuts"),
    ],
    key: &["outcome_id"],
    merge: MergeMode::Upsert,
    rules: &[
        RowRule {
            field: "outcome",
            violated_when: "kind = 'renewal' AND outcome NOT IN ('renewed','churned','downgraded','expanded')",
            reason: "a renewal outcome must be renewed, churned, downgraded or expanded",
        },
        RowRule {
            field: "outcome",
            violated_when: "kind = 'expansion' AND outcome NOT IN ('won','lost')",
            reason: "an expansion outcome must be won or lost",
        },
    ],
    event_time: Some("decided_on"),
};

pub static FEEDBACK: Entity = Entity {
    name: "feedback",
    description: "Feedback items: feature requests, bugs, praise, competitor mentions.",
    columns: &[
        col("feedback_id", Text, "Stable id.").req().eg("fb_1201"),
        col("account_id", Text, "Account.")
            .req()
            .refs("accounts", "account_id")
            .eg("acc_00042"),
        col("contact_id", Text, "Who gave it.")
            .refs("contacts", "contact_id")
            .eg("con_00042_3"),
        col("submitted_at", Timestamp, "When.")
            .req()
            .eg("2026-07-19T12:00:00Z"),
        col("source", Enum(FEEDBACK_SOURCES), "Channel.")
            .req()
            .eg("call"),
        col("category", Enum(FEEDBACK_CATEGORIES), "Category.")
            .req()
            .eg("feature_request"),
        col("feature_key", Text, "Feature concerned.")
            .refs("features", "feature_key")
            .eg("reports.export"),
        col("text", Text, "The feedback itself.")
            .req()
            .eg("Need scheduled exports to S3."),
        col("status", Enum(FEEDBACK_STATUS), "Triage status.").eg("triaged"),
    ],
    key: &["feedback_id"],
    merge: MergeMode::Upsert,
    rules: &[],
    event_time: Some("submitted_at"),
};

/// All entities in load order: an entity only references entities before it (or itself).
pub static ENTITIES: &[&Entity] = &[
    &CSMS,
    &ACCOUNTS,
    &FEATURES,
    &CONTRACTS,
    &CONTACTS,
    &USERS,
    &USAGE_EVENTS,
    &USAGE_DAILY,
    &TICKETS,
    &TOUCHPOINTS,
    &SURVEYS,
    &MILESTONES,
    &BILLING_EVENTS,
    &OUTCOMES,
    &FEEDBACK,
];

/// Looks an entity up by name, accepting `-` for `_` and a few common singular forms.
pub fn entity(name: &str) -> Option<&'static Entity> {
    let normalised = name.trim().to_ascii_lowercase().replace('-', "_");
    ENTITIES
        .iter()
        .copied()
        .find(|e| e.name == normalised || e.name.trim_end_matches('s') == normalised)
}

pub fn entity_names() -> Vec<&'static str> {
    ENTITIES.iter().map(|e| e.name).collect()
}

/// Bounds and defaults of a column in words, for docs and `coco contract`.
pub fn column_rule_text(column: &Column) -> String {
    let mut parts = Vec::new();
    match (column.min, column.max) {
        (Some(min), Some(max)) => parts.push(format!("{min} to {max}")),
        (Some(min), None) => parts.push(format!(">= {min}")),
        (None, Some(max)) => parts.push(format!("<= {max}")),
        (None, None) => {}
    }
    if let Some(default) = column.default_sql {
        parts.push(format!("default: {default}"));
    }
    parts.join("; ")
}

/// The whole contract as Markdown: `docs/data-contract.md` is this output (a test
/// keeps them identical).
pub fn render_markdown() -> String {
    let mut out = String::new();
    out.push_str("# COCO data contract\n\n");
    out.push_str(
        "Generated by `coco contract --markdown` from `crates/coco-core/src/contract.rs`; do not edit by hand.\n\n\
Every table below can be ingested from CSV (header row required; `,` by default, tab for `.tsv`), \
JSON Lines (one object per line) or Parquet, with `coco ingest <entity> <file>`, or with \
`coco ingest --dir <folder>` where file names map to entities (`accounts.csv`, `usage_events.parquet`, \
`tickets-2026-10.jsonl`). Column names match case-insensitively, ignoring spaces and punctuation \
(`Account ID` = `account_id`); other exports are mapped with a mapping file (docs/mapping.md).\n\n\
General rules:\n\n\
- Empty values are missing values. A missing required value rejects the row.\n\
- Enumerations are matched after trimming and lower-casing; spaces and hyphens become `_` (`Mid Market` = `mid_market`).\n\
- Booleans accept true/false, yes/no, y/n, t/f, 1/0.\n\
- Dates are `YYYY-MM-DD`; timestamps are ISO 8601 (`2026-10-05T09:31:12Z`, an offset is converted to UTC, none means UTC).\n\
- References must name a row already in the store (or, for self-references, in the same file): load in the order of this page.\n\
- Rejected rows go to the quarantine with file, line, field and reason (`coco quarantine list`).\n\
- Re-ingesting a file is idempotent. Upserted tables keep replaced versions in `<table>_history`.\n\
- Every stored row carries `_load_id` and `_line`: the load (see `coco status`) and source line it came from.\n\n",
    );
    out.push_str("| # | entity | key | merge |\n|---|---|---|---|\n");
    for (index, entity) in ENTITIES.iter().enumerate() {
        out.push_str(&format!(
            "| {} | [`{}`](#{}) | {} | {} |\n",
            index + 1,
            entity.name,
            entity.name,
            entity.key.join(", "),
            match entity.merge {
                MergeMode::Upsert => "upsert by key",
                MergeMode::AppendDedup => "append, de-duplicated on key",
            }
        ));
    }
    for entity in ENTITIES {
        out.push_str(&format!(
            "\n## {}\n\n{}\n\n",
            entity.name, entity.description
        ));
        out.push_str(&format!(
            "Key: `{}`. {}\n\n",
            entity.key.join("`, `"),
            match entity.merge {
                MergeMode::Upsert => "A row with a known key replaces the stored one when any value differs; two rows with one key in one file: the later is rejected.",
                MergeMode::AppendDedup => "Rows equal on the key are one event: the first is kept, repeats count as unchanged.",
            }
        ));
        out.push_str("| column | type | required | references | rule | description | example |\n|---|---|---|---|---|---|---|\n");
        for column in entity.columns {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} | `{}` |\n",
                column.name,
                column.ty.describe(),
                if column.required { "yes" } else { "" },
                column
                    .references
                    .map(|r| format!("{}.{}", r.entity, r.column))
                    .unwrap_or_default(),
                column_rule_text(column),
                column.description,
                column.example.replace('|', "\\|"),
            ));
        }
        if !entity.rules.is_empty() {
            out.push_str("\nRow rules:\n\n");
            for rule in entity.rules {
                out.push_str(&format!("- `{}`: {}\n", rule.field, rule.reason));
            }
        }
        let header: Vec<&str> = entity.columns.iter().map(|c| c.name).collect();
        let example: Vec<String> = entity
            .columns
            .iter()
            .map(|c| {
                if c.example.contains(',') || c.example.contains('"') {
                    format!("\"{}\"", c.example.replace('"', "\"\""))
                } else {
                    c.example.to_string()
                }
            })
            .collect();
        out.push_str(&format!(
            "\nExample (`{}.csv`):\n\n```csv\n{}\n{}\n```\n",
            entity.name,
            header.join(","),
            example.join(",")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_point_backwards_in_load_order() {
        for (position, entity) in ENTITIES.iter().enumerate() {
            for column in entity.columns {
                if let Some(reference) = column.references {
                    let target = ENTITIES
                        .iter()
                        .position(|e| e.name == reference.entity)
                        .unwrap_or_else(|| {
                            panic!("{}.{} refers to unknown entity", entity.name, column.name)
                        });
                    assert!(
                        target <= position,
                        "{}.{} refers forward",
                        entity.name,
                        column.name
                    );
                    let target_entity = ENTITIES[target];
                    assert!(target_entity.column(reference.column).is_some());
                    assert_eq!(target_entity.key, &[reference.column]);
                }
            }
        }
    }

    #[test]
    fn keys_are_required_columns() {
        for entity in ENTITIES {
            for key in entity.key {
                let column = entity.column(key).expect("key column exists");
                assert!(
                    column.required,
                    "{}.{key} is a key but optional",
                    entity.name
                );
            }
        }
    }

    #[test]
    fn lookup_accepts_singular_and_dashes() {
        assert_eq!(entity("account").map(|e| e.name), Some("accounts"));
        assert_eq!(entity("usage-events").map(|e| e.name), Some("usage_events"));
        assert_eq!(entity("feedback").map(|e| e.name), Some("feedback"));
        assert_eq!(entity("user").map(|e| e.name), Some("users"));
        assert!(entity("nope").is_none());
    }

    #[test]
    fn users_load_after_accounts_and_contacts_and_before_usage() {
        let names = entity_names();
        let position = |name: &str| names.iter().position(|n| *n == name).unwrap();
        assert_eq!(position("users"), position("contacts") + 1);
        assert!(position("users") > position("accounts"));
        assert!(position("users") < position("usage_events"));
        assert_eq!(USERS.key, &["account_id", "user_id"]);
        assert_eq!(USERS.merge, MergeMode::Upsert);
        assert_eq!(USERS.history_table().as_deref(), Some("users_history"));
        assert_eq!(USERS.event_time, None);
        let account = USERS.column("account_id").unwrap();
        assert_eq!(
            account.references,
            Some(Reference {
                entity: "accounts",
                column: "account_id"
            })
        );
        let columns: Vec<&str> = USERS.columns.iter().map(|c| c.name).collect();
        assert_eq!(
            columns,
            [
                "account_id",
                "user_id",
                "email",
                "department",
                "title",
                "role",
                "created_on",
                "deactivated_on"
            ]
        );
        // Usage rows do not reference users: a product user id is not checked on ingest.
        assert_eq!(USAGE_EVENTS.column("user_id").unwrap().references, None);
    }
}
