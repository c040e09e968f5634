//! The PPTX writer end to end: the package is complete and well-formed (every part
//! listed, every relationship resolving, every XML part parsing), the deck's text is in
//! it, escaped, and LibreOffice Impress opens it and prints one PDF page per slide.
//!
//! The LibreOffice tests need `soffice` on PATH (Debian: `libreoffice-impress`, which
//! `.ci/run` installs); without it they fail rather than skip, so a green run means the
//! deck really opened.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coco_drafts::deck::Deck;
use coco_drafts::document::Chart;
use coco_drafts::pptx::{self, PptxOptions};

fn charts() -> BTreeMap<String, Chart> {
    let mut charts = BTreeMap::new();
    charts.insert(
        "seats".to_string(),
        Chart {
            title: "Active seats".into(),
            unit: "users".into(),
            labels: vec!["Jan".into(), "Feb".into(), "Mar".into(), "Apr".into()],
            values: vec![40.0, 52.0, 61.5, 58.0],
        },
    );
    charts.insert(
        "nps".to_string(),
        Chart {
            title: "净推荐值".into(),
            unit: "分".into(),
            labels: vec!["一月".into(), "二月".into(), "三月".into()],
            values: vec![-12.0, 8.0, 31.0],
        },
    );
    charts
}

const QBR: &str = "# R&D <Q3> \"x\" review\n\nAcme Corp · 2026-Q3\n\n\
## Usage\n\nSeat use grew every month.\n\n\
- Active seats: **61** of 80\n  - up from *40* in January\n  - logins daily\n- Renewal on 2026-12-28\n\n\
### Trend\n\n<!-- chart:seats -->\n\n\
## Support\n\n| Priority | Open | Closed |\n|---|---:|---:|\n| P1 | 1 | 4 |\n| P2 & P3 | 3 | 9 |\n\n\
## Next steps\n\n1. Expand to the EU team\n2. Review <admin> roles\n";

const QBR_ZH: &str = "# 季度业务回顾\n\n第三季度 · 艾克美公司\n\n\
## 使用情况\n\n席位使用率逐月上升。\n\n- 活跃席位：**61** 个\n  - 一月为 40 个\n- 续约日期：2026-12-28\n\n\
## 客户满意度\n\n<!-- chart:nps -->\n\n| 指标 | 数值 |\n|---|---|\n| 健康分 | 82 |\n";

fn deck(markdown: &str) -> Deck {
    let mut deck = match Deck::from_markdown(markdown, &charts()) {
        Ok(deck) => deck,
        Err(e) => panic!("deck did not parse: {e}"),
    };
    for (i, slide) in deck.slides.iter_mut().enumerate() {
        slide.notes = vec![
            format!("seat_utilisation_30d, as of 2026-09-30 (slide {i})"),
            "contracts.arr <Acme> & co".to_string(),
        ];
    }
    deck
}

fn pptx_bytes(deck: &Deck) -> Vec<u8> {
    match pptx::write(deck) {
        Ok(bytes) => bytes,
        Err(e) => panic!("pptx::write failed: {e}"),
    }
}

/// The package's parts by name.
fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("the pptx is a zip");
    let mut parts = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("zip entry");
        let mut data = Vec::new();
        file.read_to_end(&mut data).expect("zip entry reads");
        let name = file.name().expect("entry name").to_string();
        assert!(
            parts.insert(name.clone(), data).is_none(),
            "{name} twice in the zip"
        );
    }
    parts
}

fn text(parts: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    let data = parts.get(name).unwrap_or_else(|| panic!("no part {name}"));
    String::from_utf8(data.clone()).unwrap_or_else(|_| panic!("{name} is not UTF-8"))
}

