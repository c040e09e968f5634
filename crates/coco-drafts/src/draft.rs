//! A draft: a template rendered over its facts, checked, and written out as Markdown,
//! HTML (every grounded number a hover and a footnote naming its source) or PPTX.

use std::collections::BTreeMap;

use coco_charts::{LineChart, LineSeries, Size};
use pulldown_cmark::{Event, Options, Parser};
use serde::Serialize;

use crate::DraftError;
use crate::deck::Deck;
use crate::document::{Chart, Locale};
use crate::facts::{Citation, Fact, FactValue, Facts};
use crate::grounding::{self, Grounding};
use crate::templates::Templates;

/// What a document type hands the template engine.
#[derive(Debug, Clone)]
pub struct DraftSpec {
    /// The template's name (`qbr`, `outreach_risk`), found under `<locale>/<name>.md`.
    pub template: String,
    pub locale: Locale,
    pub facts: Facts,
    pub charts: BTreeMap<String, Chart>,
    /// Layout variables that are not claims (which steps of a sequence to write), and
    /// empty defaults of sections the facts may lack.
    pub layout: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub template: String,
    pub locale: Locale,
    /// The first `# ` heading (an email's subject, a deck's title).
    pub title: String,
    pub markdown: String,
    pub facts: Facts,
    pub charts: BTreeMap<String, Chart>,
    pub grounding: Grounding,
}

/// One footnote: a fact a draft states, numbered in order of first mention.
#[derive(Debug, Clone, Serialize)]
pub struct Footnote {
    pub number: usize,
    pub key: String,
    pub value: String,
    pub cited: Citation,
}

/// Renders `spec` and checks it. A template draft that states a number its facts do not
/// hold is a defect of the template (or a user's override), so it is refused naming the
/// claim rather than shown.
pub fn compose(templates: &Templates, spec: DraftSpec) -> Result<Draft, DraftError> {
    // Layout first, facts over it: a layout may give a section an empty default
    // (`"alerts": []`) so templates can ask `{% if alerts %}` of an account without any.
    // The merge is deep, so `"migration": {"risks": []}` still holds when other
    // `migration.*` facts exist.
    let mut context = spec.layout.clone();
    merge(&mut context, spec.facts.context());
    let markdown = tidy(&templates.render(&spec.template, spec.locale, &context)?);
    let draft = Draft::new(
        spec.template,
        spec.locale,
        markdown,
        spec.facts,
        spec.charts,
    );
    if !draft.grounding.passed() {
        return Err(DraftError::Ungrounded {
            template: format!("{}/{}.md", draft.locale, draft.template),
            claims: draft.grounding.explain(),
        });
    }
    Ok(draft)
}

/// Lays `over` on `base`: objects merge key by key, anything else replaces.
fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(base), serde_json::Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

