//! The report as GitHub-flavoured markdown (for `$GITHUB_STEP_SUMMARY` and PR comments).

use super::document::Block;

pub fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(text) => {
                let level = if i == 0 { "##" } else { "###" };
                out.push_str(&format!("{level} {}\n\n", escape(text)));
            }
            Block::Lines(lines) => {
                for line in lines {
                    out.push_str(&escape(line));
                    out.push_str("  \n");
                }
                out.push('\n');
            }
            Block::Code(text) => {
                out.push_str(&format!("```nix\n{}\n```\n\n", text.trim_end()));
            }
            Block::Table { headers, rows } => {
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
        }
    }
    out
}

fn row(cells: &[String]) -> String {
    let cells: Vec<String> = cells
        .iter()
        .map(|c| escape(c).replace('\n', "<br>"))
        .collect();
    format!("| {} |\n", cells.join(" | "))
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