fn events(parts: &BTreeMap<String, Vec<u8>>, name: &str) -> Vec<xml::Event> {
    xml::parse(&text(parts, name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The slide parts in presentation order, from presentation.xml's slide list.
fn slide_names(parts: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let rels = relationships(parts, "ppt/presentation.xml");
    events(parts, "ppt/presentation.xml")
        .iter()
        .filter_map(|e| e.start("p:sldId"))
        .map(|attrs| {
            let id = xml::attr(attrs, "r:id").expect("sldId has r:id");
            rels.get(id)
                .cloned()
                .unwrap_or_else(|| panic!("slide {id} not in rels"))
        })
        .collect()
}

/// The text of a slide's `a:t` runs, one string per paragraph.
fn paragraphs(parts: &BTreeMap<String, Vec<u8>>, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_t = false;
    for event in events(parts, name) {
        match event {
            xml::Event::Start { name, .. } if name == "a:t" => in_t = true,
            xml::Event::End(name) if name == "a:t" => in_t = false,
            xml::Event::Start { name, .. } if name == "a:br" => current.push('\n'),
            xml::Event::End(name) if name == "a:p" => out.push(std::mem::take(&mut current)),
            xml::Event::Text(t) if in_t => current.push_str(&t),
            _ => {}
        }
    }
    out
}

fn slide_text(parts: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    paragraphs(parts, name).join("\n")
}

/// `rId` → target part name (resolved against the source part's folder) of one part's
/// relationships, `""` for the package's own; empty when it has none.
fn relationships(parts: &BTreeMap<String, Vec<u8>>, source: &str) -> BTreeMap<String, String> {
    let (folder, file) = source.rsplit_once('/').unwrap_or(("", source));
    let rels_name = match (folder, file) {
        ("", "") => "_rels/.rels".to_string(),
        ("", file) => format!("_rels/{file}.rels"),
        (folder, file) => format!("{folder}/_rels/{file}.rels"),
    };
    if !parts.contains_key(&rels_name) {
        return BTreeMap::new();
    }
    events(parts, &rels_name)
        .iter()
        .filter_map(|e| e.start("Relationship"))
        .filter(|attrs| xml::attr(attrs, "TargetMode") != Some("External"))
        .map(|attrs| {
            let id = xml::attr(attrs, "Id").expect("Relationship Id").to_string();
            let target = xml::attr(attrs, "Target").expect("Relationship Target");
            (id, resolve(folder, target))
        })
        .collect()
}

fn resolve(folder: &str, target: &str) -> String {
    let mut path: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        folder.split('/').filter(|s| !s.is_empty()).collect()
    };
    for segment in target.trim_start_matches('/').split('/') {
        match segment {
            ".." => {
                path.pop();
            }
            "." | "" => {}
            s => path.push(s),
        }
    }
    path.join("/")
}

#[test]
fn every_part_is_declared_related_and_well_formed() {
    let parts = unzip(&pptx_bytes(&deck(QBR)));

    // Every part parses as XML, with its namespace prefixes declared.
    for name in parts.keys() {
        assert!(
            name.ends_with(".xml") || name.ends_with(".rels"),
            "unexpected part {name}"
        );
        events(&parts, name);
    }

    // Every part has a content type, and every override names a part that exists.
    let types = events(&parts, "[Content_Types].xml");
    let defaults: BTreeSet<&str> = types
        .iter()
        .filter_map(|e| e.start("Default"))
        .filter_map(|a| xml::attr(a, "Extension"))
        .collect();
    let overrides: BTreeSet<String> = types
        .iter()
        .filter_map(|e| e.start("Override"))
        .filter_map(|a| xml::attr(a, "PartName"))
        .map(|p| p.trim_start_matches('/').to_string())
        .collect();
    for name in &overrides {
        assert!(
            parts.contains_key(name),
            "[Content_Types].xml lists {name}, not in the zip"
        );
    }
    for name in parts.keys().filter(|n| *n != "[Content_Types].xml") {
        let ext = name.rsplit('.').next().unwrap_or("");
        assert!(defaults.contains(ext), "no content type for {name}");
        if ext == "xml" {
            assert!(
                overrides.contains(name),
                "{name} has only the generic xml type"
            );
        }
    }

    // Every relationship of every part resolves to a part, and every r:id an XML part
    // uses is one of its relationships.
    let mut sources = vec!["".to_string()];
    sources.extend(parts.keys().filter(|n| n.ends_with(".xml")).cloned());
    for source in &sources {
        let rels = relationships(&parts, source);
        for (id, target) in &rels {
            assert!(
                parts.contains_key(target),
                "{source} {id} → {target}, not in the zip"
            );
        }
        if source.is_empty() {
            continue;
        }
        for event in events(&parts, source) {
            if let xml::Event::Start { attrs, .. } = event {
                for (key, value) in attrs {
                    if key == "r:id" || key == "r:embed" {
                        assert!(
                            rels.contains_key(&value),
                            "{source} uses {value}, not in its rels"
                        );
                    }
                }
            }
        }
    }

    // The root relationships name the presentation and both property parts.
    let root = relationships(&parts, "");
    let targets: BTreeSet<&str> = root.values().map(String::as_str).collect();
    assert_eq!(
        targets,
        BTreeSet::from([
            "ppt/presentation.xml",
            "docProps/core.xml",
            "docProps/app.xml"
        ])
    );

    // 16:9.
    let presentation = events(&parts, "ppt/presentation.xml");
    let size = presentation
        .iter()
        .find_map(|e| e.start("p:sldSz"))
        .expect("sldSz");
    assert_eq!(xml::attr(size, "cx"), Some("12192000"));
    assert_eq!(xml::attr(size, "cy"), Some("6858000"));
}

#[test]
fn one_title_slide_then_one_slide_per_deck_slide() {
    let deck = deck(QBR);
    let parts = unzip(&pptx_bytes(&deck));
    let slides = slide_names(&parts);
    assert_eq!(slides.len(), 1 + deck.slides.len());
    assert_eq!(slides[0], "ppt/slides/slide1.xml");
    assert!(
        text(&parts, "docProps/app.xml").contains(&format!("<Slides>{}</Slides>", slides.len()))
    );

    let title = paragraphs(&parts, &slides[0]);
    assert_eq!(title, ["R&D <Q3> \"x\" review", "Acme Corp · 2026-Q3"]);
    let titles: Vec<String> = slides[1..]
        .iter()
        .map(|s| paragraphs(&parts, s)[0].clone())
        .collect();
    assert_eq!(titles, ["Usage", "Support", "Next steps"]);
}

#[test]
fn bullets_tables_and_charts_are_on_their_slides() {
    let parts = unzip(&pptx_bytes(&deck(QBR)));
    let slides = slide_names(&parts);

    let usage = paragraphs(&parts, &slides[1]);
    for line in [
        "Seat use grew every month.",
        "Active seats: 61 of 80",
        "up from 40 in January",
        "Renewal on 2026-12-28",
        "Trend",
        "Active seats (users)",
        "Jan",
        "61.5",
    ] {
        assert!(
            usage.iter().any(|p| p == line),
            "`{line}` not on the usage slide: {usage:?}"
        );
    }
    let usage_xml = text(&parts, &slides[1]);
    // Nested bullets are indented further than their parents, each with a bullet char.
    assert!(
        usage_xml.contains(r#"<a:pPr marL="320040""#),
        "level 0 margin"
    );
    assert!(
        usage_xml.contains(r#"<a:pPr marL="685800""#),
        "level 1 margin"
    );
    assert_eq!(usage_xml.matches("<a:buChar").count(), 4);
    // The chart: one bar per value, the tallest for the largest value.
    assert_eq!(usage_xml.matches(r#"name="Bar "#).count(), 4);

    let support_xml = text(&parts, &slides[2]);
    assert!(support_xml.contains("<a:tbl>"));
    assert_eq!(support_xml.matches("<a:tr ").count(), 3);
    assert_eq!(support_xml.matches("<a:gridCol ").count(), 3);
    let support = slide_text(&parts, &slides[2]);
    for cell in ["Priority", "Open", "Closed", "P1", "P2 & P3", "9"] {
        assert!(
            support.lines().any(|l| l == cell),
            "`{cell}` not in the table: {support}"
        );
    }

    let next = slide_text(&parts, &slides[3]);
    assert!(next.contains("1. Expand to the EU team"));
    assert!(next.contains("2. Review <admin> roles"));
}

#[test]
fn text_is_escaped_and_illegal_characters_dropped() {
    let mut deck = deck(QBR);
    deck.slides[0].title = "Usage\u{0}\u{b} & <growth>\u{FFFF}".into();
    let parts = unzip(&pptx_bytes(&deck));
    let slides = slide_names(&parts);
    let title_xml = text(&parts, &slides[0]);
    assert!(title_xml.contains("<a:t>R&amp;D &lt;Q3&gt; &quot;x&quot; review</a:t>"));
    assert!(
        text(&parts, "docProps/core.xml")
            .contains("<dc:title>R&amp;D &lt;Q3&gt; &quot;x&quot; review</dc:title>")
    );
    assert_eq!(paragraphs(&parts, &slides[1])[0], "Usage & <growth>");
    let support = text(&parts, &slides[2]);
    assert!(support.contains("<a:t>P2 &amp; P3</a:t>"));
}

#[test]
fn speaker_notes_carry_the_slide_citations() {
    let mut deck = deck(QBR);
    deck.slides[2].notes.clear();
    let parts = unzip(&pptx_bytes(&deck));
    let slides = slide_names(&parts);
    assert!(parts.contains_key("ppt/notesMasters/notesMaster1.xml"));

    // The title slide has no facts; the "Next steps" slide had its notes cleared.
    let notes_of = |slide: &str| {
        relationships(&parts, slide)
            .into_values()
            .find(|t| t.starts_with("ppt/notesSlides/"))
    };
    assert_eq!(notes_of(&slides[0]), None);
    assert_eq!(notes_of(&slides[3]), None);
    let notes = notes_of(&slides[1]).expect("the usage slide has notes");
    assert_eq!(
        paragraphs(&parts, &notes),
        [
            "seat_utilisation_30d, as of 2026-09-30 (slide 0)",
            "contracts.arr <Acme> & co"
        ]
    );
    // The notes slide points back at its slide and at the notes master.
    let back: BTreeSet<String> = relationships(&parts, &notes).into_values().collect();
    assert!(back.contains(&slides[1]));
    assert!(back.contains("ppt/notesMasters/notesMaster1.xml"));
}

#[test]
fn a_slide_too_long_for_one_page_continues() {
    let items: String = (1..=30)
        .map(|i| format!("- Risk {i}: the account's champion changed roles this month\n"))
        .collect();
    let deck = deck(&format!(
        "# Deck\n\n## Risks\n\n{items}\n## Close\n\nDone.\n"
    ));
    let parts = unzip(&pptx_bytes(&deck));
    let slides = slide_names(&parts);
    assert!(slides.len() > 3, "{} slides", slides.len());
    let titles: Vec<String> = slides
        .iter()
        .map(|s| paragraphs(&parts, s)[0].clone())
        .collect();
    assert_eq!(titles[1], "Risks");
    assert!(
        titles[2..titles.len() - 1]
            .iter()
            .all(|t| t == "Risks (cont.)"),
        "{titles:?}"
    );
    assert_eq!(titles.last().map(String::as_str), Some("Close"));
    // Every item is on exactly one slide, in order.
    let all: Vec<String> = slides[1..slides.len() - 1]
        .iter()
        .flat_map(|s| paragraphs(&parts, s).into_iter().skip(1))
        .collect();
    let expected: Vec<String> = (1..=30)
        .map(|i| format!("Risk {i}: the account's champion changed roles this month"))
        .collect();
    assert_eq!(all, expected);
    // Continuations carry the slide's notes too.
    for slide in &slides[1..slides.len() - 1] {
        assert!(
            relationships(&parts, slide)
                .values()
                .any(|t| t.contains("notesSlide"))
        );
    }
}

#[test]
fn output_is_deterministic_with_fixed_dates() {
    let deck = deck(QBR);
    let first = pptx_bytes(&deck);
    assert_eq!(first, pptx_bytes(&deck));
    let parts = unzip(&first);
    assert!(text(&parts, "docProps/core.xml").contains(">1980-01-01T00:00:00Z</dcterms:created>"));

    let created =
        chrono::NaiveDate::from_ymd_opt(2026, 10, 2).and_then(|d| d.and_hms_opt(9, 30, 0));
    let options = PptxOptions { created };
    let dated = pptx::write_with(&deck, &options).expect("write_with");
    assert_eq!(
        dated,
        pptx::write_with(&deck, &options).expect("write_with")
    );
    let parts = unzip(&dated);
    assert!(text(&parts, "docProps/core.xml").contains(">2026-10-02T09:30:00Z</dcterms:created>"));
    let mut archive = zip::ZipArchive::new(Cursor::new(&dated)).expect("zip");
    let entry = archive.by_index(0).expect("entry");
    let modified = entry.last_modified().expect("entry time");
    assert_eq!(
        (modified.year(), modified.month(), modified.day()),
        (2026, 10, 2)
    );
}

#[test]
fn chinese_text_and_a_negative_chart_value() {
    let parts = unzip(&pptx_bytes(&deck(QBR_ZH)));
    let slides = slide_names(&parts);
    assert_eq!(
        paragraphs(&parts, &slides[0]),
        ["季度业务回顾", "第三季度 · 艾克美公司"]
    );
    let usage = paragraphs(&parts, &slides[1]);
    assert!(usage.iter().any(|p| p == "活跃席位：61 个"));
    assert!(text(&parts, &slides[1]).contains(r#"lang="zh-CN""#));
    let satisfaction = paragraphs(&parts, &slides[2]);
    for line in ["净推荐值（分）", "一月", "-12", "31", "健康分", "82"] {
        assert!(
            satisfaction.iter().any(|p| p == line),
            "`{line}` missing: {satisfaction:?}"
        );
    }
}

// ---------------------------------------------------------------------------------
// LibreOffice: the deck opens and prints one page per slide.
// ---------------------------------------------------------------------------------

const SOFFICE_TIMEOUT: Duration = Duration::from_secs(120);

fn soffice() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("soffice"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`soffice` is not on PATH: install LibreOffice Impress (Debian: \
                 `apt-get install libreoffice-impress`, as .ci/run does) — this test \
                 converts a PPTX deck to PDF with it"
            )
        })
}

/// Converts `pptx` with a private LibreOffice profile (parallel tests must not share
/// one: the second instance would hand its work to the first and exit) and returns
/// the PDF's bytes.
fn convert_to_pdf(pptx: &[u8], stem: &str) -> Vec<u8> {
    let soffice = soffice();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join(format!("{stem}.pptx"));
    std::fs::write(&input, pptx).expect("write pptx");
    let log = |name: &str| std::fs::File::create(dir.path().join(name)).expect("log file");
    let started = Instant::now();
    let mut command = Command::new(&soffice);
    command
        .arg(format!(
            "-env:UserInstallation=file://{}/lo-profile",
            dir.path().display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&input)
        .stdin(Stdio::null())
        .stdout(log("stdout.log"))
        .stderr(log("stderr.log"));
    // Its own process group, so a hung conversion can be ended with its helpers.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", soffice.display()));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for soffice") {
            break status;
        }
        if started.elapsed() > SOFFICE_TIMEOUT {
            let _ = Command::new("kill")
                .arg("--")
                .arg(format!("-{}", child.id()))
                .status();
            let _ = child.wait();
            panic!("soffice did not convert {stem}.pptx within {SOFFICE_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read_log = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    let output = dir.path().join(format!("{stem}.pdf"));
    assert!(
        status.success() && output.is_file(),
        "soffice failed ({status}) for {stem}.pptx\nstdout: {}\nstderr: {}",
        read_log("stdout.log"),
        read_log("stderr.log")
    );
    eprintln!("soffice converted {stem}.pptx in {:.1?}", started.elapsed());
    std::fs::read(&output).expect("read pdf")
}

/// Page objects in a PDF: `/Type /Page` (any spacing), not `/Type /Pages`.
fn pdf_pages(pdf: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while let Some(at) = find(&pdf[i..], b"/Type") {
        let mut j = i + at + b"/Type".len();
        while pdf.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
        if pdf[j..].starts_with(b"/Page")
            && !pdf.get(j + 5).is_some_and(|b| b.is_ascii_alphanumeric())
        {
            count += 1;
        }
        i = j;
    }
    count
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn assert_pdf_of(deck: &Deck, stem: &str) {
    let bytes = pptx_bytes(deck);
    let slides = slide_names(&unzip(&bytes)).len();
    let pdf = convert_to_pdf(&bytes, stem);
    assert!(pdf.starts_with(b"%PDF"), "{stem}.pdf is not a PDF");
    assert_eq!(pdf_pages(&pdf), slides, "{stem}.pdf pages vs slides");
}

#[test]
fn libreoffice_prints_the_deck_one_page_per_slide() {
    let mut deck = deck(QBR);
    // With a continuation, so the page count checks pagination too.
    let items = (1..=24)
        .map(|i| format!("- Item {i} of a long list\n"))
        .collect::<String>();
    let long = Deck::from_markdown(&format!("# L\n\n## Long\n\n{items}"), &charts()).expect("deck");
    deck.slides.extend(long.slides);
    assert_pdf_of(&deck, "qbr");
}

#[test]
fn libreoffice_prints_a_chinese_deck_with_a_chart() {
    assert_pdf_of(&deck(QBR_ZH), "qbr-zh");
}

#[test]
fn pdf_page_count_skips_the_page_tree() {
    let pdf = b"%PDF-1.7\n1 0 obj <</Type /Pages /Kids [2 0 R 3 0 R]>>\n2 0 obj <</Type/Page>>\n3 0 obj <</Type /Page /Parent 1 0 R>>";
    assert_eq!(pdf_pages(pdf), 2);
}

#[test]
fn the_xml_check_rejects_what_is_not_well_formed() {
    for bad in [
        "<a><b></a></b>",
        "<a>x & y</a>",
        "<a x=\"1\" x=\"2\"/>",
        "<a x=1/>",
        "<a/><b/>",
        "<p:a/>",
        "<a>\u{1}</a>",
        "<a x=\"<\"/>",
        "<a>",
    ] {
        assert!(xml::parse(bad).is_err(), "accepted {bad:?}");
    }
    let ok = xml::parse(
        "<?xml version=\"1.0\"?>\n<p:a xmlns:p=\"u\" k='v'><!-- c --><b>&amp;&#38;&#x26;</b></p:a>",
    );
    assert!(ok.is_ok(), "{ok:?}");
}

/// A small XML 1.0 well-formedness check (tags nest and match, one root, attributes
/// quoted and unique, entity references valid, characters legal, namespace prefixes
/// declared) that also yields the events the tests read. Enough for parts we write
/// ourselves; not a general parser (no DTDs).
mod xml {
    use std::collections::BTreeSet;

    #[derive(Debug, Clone, PartialEq)]
    pub enum Event {
        Start {
            name: String,
            attrs: Vec<(String, String)>,
        },
        End(String),
        Text(String),
    }

    impl Event {
        pub fn start(&self, wanted: &str) -> Option<&[(String, String)]> {
            match self {
                Event::Start { name, attrs } if name == wanted => Some(attrs),
                _ => None,
            }
        }
    }

    pub fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
        attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn legal(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    }

    fn name_char(c: char) -> bool {
        c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.') || !c.is_ascii()
    }

    fn unescape(s: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let end = rest[at..]
                .find(';')
                .ok_or_else(|| format!("unterminated `&` in {s:?}"))?;
            let entity = &rest[at + 1..at + end];
            let c = match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad reference &{e};"))?,
                e if e.starts_with('#') => e[1..]
                    .parse::<u32>()
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad reference &{e};"))?,
                e => return Err(format!("unknown entity &{e};")),
            };
            if !legal(c) {
                return Err(format!("reference to illegal character &{entity};"));
            }
            out.push(c);
            rest = &rest[at + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn prefix(name: &str) -> Option<&str> {
        name.split_once(':').map(|(p, _)| p)
    }

    pub fn parse(xml: &str) -> Result<Vec<Event>, String> {
        if let Some(c) = xml.chars().find(|c| !legal(*c)) {
            return Err(format!("illegal character U+{:04X}", c as u32));
        }
        let mut events = Vec::new();
        let mut stack: Vec<(String, Vec<String>)> = Vec::new();
        let mut declared: Vec<String> = vec!["xml".into()];
        let mut roots = 0;
        let mut rest = xml;
        if rest.starts_with("<?xml") {
            let end = rest.find("?>").ok_or("unterminated XML declaration")?;
            rest = &rest[end + 2..];
        }
        while !rest.is_empty() {
            if let Some(body) = rest.strip_prefix("<!--") {
                let end = body.find("-->").ok_or("unterminated comment")?;
                rest = &body[end + 3..];
            } else if let Some(body) = rest.strip_prefix("<![CDATA[") {
                if stack.is_empty() {
                    return Err("CDATA outside the root".into());
                }
                let end = body.find("]]>").ok_or("unterminated CDATA")?;
                events.push(Event::Text(body[..end].to_string()));
                rest = &body[end + 3..];
            } else if rest.starts_with("<!") {
                return Err("DTDs are not expected in OOXML parts".into());
            } else if let Some(body) = rest.strip_prefix("<?") {
                let end = body
                    .find("?>")
                    .ok_or("unterminated processing instruction")?;
                rest = &body[end + 2..];
            } else if let Some(body) = rest.strip_prefix("</") {
                let end = body.find('>').ok_or("unterminated end tag")?;
                let name = body[..end].trim_end();
                let (open, added) = stack
                    .pop()
                    .ok_or_else(|| format!("</{name}> closes nothing"))?;
                if open != name {
                    return Err(format!("</{name}> closes <{open}>"));
                }
                declared.truncate(declared.len() - added.len());
                events.push(Event::End(name.to_string()));
                rest = &body[end + 1..];
            } else if let Some(body) = rest.strip_prefix('<') {
                if stack.is_empty() {
                    roots += 1;
                    if roots > 1 {
                        return Err("more than one root element".into());
                    }
                }
                let name_len = body.find(|c: char| !name_char(c)).unwrap_or(body.len());
                let name = &body[..name_len];
                if name.is_empty() {
                    return Err("`<` without a tag name".into());
                }
                let mut tail = &body[name_len..];
                if !tail.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
                    return Err(format!("bad character after <{name}"));
                }
                let mut attrs: Vec<(String, String)> = Vec::new();
                let empty = loop {
                    tail = tail.trim_start();
                    if let Some(t) = tail.strip_prefix("/>") {
                        tail = t;
                        break true;
                    }
                    if let Some(t) = tail.strip_prefix('>') {
                        tail = t;
                        break false;
                    }
                    let key_len = tail.find(|c: char| !name_char(c)).unwrap_or(tail.len());
                    if key_len == 0 {
                        return Err(format!("bad attribute in <{name}>"));
                    }
                    let key = &tail[..key_len];
                    let after = tail[key_len..].trim_start();
                    let after = after
                        .strip_prefix('=')
                        .ok_or_else(|| format!("{key} without ="))?
                        .trim_start();
                    let quote = after.chars().next().filter(|q| *q == '"' || *q == '\'');
                    let quote = quote.ok_or_else(|| format!("{key}'s value is not quoted"))?;
                    let value_end = after[1..]
                        .find(quote)
                        .ok_or_else(|| format!("{key}'s value is not closed"))?;
                    let raw = &after[1..1 + value_end];
                    if raw.contains('<') {
                        return Err(format!("`<` in {key}'s value"));
                    }
                    if attrs.iter().any(|(k, _)| k == key) {
                        return Err(format!("{key} twice in <{name}>"));
                    }
                    attrs.push((key.to_string(), unescape(raw)?));
                    tail = &after[1 + value_end + 1..];
                    if !tail.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
                        return Err(format!("attributes of <{name}> not separated"));
                    }
                };
                let added: Vec<String> = attrs
                    .iter()
                    .filter_map(|(k, _)| k.strip_prefix("xmlns:").map(str::to_string))
                    .collect();
                declared.extend(added.iter().cloned());
                let scope: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
                for used in std::iter::once(name).chain(attrs.iter().map(|(k, _)| k.as_str())) {
                    if let Some(p) = prefix(used)
                        && p != "xmlns"
                        && !scope.contains(p)
                    {
                        return Err(format!("prefix `{p}` of {used} is not declared"));
                    }
                }
                events.push(Event::Start {
                    name: name.to_string(),
                    attrs,
                });
                if empty {
                    declared.truncate(declared.len() - added.len());
                    events.push(Event::End(name.to_string()));
                } else {
                    stack.push((name.to_string(), added));
                }
                rest = tail;
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                let raw = &rest[..end];
                if stack.is_empty() {
                    if !raw.trim().is_empty() {
                        return Err(format!("text outside the root: {raw:?}"));
                    }
                } else {
                    if raw.contains("]]>") {
                        return Err("`]]>` in text".into());
                    }
                    events.push(Event::Text(unescape(raw)?));
                }
                rest = &rest[end..];
            }
        }
        if let Some((open, _)) = stack.last() {
            return Err(format!("<{open}> is not closed"));
        }
        if roots == 0 {
            return Err("no root element".into());
        }
        Ok(events)
    }
}
