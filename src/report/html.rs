//! The HTML report: the Markdown report's content (`markdown::document`) as
//! one self-contained, printable file with inline CSS and an inline SVG chart
//! of granted versus used actions per kind. No JavaScript and no external
//! resources: the file opens offline and makes no network request. Every
//! string from the inputs goes through [`escape`].

use super::markdown::{document, split_ticks, Block, Inline, KindSummary, Line};
use crate::audit::Audit;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg2: #f6f8fa;
  --granted: #8c959f; --used: #1f6feb; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); max-width: 1100px; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.8rem; border-bottom: 2px solid var(--fg); padding-bottom: .3rem; }
h2 { font-size: 1.35rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
h4 { font-size: .95rem; margin: 1rem 0 .4rem; color: var(--muted); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .86em; }
code { background: var(--bg2); padding: .05em .3em; border-radius: 4px; overflow-wrap: anywhere; }
pre { background: var(--bg2); border: 1px solid var(--line); padding: .7rem; border-radius: 6px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; width: 100%; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--bg2); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
ul { padding-left: 1.4rem; }
.sev { display: inline-block; font-weight: 700; font-size: .78em; text-transform: uppercase;
  padding: .1em .45em; border-radius: 4px; color: #fff; letter-spacing: .03em; }
.sev-critical { background: #8b0000; } .sev-high { background: #cf222e; }
.sev-medium { background: #9a6700; } .sev-low { background: #0969da; } .sev-info { background: #57606a; }
figure { margin: 1rem 0; } figcaption { color: var(--muted); font-size: .85rem; }
svg text { font-family: inherit; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  h2 { break-before: auto; } h2, h3, h4 { break-after: avoid; }
  tr, pre, figure, li { break-inside: avoid; }
  .sev { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

fn ticked(s: &str) -> String {
    split_ticks(s)
        .into_iter()
        .map(|(is_code, part)| {
            if is_code {
                format!("<code>{}</code>", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

fn line(l: &Line) -> String {
    let mut out = String::new();
    for i in l {
        match i {
            Inline::Text(s) => out.push_str(&escape(s)),
            Inline::Code(s) => out.push_str(&format!("<code>{}</code>", escape(s))),
            Inline::Strong(s) => out.push_str(&format!("<strong>{}</strong>", escape(s))),
            Inline::Ticked(s) => out.push_str(&ticked(s)),
            Inline::Severity(s) => out.push_str(&format!(
                "<span class=\"sev sev-{0}\">{0}</span>",
                s.as_str()
            )),
            Inline::Action(a) => match super::links::action_url(a) {
                Some(url) => out.push_str(&format!(
                    "<a href=\"{}\"><code>{}</code></a>",
                    escape(&url),
                    escape(a)
                )),
                None => out.push_str(&format!("<code>{}</code>", escape(a))),
            },
            Inline::Link(t, url) => {
                out.push_str(&format!("<a href=\"{}\">{}</a>", escape(url), escape(t)))
            }
        }
    }
    out
}

/// Bar length on a log scale, so 20 used actions still show next to 40,000 granted.
fn bar(n: usize, max: usize, width: f64) -> f64 {
    if n == 0 || max == 0 {
        return 0.0;
    }
    let v = ((n as f64) + 1.0).log10() / ((max as f64) + 1.0).log10();
    (v * width).max(2.0)
}

/// The granted vs used chart per kind, as inline SVG.
fn chart(sums: &[KindSummary]) -> String {
    let max = sums
        .iter()
        .map(|k| k.granted.max(k.used))
        .max()
        .unwrap_or(0);
    let (label_w, bar_w, row_h) = (90.0, 560.0, 56.0);
    let height = 30.0 + row_h * sums.len() as f64;
    let mut s = format!(
        "<figure><svg role=\"img\" width=\"760\" height=\"{height}\" viewBox=\"0 0 760 {height}\" aria-label=\"Granted and used actions per kind\">\n"
    );
    s.push_str("<rect x=\"90\" y=\"4\" width=\"12\" height=\"12\" fill=\"#8c959f\"/><text x=\"108\" y=\"15\" font-size=\"12\">granted</text>");
    s.push_str("<rect x=\"180\" y=\"4\" width=\"12\" height=\"12\" fill=\"#1f6feb\"/><text x=\"198\" y=\"15\" font-size=\"12\">used</text>\n");
    for (i, k) in sums.iter().enumerate() {
        let y = 28.0 + row_h * i as f64;
        let g = bar(k.granted, max, bar_w);
        let u = bar(k.used, max, bar_w);
        s.push_str(&format!(
            "<text x=\"0\" y=\"{:.0}\" font-size=\"13\" font-weight=\"600\">{}</text><text x=\"0\" y=\"{:.0}\" font-size=\"11\" fill=\"#57606a\">{} principal(s)</text>\n",
            y + 18.0,
            k.kind.as_str(),
            y + 33.0,
            k.principals
        ));
        s.push_str(&format!(
            "<rect x=\"{label_w}\" y=\"{y:.0}\" width=\"{g:.1}\" height=\"20\" fill=\"#8c959f\"/><text x=\"{:.1}\" y=\"{:.0}\" font-size=\"12\">{} granted</text>\n",
            label_w + g + 6.0,
            y + 15.0,
            k.granted
        ));
        s.push_str(&format!(
            "<rect x=\"{label_w}\" y=\"{:.0}\" width=\"{u:.1}\" height=\"20\" fill=\"#1f6feb\"/><text x=\"{:.1}\" y=\"{:.0}\" font-size=\"12\">{} used</text>\n",
            y + 22.0,
            label_w + u + 6.0,
            y + 37.0,
            k.used
        ));
    }
    s.push_str("</svg><figcaption>Granted and used actions per kind, summed over principals (logarithmic scale; the exact figures are in the table above).</figcaption></figure>\n");
    s
}

/// Renders the audit as one self-contained HTML file.
pub fn render(audit: &Audit) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>leastpriv audit report</title>\n<style>",
    );
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n");
    for b in document(audit) {
        match b {
            Block::Heading(level, t, id) => {
                let id = if id.is_empty() {
                    String::new()
                } else {
                    format!(" id=\"{}\"", escape(&id))
                };
                out.push_str(&format!("<h{level}{id}>{}</h{level}>\n", escape(&t)));
            }
            Block::Para(l) => out.push_str(&format!("<p>{}</p>\n", line(&l))),
            Block::List(items) => {
                out.push_str("<ul>\n");
                for l in items {
                    out.push_str(&format!("<li>{}</li>\n", line(&l)));
                }
                out.push_str("</ul>\n");
            }
            Block::Table {
                head,
                numeric,
                rows,
            } => {
                let class = |i: usize| {
                    if numeric.get(i).copied().unwrap_or(false) {
                        " class=\"num\""
                    } else {
                        ""
                    }
                };
                out.push_str("<table>\n<thead><tr>");
                for (i, h) in head.iter().enumerate() {
                    out.push_str(&format!("<th{}>{}</th>", class(i), escape(h)));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for r in rows {
                    out.push_str("<tr>");
                    for (i, c) in r.iter().enumerate() {
                        out.push_str(&format!("<td{}>{}</td>", class(i), line(c)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            Block::Code { lang, text } => out.push_str(&format!(
                "<pre><code class=\"language-{lang}\">{}</code></pre>\n",
                escape(&text)
            )),
            Block::Chart(sums) => out.push_str(&chart(&sums)),
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn ticked_text_is_escaped_inside_and_outside_code() {
        assert_eq!(ticked("a<b `c&d`"), "a&lt;b <code>c&amp;d</code>");
    }
}
