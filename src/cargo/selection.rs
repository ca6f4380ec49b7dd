//! What a cargo command selects, typed: packages, workspace, exclusions, features, targets,
//! profile and platform. Parsed once, when an [`Invocation`](super::Invocation) is made;
//! explanations, findings and fixes compare these values, and flags are written out only
//! where they are shown or emitted as Nix (`Display`, [`SelectionFlag::args`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Serialize, Serializer};

use crate::cargo_options::takes_value;

/// One thing a command selects. The variants stand in the order of their spelling, so a
/// sorted set of flags reads as the sorted flags (`--all-features` before `-p cli`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SelectionFlag {
    AllFeatures,
    AllTargets,
    Bench(String),
    Benches,
    Bin(String),
    Bins,
    Example(String),
    Examples,
    Exclude(String),
    Feature(String),
    Lib,
    NoDefaultFeatures,
    /// The target triple (`--target` or `CARGO_BUILD_TARGET`).
    Platform(String),
    Test(String),
    Tests,
    Workspace,
    Package(String),
    /// `cargo test` or `cargo bench`: they build test targets and dev-dependencies.
    Subcommand(&'static str),
}

impl SelectionFlag {
    /// Whether the flag picks packages (`-p`, `--workspace`).
    pub fn names_packages(&self) -> bool {
        matches!(self, SelectionFlag::Package(_) | SelectionFlag::Workspace)
    }

    /// Whether the flag is about packages, features or the platform, not targets: what
    /// decides how cargo unifies features.
    pub fn is_package_selection(&self) -> bool {
        matches!(
            self,
            SelectionFlag::Package(_)
                | SelectionFlag::Workspace
                | SelectionFlag::Exclude(_)
                | SelectionFlag::Feature(_)
                | SelectionFlag::AllFeatures
                | SelectionFlag::NoDefaultFeatures
                | SelectionFlag::Platform(_)
        )
    }

    /// Whether the flag builds targets that need dev-dependencies.
    pub fn needs_dev_dependencies(&self) -> bool {
        matches!(
            self,
            SelectionFlag::AllTargets
                | SelectionFlag::Tests
                | SelectionFlag::Benches
                | SelectionFlag::Examples
        )
    }

    /// The flag as cargo arguments (`["-p", "cli"]`); none for a subcommand.
    pub fn args(&self) -> Vec<String> {
        let (option, value) = self.parts();
        match (option, value) {
            (None, _) => Vec::new(),
            (Some(option), None) => vec![option.to_string()],
            (Some(option), Some(value)) => vec![option.to_string(), value.to_string()],
        }
    }

    /// The option's spelling and value; no option for a subcommand.
    fn parts(&self) -> (Option<&'static str>, Option<&str>) {
        use SelectionFlag as F;
        match self {
            F::AllFeatures => (Some("--all-features"), None),
            F::AllTargets => (Some("--all-targets"), None),
            F::Bench(name) => (Some("--bench"), Some(name)),
            F::Benches => (Some("--benches"), None),
            F::Bin(name) => (Some("--bin"), Some(name)),
            F::Bins => (Some("--bins"), None),
            F::Example(name) => (Some("--example"), Some(name)),
            F::Examples => (Some("--examples"), None),
            F::Exclude(name) => (Some("--exclude"), Some(name)),
            F::Feature(name) => (Some("--features"), Some(name)),
            F::Lib => (Some("--lib"), None),
            F::NoDefaultFeatures => (Some("--no-default-features"), None),
            F::Platform(triple) => (Some("--target"), Some(triple)),
            F::Test(name) => (Some("--test"), Some(name)),
            F::Tests => (Some("--tests"), None),
            F::Workspace => (Some("--workspace"), None),
            F::Package(name) => (Some("-p"), Some(name)),
            F::Subcommand(_) => (None, None),
        }
    }
}

/// `-p cli`, `--features x`, `cargo test`: how reports and fix lines write a flag.
impl fmt::Display for SelectionFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.parts()) {
            (SelectionFlag::Subcommand(name), _) => write!(f, "cargo {name}"),
            (_, (Some(option), Some(value))) => write!(f, "{option} {value}"),
            (_, (option, _)) => f.write_str(option.unwrap_or_default()),
        }
    }
}

