//! Making caller text safe to put into SVG markup.
//!
//! Everything a caller hands us (titles, labels, series names, tooltips, classes, links)
//! can come from customer data, so it is never written raw: text and attribute values go
//! through [`escape`], class names through [`sanitize_class`], links through [`safe_href`].

use std::fmt;

/// Escapes `text` for use as XML text content or inside a double- or single-quoted
/// attribute value: `&`, `<`, `>`, `"` and `'` become entities.
///
/// Characters that XML 1.0 forbids outright (control characters other than tab, line feed
/// and carriage return, and U+FFFE/U+FFFF) are replaced by U+FFFD: no escape can make them
/// legal, and a standalone SVG containing one would not load at all.
///
/// ```
/// assert_eq!(
///     coco_charts::escape(r#"<script>alert("x") & 'y'</script>"#),
///     "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
/// );
/// ```
pub fn escape(text: &str) -> String {
    Escaped(text).to_string()
}

/// [`escape`] as a `Display` adapter, so the renderers can escape straight into their output
/// buffer without an intermediate `String` per label.
#[derive(Clone, Copy)]
pub(crate) struct Escaped<'a>(pub(crate) &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Write runs of harmless characters in one go; only the few special ones are replaced.
        let text = self.0;
        let mut run_start = 0;
        for (index, ch) in text.char_indices() {
            let replacement = match ch {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                c if !is_xml_char(c) => "\u{FFFD}",
                _ => continue,
            };
            f.write_str(&text[run_start..index])?;
            f.write_str(replacement)?;
            run_start = index + ch.len_utf8();
        }
        f.write_str(&text[run_start..])
    }
}

/// Whether XML 1.0 allows `ch` in a document at all (the `Char` production).
fn is_xml_char(ch: char) -> bool {
    matches!(ch, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Reduces a caller-supplied CSS class list to the characters `[A-Za-z0-9_-]` and single
/// spaces between names, so it can neither break out of the `class` attribute nor smuggle
/// in anything but class names. Other characters are dropped; empty names disappear.
///
/// ```
/// assert_eq!(coco_charts::sanitize_class(" bar  green "), "bar green");
/// assert_eq!(coco_charts::sanitize_class(r#"red" onload="x"#), "red onloadx");
/// ```
pub fn sanitize_class(class: &str) -> String {
    class
        .split_ascii_whitespace()
        .map(|name| {
            name.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Joins a fixed structural class (e.g. `bar`) with a sanitised caller class (e.g. `green`).
pub(crate) fn class_list(structural: &str, caller: &str) -> String {
    let caller = sanitize_class(caller);
    if caller.is_empty() {
        structural.to_string()
    } else {
        format!("{structural} {caller}")
    }
}

/// Returns the link target if it is safe to put in an `href`: a relative reference
/// (`/accounts?health=red`, `?sort=arr`, `#top`) or an absolute `http`, `https` or `mailto`
/// URL. Anything else — `javascript:`, `data:`, `vbscript:` and every other scheme — is
/// refused (`None`), because escaping stops attribute break-out but not a script URL.
/// The result still needs [`escape`] when written.
pub(crate) fn safe_href(href: &str) -> Option<&str> {
    // Browsers ignore surrounding whitespace and strip tabs/newlines inside the scheme,
    // so judge the scheme on the same text a browser would see.
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let scheme_end = href.find([':', '/', '?', '#']);
    match scheme_end {
        Some(end) if href[end..].starts_with(':') => {
            let scheme: String = href[..end]
                .chars()
                .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto").then_some(href)
        }
        // No scheme: a relative reference, resolved against the page.
        _ => Some(href),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_xml_specials() {
        assert_eq!(escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape("plain ünïcødé"), "plain ünïcødé");
    }

    #[test]
    fn replaces_characters_xml_forbids() {
        assert_eq!(
            escape("a\u{0}b\u{1b}c\u{FFFF}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        assert_eq!(escape("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
    }

    #[test]
    fn class_sanitising_keeps_only_class_characters() {
        assert_eq!(sanitize_class("series-0 health_a"), "series-0 health_a");
        assert_eq!(sanitize_class("<script>"), "script");
        assert_eq!(sanitize_class("\" onload=\"x"), "onloadx");
        assert_eq!(sanitize_class("  "), "");
        assert_eq!(sanitize_class("a \"\" b"), "a b");
        assert_eq!(sanitize_class("grün"), "grn");
        assert_eq!(class_list("bar", ""), "bar");
        assert_eq!(class_list("bar", "red"), "bar red");
    }

    #[test]
    fn href_allows_relative_and_web_links_only() {
        assert_eq!(
            safe_href("/accounts?health=red"),
            Some("/accounts?health=red")
        );
        assert_eq!(
            safe_href("?color=red&sort=arr"),
            Some("?color=red&sort=arr")
        );
        assert_eq!(safe_href("#top"), Some("#top"));
        assert_eq!(
            safe_href(" https://example.com/a:b "),
            Some("https://example.com/a:b")
        );
        assert_eq!(
            safe_href("mailto:cs@example.com"),
            Some("mailto:cs@example.com")
        );
        assert_eq!(safe_href("accounts/a:b"), Some("accounts/a:b"));
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href(" JavaScript:alert(1)"), None);
        assert_eq!(safe_href("java\tscript:alert(1)"), None);
        assert_eq!(safe_href("data:text/html,<script>"), None);
        assert_eq!(safe_href(""), None);
    }
}
