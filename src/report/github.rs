//! `--format github`: GitHub Actions workflow commands (`::warning file=…,line=…::…`) that
//! annotate the Nix line defining each phase with misses and the line causing each finding,
//! then the human part ([`log`]) with workflow commands turned off.

use std::path::{Path, PathBuf};

use crate::explain::UnitNames;
use crate::findings::{Finding, Severity};
use crate::located::SourceLocation;
use crate::report::{PhaseReport, PhaseStatus, Report};

use crate::report::display::phase_cost_sentence;
use crate::text;

/// `human` (the tables) between `::stop-commands::TOKEN` and `::TOKEN::`, with a token no
/// input can guess: while commands are stopped the runner runs none, so no name in a table
/// can set an output, mask text, annotate or turn commands off. Each line is also made safe
/// on its own ([`text::log_lines`]) for a reader that ignores `stop-commands`.
pub fn log(human: &str) -> String {
    let token = text::random_token();
    let mut out = format!("::stop-commands::{token}\n");
    out.push_str(&text::log_lines(human));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("::{token}::\n"));
    out
}

/// Turns the report's locations (shown relative to the flake, the workspace, or as given)
/// into paths relative to the repository root, as Actions needs them.
#[derive(Debug, Clone)]
pub struct RepoPaths {
    /// The git work tree's root; without one, the current directory.
    root: PathBuf,
    /// Where a relative location may be relative to, tried in order.
    bases: Vec<PathBuf>,
}

impl RepoPaths {
    /// `source_root`: the workspace; `flake`: the Nix file the phases came from, if any.
    pub fn discover(source_root: &Path, flake: Option<&Path>) -> RepoPaths {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let absolute = |p: &Path| {
            let p = if p.is_absolute() {
                p.to_path_buf()
            } else {
                cwd.join(p)
            };
            p.canonicalize().unwrap_or(p)
        };
        let source_root = absolute(source_root);
        let root = source_root
            .ancestors()
            .find(|d| d.join(".git").exists())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| cwd.clone());
        let flake_dir = flake
            .and_then(|f| absolute(f).parent().map(Path::to_path_buf))
            .unwrap_or_else(|| source_root.clone());
        // A flake's files are shown relative to the nearest directory holding flake.nix.
        let flake_root = flake_dir
            .ancestors()
            .take_while(|d| d.starts_with(&root))
            .find(|d| d.join("flake.nix").is_file())
            .map(Path::to_path_buf);
        let bases = flake_root.into_iter().chain([source_root, cwd]).collect();
        RepoPaths { root, bases }
    }

    /// The location's file relative to the repository root, if it is in it.
    pub fn relative(&self, location: &SourceLocation) -> Option<String> {
        let file = Path::new(&location.file);
        let found = if file.is_absolute() {
            Some(file.to_path_buf())
        } else {
            self.bases
                .iter()
                .map(|base| base.join(file))
                .find(|path| path.exists())
        }?;
        let found = found.canonicalize().unwrap_or(found);
        let relative = found.strip_prefix(&self.root).ok()?;
        Some(relative.display().to_string())
    }
}

/// The workflow commands for the report: one per phase with misses (or that failed)
/// unless `findings_only`, one per finding.
pub fn annotations(report: &Report, paths: &RepoPaths, findings_only: bool) -> String {
    let mut out = String::new();
    let phases = if findings_only {
        &[][..]
    } else {
        &report.phases[..]
    };
    for phase in phases {
        out.extend(phase_annotation(report, phase, paths));
    }
    for finding in &report.findings {
        out.push_str(&finding_annotation(finding, paths));
    }
    out
}

