//! Accessibility checks with axe-core (vendored, see `assets/README.md`).
//!
//! The page's CSP forbids inline script, but WebDriver "execute script" is not subject to the
//! page's CSP, so axe is injected that way and never served by the application.

use fantoccini::Client;
use serde_json::Value;

/// axe-core, unmodified from the npm package (version in the file name).
pub const AXE_SOURCE: &str = include_str!("assets/axe-core-4.14.1.min.js");

/// The rule sets JIS X 8341-3:2016 level AA maps to (= WCAG 2.0 A + AA).
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] },
    resultTypes: ['violations'],
}).then(function (results) {
    done({
        ok: true,
        url: results.url,
        violations: results.violations.map(function (v) {
            return {
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map(function (n) {
                    return {
                        target: JSON.stringify(n.target),
                        html: n.html,
                        summary: n.failureSummary,
                    };
                }),
            };
        }),
    });
}).catch(function (e) {
    done({ ok: false, error: String(e && e.stack || e) });
});
"#;

/// One axe rule violation, flattened for the failure message.
#[derive(Debug)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub help_url: String,
    pub nodes: Vec<(String, String, String)>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "- [{}] {}: {} ({})",
            self.impact, self.id, self.help, self.help_url
        )?;
        for (target, html, summary) in &self.nodes {
            writeln!(f, "    target {target}")?;
            writeln!(f, "      html: {}", truncate(html, 300))?;
            for line in summary.lines() {
                writeln!(f, "      {line}")?;
            }
        }
        Ok(())
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Injects axe-core into the current page (once) and runs the WCAG 2.0 A/AA rules on it.
pub async fn axe_violations(client: &Client) -> Vec<Violation> {
    let loaded = client
        .execute(
            "return typeof window.axe === 'object' && typeof window.axe.run === 'function'",
            vec![],
        )
        .await
        .expect("check whether axe-core is loaded");
    if loaded != Value::Bool(true) {
        client
            .execute(AXE_SOURCE, vec![])
            .await
            .expect("inject axe-core into the page");
    }
    let result = client
        .execute_async(AXE_RUN, vec![])
        .await
        .expect("run axe-core");
    if result.get("ok") != Some(&Value::Bool(true)) {
        panic!("axe.run failed: {}", text(&result, "error"));
    }
    result
        .get("violations")
        .and_then(Value::as_array)
        .expect("axe result has a violations array")
        .iter()
        .map(|v| Violation {
            id: text(v, "id"),
            impact: text(v, "impact"),
            help: text(v, "help"),
            help_url: text(v, "helpUrl"),
            nodes: v
                .get("nodes")
                .and_then(Value::as_array)
                .map(|nodes| {
                    nodes
                        .iter()
                        .map(|n| (text(n, "target"), text(n, "html"), text(n, "summary")))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// Fails the test, listing every violation, unless axe finds none on the current page.
pub async fn assert_axe_clean(client: &Client, page: &str) {
    let violations = axe_violations(client).await;
    if !violations.is_empty() {
        let list: String = violations.iter().map(ToString::to_string).collect();
        panic!(
            "{page}: axe-core {} found {} WCAG 2.0 A/AA violation(s):\n{list}",
            axe_version(),
            violations.len()
        );
    }
}

/// The vendored axe-core version, read from the file's banner.
pub fn axe_version() -> &'static str {
    AXE_SOURCE
        .strip_prefix("/*! axe v")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("(unknown version)")
}