/// In the JSON contract a flag is its text (`"-p cli"`).
impl Serialize for SelectionFlag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Everything one cargo command selects. Produced by [`Selection::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selection {
    /// Packages, features, targets, the platform and the subcommand, each once.
    pub flags: BTreeSet<SelectionFlag>,
    /// `--profile NAME`, `release` for `--release`; `None`: the subcommand's default.
    pub profile: Option<String>,
    /// How the command wrote each package it names, where not `-p NAME`
    /// (`--package=cli`, `--package cli`, `-pcli`): the first spelling of each.
    spelled: BTreeMap<String, String>,
}

impl Selection {
    /// The selection of `cargo <subcommand> <args>` run with `env` (`CARGO_BUILD_TARGET`).
    pub fn parse(subcommand: &str, args: &[String], env: &BTreeMap<String, String>) -> Selection {
        let mut selection = Selection::default();
        match subcommand {
            "test" => selection.flags.insert(SelectionFlag::Subcommand("test")),
            "bench" => selection.flags.insert(SelectionFlag::Subcommand("bench")),
            _ => false,
        };
        let mut platform = None;
        for word in words(args) {
            let flag = match (word.option, word.value) {
                ("-p" | "--package", Some(name)) => {
                    selection.spell(&name, &word.written);
                    SelectionFlag::Package(name)
                }
                ("--exclude", Some(name)) => SelectionFlag::Exclude(name),
                ("--bin", Some(name)) => SelectionFlag::Bin(name),
                ("--test", Some(name)) => SelectionFlag::Test(name),
                ("--example", Some(name)) => SelectionFlag::Example(name),
                ("--bench", Some(name)) => SelectionFlag::Bench(name),
                ("-F" | "--features", Some(list)) => {
                    let features = list.split([',', ' ']).filter(|f| !f.is_empty());
                    for feature in features {
                        selection
                            .flags
                            .insert(SelectionFlag::Feature(feature.to_string()));
                    }
                    continue;
                }
                ("--target", Some(triple)) => {
                    platform = Some(triple);
                    continue;
                }
                ("--profile", Some(name)) => {
                    selection.profile = Some(name);
                    continue;
                }
                ("--release" | "-r", None) => {
                    selection.profile = Some("release".to_string());
                    continue;
                }
                ("--all" | "--workspace", None) => SelectionFlag::Workspace,
                ("--all-features", None) => SelectionFlag::AllFeatures,
                ("--no-default-features", None) => SelectionFlag::NoDefaultFeatures,
                ("--lib", None) => SelectionFlag::Lib,
                ("--bins", None) => SelectionFlag::Bins,
                ("--tests", None) => SelectionFlag::Tests,
                ("--examples", None) => SelectionFlag::Examples,
                ("--benches", None) => SelectionFlag::Benches,
                ("--all-targets", None) => SelectionFlag::AllTargets,
                _ => continue,
            };
            selection.flags.insert(flag);
        }
        if let Some(triple) = platform.or_else(|| env.get("CARGO_BUILD_TARGET").cloned()) {
            selection.flags.insert(SelectionFlag::Platform(triple));
        }
        selection
    }

    /// The target triple, if one is given.
    pub fn platform(&self) -> Option<&str> {
        self.flags.iter().find_map(|f| match f {
            SelectionFlag::Platform(triple) => Some(triple.as_str()),
            _ => None,
        })
    }

    /// A flag as the command wrote it: a package as spelled (`--package=cli`), others
    /// as [`SelectionFlag`] writes them. `None` when the command does not have it.
    pub fn as_written(&self, flag: &SelectionFlag) -> Option<String> {
        if !self.flags.contains(flag) {
            return None;
        }
        Some(match flag {
            SelectionFlag::Package(name) => self
                .spelled
                .get(name)
                .cloned()
                .unwrap_or_else(|| flag.to_string()),
            _ => flag.to_string(),
        })
    }

    fn spell(&mut self, name: &str, written: &[String]) {
        let spelling = written.join(" ");
        if spelling != format!("-p {name}") {
            self.spelled.entry(name.to_string()).or_insert(spelling);
        }
    }
}

/// One option of a command line, with its value, and the words it was written as.
struct Word {
    option: &'static str,
    value: Option<String>,
    written: Vec<String>,
}

/// The selection options of `args` (`--features=a` and `-pcli` split into option and
/// value); any other option's value is skipped, so that it is not read as an option.
fn words(args: &[String]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
            _ => match short_with_value(arg) {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (arg.as_str(), None),
            },
        };
        let Some(option) = SELECTION_OPTIONS.iter().find(|o| **o == name) else {
            if inline.is_none() && takes_value(name) {
                iter.next();
            }
            continue;
        };
        let mut written = vec![arg.clone()];
        let value = match inline {
            Some(value) => Some(value),
            None if takes_value(option) => {
                let value = iter.next().cloned().unwrap_or_default();
                written.push(value.clone());
                Some(value)
            }
            None => None,
        };
        // `-p ''`: no package.
        if value.as_deref() == Some("") {
            continue;
        }
        out.push(Word {
            option,
            value,
            written,
        });
    }
    out
}

/// `-pcli` as `-p` and `cli`; `-Fa,b` as `-F` and `a,b`.
fn short_with_value(arg: &str) -> Option<(&'static str, &str)> {
    ["-p", "-F"]
        .into_iter()
        .find_map(|short| Some((short, arg.strip_prefix(short)?)))
        .filter(|(_, value)| !value.is_empty())
}

/// The options [`Selection::parse`] reads.
const SELECTION_OPTIONS: &[&str] = &[
    "-p",
    "--package",
    "--exclude",
    "--bin",
    "--test",
    "--example",
    "--bench",
    "-F",
    "--features",
    "--target",
    "--profile",
    "--release",
    "-r",
    "--all",
    "--workspace",
    "--all-features",
    "--no-default-features",
    "--lib",
    "--bins",
    "--tests",
    "--examples",
    "--benches",
    "--all-targets",
];

/// The package, feature and platform words of an arguments string as the user wrote it
/// (`-p cli`, `--features a,b`, `--workspace`), for fixes that keep the user's spelling;
/// every other word is left out.
pub(crate) fn package_selection_words(args: &[String]) -> Vec<String> {
    words(args)
        .into_iter()
        .filter(|w| {
            matches!(
                w.option,
                "-p" | "--package"
                    | "--exclude"
                    | "-F"
                    | "--features"
                    | "--target"
                    | "--all"
                    | "--workspace"
                    | "--all-features"
                    | "--no-default-features"
            )
        })
        .flat_map(|w| w.written)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(subcommand: &str, line: &str) -> Selection {
        let args = shell_words::split(line).unwrap();
        Selection::parse(subcommand, &args, &BTreeMap::new())
    }

    fn texts(selection: &Selection) -> Vec<String> {
        selection.flags.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn flags_are_parsed_once_into_types() {
        let selection = parse(
            "test",
            "--locked --package=cli -p core -Fa,b --features 'c d' --exclude x --all --tests --bin app --target aarch64-unknown-linux-gnu --profile ci -j 4",
        );
        assert_eq!(
            texts(&selection),
            [
                "--bin app",
                "--exclude x",
                "--features a",
                "--features b",
                "--features c",
                "--features d",
                "--target aarch64-unknown-linux-gnu",
                "--tests",
                "--workspace",
                "-p cli",
                "-p core",
                "cargo test",
            ]
        );
        assert_eq!(selection.profile.as_deref(), Some("ci"));
        assert_eq!(selection.platform(), Some("aarch64-unknown-linux-gnu"));
        assert_eq!(
            selection.as_written(&SelectionFlag::Package("cli".into())),
            Some("--package=cli".into())
        );
        assert_eq!(
            selection.as_written(&SelectionFlag::Package("core".into())),
            Some("-p core".into())
        );
        let short = parse("build", "-pcli --release");
        assert_eq!(texts(&short), ["-p cli"]);
        assert_eq!(short.profile.as_deref(), Some("release"));
        assert_eq!(
            short.as_written(&SelectionFlag::Package("cli".into())),
            Some("-pcli".into())
        );
    }

    #[test]
    fn option_values_are_not_read_as_options() {
        assert!(parse("build", "--config --workspace").flags.is_empty());
        assert!(parse("build", "--manifest-path --lib").flags.is_empty());
    }

    #[test]
    fn the_environment_gives_the_platform_when_no_option_does() {
        let env = BTreeMap::from([("CARGO_BUILD_TARGET".to_string(), "wasm32".to_string())]);
        let selection = Selection::parse("build", &[], &env);
        assert_eq!(selection.platform(), Some("wasm32"));
        let given = Selection::parse("build", &["--target".into(), "x".into()], &env);
        assert_eq!(given.platform(), Some("x"));
    }

    #[test]
    fn flags_sort_as_their_text() {
        let selection = parse(
            "bench",
            "--all-targets --all-features --bench b --benches --bin b --bins --example e --examples --exclude x --features f --lib --no-default-features --target t --test t --tests --workspace -p p",
        );
        let mut sorted = texts(&selection);
        sorted.sort();
        assert_eq!(texts(&selection), sorted);
        assert_eq!(selection.flags.len(), 18);
        let args: Vec<String> = selection
            .flags
            .iter()
            .flat_map(SelectionFlag::args)
            .collect();
        let again = Selection::parse("bench", &args, &BTreeMap::new());
        assert_eq!(again.flags, selection.flags);
    }

    #[test]
    fn package_selection_words_keep_the_spelling() {
        let words = |line: &str| package_selection_words(&shell_words::split(line).unwrap());
        assert_eq!(
            words("--locked --package=cli -p core --features a,b --tests --all -j 2"),
            ["--package=cli", "-p", "core", "--features", "a,b", "--all"]
        );
        assert_eq!(
            words("-pcli -Fx --target t"),
            ["-pcli", "-Fx", "--target", "t"]
        );
    }
}