fn phase_annotation(report: &Report, phase: &PhaseReport, paths: &RepoPaths) -> Option<String> {
    let name = &phase.phase.name;
    if phase.status == PhaseStatus::Failed {
        let message = format!(
            "cargo could not resolve the phase `{name}`: {}",
            phase.error.as_deref().unwrap_or("failed")
        );
        let title = format!("cache-miss: {name} failed");
        return Some(command(
            "error",
            phase.phase.origin.as_ref(),
            paths,
            &title,
            &message,
        ));
    }
    if phase.status != PhaseStatus::Ok || phase.units.missed == 0 {
        return None;
    }
    let missed = phase.units.missed;
    let mut title = format!(
        "cache-miss: {name} rebuilds {missed} unit{}",
        if missed == 1 { "" } else { "s" }
    );
    if let Some(costs) = phase.costs {
        title.push_str(&format!(", {}", crate::costs::duration_text(costs.seconds)));
    }
    let mut lines = vec![phase_cost_sentence(phase).unwrap_or_else(|| {
        format!(
            "{name} ({}{}) rebuilds {missed} of {} dependency units",
            phase.phase.function,
            phase
                .phase
                .artifacts_from
                .as_deref()
                .map(|f| format!(" <- {f}"))
                .unwrap_or_default(),
            phase.units.needed
        )
    })];
    let roots: Vec<_> = phase.misses.iter().filter(|m| m.is_root()).collect();
    let names = UnitNames::of(&phase.misses);
    lines.extend(roots.iter().take(ROOTS_NAMED).map(|m| {
        format!(
            "- {} ({}): {}: {}",
            m.label(),
            m.mode,
            m.reason(),
            m.detail(&names)
        )
    }));
    if roots.len() > ROOTS_NAMED {
        lines.push(format!(
            "- and {} more root misses",
            roots.len() - ROOTS_NAMED
        ));
    }
    let mut fixes: Vec<String> = roots.iter().map(|m| m.fix_text(&names)).collect();
    fixes.sort();
    fixes.dedup();
    lines.extend(fixes.iter().map(|f| format!("fix: {f}")));
    if let Some(delta) = report
        .baseline
        .as_ref()
        .and_then(|b| b.phases.iter().find(|d| &d.name == name))
        .filter(|d| !d.new_misses.is_empty())
    {
        lines.push(format!(
            "new since the baseline: {}",
            delta.new_misses.join(", ")
        ));
    }
    Some(command(
        "warning",
        phase.phase.origin.as_ref(),
        paths,
        &title,
        &lines.join("\n"),
    ))
}

/// How many root misses a phase's annotation names.
const ROOTS_NAMED: usize = 5;

fn finding_annotation(finding: &Finding, paths: &RepoPaths) -> String {
    let level = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let title = format!("cache-miss: {}", finding.id.code());
    let message = format!("{}\nfix: {}", finding.message, finding.fix);
    command(level, finding.location.as_ref(), paths, &title, &message)
}

/// `::level file=F,line=L,title=T::message`, escaped as the runner expects.
fn command(
    level: &str,
    location: Option<&SourceLocation>,
    paths: &RepoPaths,
    title: &str,
    message: &str,
) -> String {
    let mut properties = Vec::new();
    if let Some(location) = location
        && let Some(file) = paths.relative(location)
    {
        properties.push(format!("file={}", escape_property(&text::one_line(&file))));
        if let Some(line) = location.line {
            properties.push(format!("line={line}"));
        }
        if let Some(column) = location.column {
            properties.push(format!("col={column}"));
        }
    }
    properties.push(format!("title={}", escape_property(&text::one_line(title))));
    format!(
        "::{level} {}::{}\n",
        properties.join(","),
        escape_data(&text::lines(message))
    )
}

/// A message: `%`, CR and LF encoded as the runner decodes them, and no legacy `##[`.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace("##[", "##\\[")
}

/// A property value: also `:` and `,`, which separate properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner_rules() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_data("x##[set-output]"), "x##\\[set-output]");
        assert_eq!(escape_property("a: b, c%"), "a%3A b%2C c%25");
    }

    #[test]
    fn locations_become_paths_from_the_repository_root() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("nix")).unwrap();
        std::fs::create_dir_all(root.join("rust")).unwrap();
        std::fs::write(root.join("flake.nix"), "{}").unwrap();
        std::fs::write(root.join("nix/rust.nix"), "{}").unwrap();
        std::fs::write(root.join("rust/Cargo.toml"), "").unwrap();
        let paths = RepoPaths::discover(&root.join("rust"), Some(&root.join("nix/rust.nix")));
        let at = |file: &str| paths.relative(&SourceLocation::line(file, 3));
        assert_eq!(at("nix/rust.nix").as_deref(), Some("nix/rust.nix"));
        assert_eq!(at("flake.nix").as_deref(), Some("flake.nix"));
        assert_eq!(at("Cargo.toml").as_deref(), Some("rust/Cargo.toml"));
        assert_eq!(at("missing.nix"), None);
        let command = command(
            "warning",
            Some(&SourceLocation::line("Cargo.toml", 3)),
            &paths,
            "t: x",
            "m",
        );
        assert_eq!(
            command,
            "::warning file=rust/Cargo.toml,line=3,title=t%3A x::m\n"
        );
    }
}
