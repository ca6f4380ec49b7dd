//! The report as GitHub-flavoured markdown (for `$GITHUB_STEP_SUMMARY` and PR comments).

use super::document::Block;
use crate::text;

pub fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    render_into(&mut out, blocks, true);
    out
}

/// `top`: the document's own blocks, whose first heading is its title.
fn render_into(out: &mut String, blocks: &[Block], top: bool) {
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(text) => {
                let level = if i == 0 && top { "##" } else { "###" };
                out.push_str(&format!(
                    "{level} {}\n\n",
                    escape_html(&text::one_line(text))
                ));
            }
            Block::Lines(lines) => {
                for line in lines {
                    out.push_str(&escape_html(&text::one_line(line)));
                    out.push_str("  \n");
                }
                out.push('\n');
            }
            Block::Code(text) => {
                let fence = fence_for(text);
                let code = text::lines(text.trim_end());
                out.push_str(&format!("{fence}nix\n{code}\n{fence}\n\n"));
            }
            Block::Table { headers, rows, .. } => {
                out.push_str(&row(headers));
                out.push_str(&row(&headers
                    .iter()
                    .map(|_| "---".to_string())
                    .collect::<Vec<_>>()));
                for cells in rows {
                    out.push_str(&row(cells));
                }
                out.push('\n');
            }
            // Hundreds of misses stay readable: each phase's rows open on a click.
            Block::Fold { summary, blocks } => {
                out.push_str(&format!(
                    "<details><summary>{}</summary>\n\n",
                    escape_html(summary)
                ));
                render_into(out, blocks, false);
                out.push_str("</details>\n\n");
            }
        }
    }
}

fn row(cells: &[String]) -> String {
    let cells: Vec<String> = cells
        .iter()
        // GFM reads `\|` as a pipe inside a table cell, code spans included.
        .map(|c| {
            escape_html(&text::lines(c))
                .replace('|', "\\|")
                .replace('\n', "<br>")
        })
        .collect();
    format!("| {} |\n", cells.join(" | "))
}

/// A code fence longer than any run of backticks in `code`, so that none can close it.
fn fence_for(code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// `<` and `>` as entities, except inside code spans, which show their text verbatim.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_keep_their_text() {
        assert_eq!(escape_html("a <b> `x <y>` c"), "a &lt;b&gt; `x <y>` c");
        assert_eq!(row(&["`a | b`".into()]), "| `a \\| b` |\n");
    }
}