/// Collapses the blank lines conditional blocks leave behind.
fn tidy(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut blank = 0;
    for line in markdown.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

fn title_of(markdown: &str) -> String {
    markdown
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn fact_value(fact: &Fact) -> String {
    match &fact.value {
        FactValue::Number(n) => {
            crate::templates::format_number(*n, if n.fract() == 0.0 { 0 } else { 4 })
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        }
        FactValue::Date(d) => d.to_string(),
        FactValue::Text(t) => t.clone(),
    }
}

pub fn describe(cited: &Citation) -> String {
    let mut parts = vec![cited.source.clone()];
    if let Some(as_of) = cited.as_of {
        parts.push(format!("as of {as_of}"));
    }
    if let Some(record) = &cited.record {
        parts.push(record.clone());
    }
    parts.join(" · ")
}

/// `<!-- chart:NAME -->`, the line a template places a chart with.
fn is_chart_placeholder(raw: &str) -> bool {
    let raw = raw.trim();
    raw.starts_with("<!-- chart:") && raw.ends_with("-->") && raw.matches('<').count() == 1
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// Private-use characters mark a grounded claim through the Markdown conversion: they
// are plain text to pulldown-cmark, and templates never write them.
const OPEN: char = '\u{E000}';
const MID: char = '\u{E001}';
const CLOSE: char = '\u{E002}';

impl Draft {
    /// A draft of text that is already written (an LLM rewrite), checked against
    /// `facts`; the caller decides what a failed check means.
    pub fn new(
        template: String,
        locale: Locale,
        markdown: String,
        facts: Facts,
        charts: BTreeMap<String, Chart>,
    ) -> Draft {
        let grounding = grounding::check(&markdown, &facts);
        Draft {
            template,
            locale,
            title: title_of(&markdown),
            markdown,
            facts,
            charts,
            grounding,
        }
    }

    /// The facts the draft states, numbered by first mention.
    pub fn footnotes(&self) -> Vec<Footnote> {
        let mut notes: Vec<Footnote> = Vec::new();
        for claim in &self.grounding.claims {
            let Some(key) = &claim.fact else { continue };
            if notes.iter().any(|n| &n.key == key) {
                continue;
            }
            if let Some(fact) = self.facts.get(key) {
                notes.push(Footnote {
                    number: notes.len() + 1,
                    key: key.clone(),
                    value: fact_value(fact),
                    cited: fact.cited.clone(),
                });
            }
        }
        notes
    }

    /// Words as a reader counts them: Latin words, and one per two Chinese characters
    /// (a 200-word English email and a 400-character Chinese one are the same length).
    pub fn words(text: &str) -> usize {
        let cjk = text
            .chars()
            .filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c))
            .count();
        let latin = text
            .split(|c: char| c.is_whitespace() || ('\u{4E00}'..='\u{9FFF}').contains(&c))
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count();
        latin + cjk.div_ceil(2)
    }

    /// The body as HTML: each grounded claim a `<span class="fact">` whose hover names
    /// its source, with a footnote number; charts as inline SVG; the citations listed.
    pub fn html_fragment(&self) -> String {
        let notes = self.footnotes();
        let number_of = |key: &str| notes.iter().find(|n| n.key == key).map(|n| n.number);
        let mut marked = String::with_capacity(self.markdown.len() * 2);
        let mut from = 0;
        for claim in &self.grounding.claims {
            let Some(number) = claim.fact.as_deref().and_then(number_of) else {
                continue;
            };
            let end = claim.at + claim.text.len();
            marked.push_str(&self.markdown[from..claim.at]);
            marked.push(OPEN);
            marked.push_str(&number.to_string());
            marked.push(MID);
            marked.push_str(&claim.text);
            marked.push(CLOSE);
            marked.push_str(&number.to_string());
            marked.push(MID);
            from = end;
        }
        marked.push_str(&self.markdown[from..]);

        let mut html = String::new();
        let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
        // Raw HTML in the Markdown (a fact's value such as an account named `<script>`)
        // is shown as text; only a template's chart placeholders stay markup.
        let events = Parser::new_ext(&marked, options).map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) if !is_chart_placeholder(&raw) => {
                Event::Text(raw)
            }
            other => other,
        });
        pulldown_cmark::html::push_html(&mut html, events);
        let html = self.replace_markers(&html, &notes);
        let html = self.place_charts(&html);

        let mut out = html;
        if !notes.is_empty() {
            out.push_str("<ol class=\"citations\">\n");
            for note in &notes {
                out.push_str(&format!(
                    "<li id=\"cite-{}\"><code>{}</code> = {} — {}</li>\n",
                    note.number,
                    escape(&note.key),
                    escape(&note.value),
                    escape(&describe(&note.cited))
                ));
            }
            out.push_str("</ol>\n");
        }
        out
    }

    fn replace_markers(&self, html: &str, notes: &[Footnote]) -> String {
        let mut out = String::with_capacity(html.len() * 2);
        let mut rest = html;
        while let Some(at) = rest.find([OPEN, CLOSE]) {
            out.push_str(&rest[..at]);
            let opening = rest[at..].starts_with(OPEN);
            let after = &rest[at + OPEN.len_utf8()..];
            let Some(mid) = after.find(MID) else {
                rest = after;
                continue;
            };
            let number: usize = after[..mid].parse().unwrap_or(0);
            rest = &after[mid + MID.len_utf8()..];
            let Some(note) = notes.iter().find(|n| n.number == number) else {
                continue;
            };
            if opening {
                out.push_str(&format!(
                    "<span class=\"fact\" data-fact=\"{}\" title=\"{}\">",
                    escape(&note.key),
                    escape(&describe(&note.cited))
                ));
            } else {
                out.push_str(&format!(
                    "<sup class=\"cite\"><a href=\"#cite-{number}\">{number}</a></sup></span>"
                ));
            }
        }
        out.push_str(rest);
        out
    }

    fn place_charts(&self, html: &str) -> String {
        let mut out = html.to_string();
        for (name, chart) in &self.charts {
            let placeholder = format!("<!-- chart:{name} -->");
            if !out.contains(&placeholder) {
                continue;
            }
            let svg = LineChart {
                title: chart.title.clone(),
                x_labels: chart.labels.clone(),
                series: vec![LineSeries::new(
                    chart.title.clone(),
                    "series",
                    chart.values.iter().map(|v| Some(*v)).collect(),
                )],
                y_unit: chart.unit.clone(),
                size: Size::new(640, 220),
                ..LineChart::default()
            }
            .render();
            out = out.replace(
                &placeholder,
                &format!(
                    "<figure class=\"chart\">{svg}<figcaption>{}</figcaption></figure>",
                    escape(&chart.title)
                ),
            );
        }
        out
    }

    /// A standalone page, printable to PDF (a deck prints one slide per page).
    pub fn html(&self) -> String {
        let deck = self.template == "qbr" || self.template == "ebr";
        format!(
            "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\n{style}{deck_style}</style>\n</head>\n<body class=\"draft {template}\">\n{body}</body>\n</html>\n",
            lang = match self.locale {
                Locale::En => "en",
                Locale::Zh => "zh-CN",
            },
            title = escape(&self.title),
            style = STYLE,
            deck_style = if deck { DECK_STYLE } else { "" },
            template = escape(&self.template),
            body = self.html_fragment(),
        )
    }

    /// The draft as a deck: one slide per `## ` section, each slide's speaker notes
    /// citing the facts it states.
    pub fn deck(&self) -> Result<Deck, DraftError> {
        let mut deck = Deck::from_markdown(&self.markdown, &self.charts)?;
        for index in 0..deck.slides.len() {
            let text = deck.slide_text(index);
            let checked = grounding::check(&text, &self.facts);
            let mut notes: Vec<String> = Vec::new();
            for key in checked.claims.iter().filter_map(|c| c.fact.as_deref()) {
                let Some(fact) = self.facts.get(key) else {
                    continue;
                };
                let line = format!("{} = {} — {}", key, fact_value(fact), describe(&fact.cited));
                if !notes.contains(&line) {
                    notes.push(line);
                }
            }
            deck.slides[index].notes = notes;
        }
        Ok(deck)
    }

    pub fn pptx(&self) -> Result<Vec<u8>, DraftError> {
        crate::pptx::write(&self.deck()?)
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI','PingFang SC','Noto Sans CJK SC',sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1d2433}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d5dd;padding:.3rem .6rem;text-align:left}
.fact{border-bottom:1px dotted #667085;cursor:help}.cite a{text-decoration:none;font-size:.7em;color:#475467}
.citations{font-size:.8rem;color:#475467;border-top:1px solid #d0d5dd;margin-top:2rem;padding-top:.5rem}
figure.chart{margin:1rem 0}figure.chart svg{max-width:100%;height:auto}figcaption{font-size:.8rem;color:#475467}
.chart .series{stroke:#2e6bd6;fill:#2e6bd6}.chart line,.chart path{fill:none}.chart .grid{stroke:#eaecf0}
@media print{body{margin:0;max-width:none}.cite a{color:inherit}}
";

const DECK_STYLE: &str =
    "h2{break-before:page;border-bottom:2px solid #2e6bd6;padding-bottom:.2rem}
";

#[cfg(test)]
mod tests {
    use super::{is_chart_placeholder, merge};

    #[test]
    fn only_chart_placeholders_stay_markup() {
        assert!(is_chart_placeholder("<!-- chart:active_users -->\n"));
        assert!(!is_chart_placeholder("<script>alert(1)</script>"));
        assert!(!is_chart_placeholder("<!-- chart:x --><img src=x>"));
    }

    #[test]
    fn facts_merge_into_the_layout_defaults_key_by_key() {
        let mut layout =
            serde_json::json!({"migration": {"risks": [], "reasons": []}, "alerts": []});
        merge(
            &mut layout,
            serde_json::json!({"migration": {"direction": "upgrade", "reasons": ["arr"]}}),
        );
        assert_eq!(
            layout,
            serde_json::json!({
                "migration": {"risks": [], "reasons": ["arr"], "direction": "upgrade"},
                "alerts": [],
            })
        );
    }
}
