//! The report as GitHub-flavoured markdown (for `$GITHUB_STEP_SUMMARY` and PR comments).
//! Every text of a block passes through [`text::markdown`]: the markup here is only the
//! renderer's own (headings, table rows, `<details>`, code fences).

use super::document::Block;
use crate::text;

/// How much markdown may come before a cascade ([`Block::Detail`]) is left out.
const DETAIL_BUDGET: usize = 640 * 1024;

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
                    text::markdown(&text::one_line(text))
                ));
            }
            Block::Lines(lines) => {
                for line in lines {
                    out.push_str(&text::markdown(&text::one_line(line)));
                    out.push_str("  \n");
                }
                out.push('\n');
            }
            Block::Code(text) => {
                let fence = fence_for(text);
                let code = text::lines(text.trim_end());
                out.push_str(&format!("{fence}nix\n{code}\n{fence}\n\n"));
            }
            // Every text in it is Mermaid-escaped: no backtick can close the fence.
            Block::Graph(graph) => {
                out.push_str("```mermaid\n");
                out.push_str(&super::graph::mermaid(graph));
                out.push_str("```\n\n");
                if let Some(line) = super::graph::left_out_line(graph) {
                    out.push_str(&format!("{}\n\n", text::markdown(&line)));
                }
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
            // Past the budget, cascades are counted, not drawn: the summary stays under
            // GitHub's 1 MiB whatever the workspace.
            Block::Detail { summary, .. } if out.len() > DETAIL_BUDGET => {
                out.push_str(&format!(
                    "{} (left out: the page is near GitHub's 1 MiB summary limit; --format json lists it)  \n\n",
                    text::markdown(&text::one_line(summary))
                ));
            }
            Block::Fold { summary, blocks } | Block::Detail { summary, blocks } => {
                out.push_str(&format!(
                    "<details><summary>{}</summary>\n\n",
                    text::markdown(&text::one_line(summary))
                ));
                render_into(out, blocks, false);
                out.push_str("</details>\n\n");
            }
        }
    }
}

fn row(cells: &[String]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| text::markdown(c)).collect();
    format!("| {} |\n", cells.join(" | "))
}

/// A code fence longer than any run of backticks in `code`, so that none can close it.
fn fence_for(code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_hold_no_live_markup() {
        assert_eq!(
            row(&["`a | <b>`".into(), "x\ny".into()]),
            "| &#96;a &#124; &lt;b&gt;&#96; | x<br>y |\n"
        );
        let summary = render(&[Block::Fold {
            summary: "a`<img src=x>".into(),
            blocks: vec![],
        }]);
        assert!(summary.starts_with("<details><summary>a&#96;&lt;img src=x&gt;</summary>"));
    }
}
