//! Finds the `cargo` / `cargoWithProfile` calls in crane's shell snippets
//! (`buildPhaseCargoCommand`, `checkPhaseCargoCommand`, `cargoBuildCommand`, ...).
//!
//! This is not a shell, but it reads shell text the way one does ([`lex`]): comments,
//! quotes, continuations, `;` `&&` `||` pipelines, redirections, here-documents. It
//! follows what decides a cargo call: `VAR=value` prefixes and `export`s, `$VAR` of
//! known variables, `command`/`exec`/`env` wrappers, `if`/`while` bodies and `for` loops
//! over known words. What it cannot know makes only that command approximate, and it
//! says which line and why.

mod lex;

use std::collections::BTreeMap;

use lex::{Command, Part, Word};

/// A cargo call found in shell text, with crane's `cargoWithProfile` already expanded.
/// Produced by [`find_cargo_calls`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShellCargoCall {
    /// Arguments after `cargo`, e.g. `["build", "--release", "--locked"]`.
    pub args: Vec<String>,
    /// Variables the command runs with: `export`ed earlier in the text or written in
    /// front of it.
    pub env: BTreeMap<String, String>,
}

/// What [`find_cargo_calls`] found in one snippet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ShellScan {
    pub calls: Vec<ShellCargoCall>,
    /// Notes about lines that mention cargo but could not be followed exactly, in line
    /// order.
    pub uninterpreted: Vec<ShellNote>,
    /// Programs the text runs that may run cargo themselves (an xtask, a script, `make`;
    /// `cargo run` and `cargo xtask` among the cargo calls), as `line: command`: their own
    /// cargo calls cannot be seen.
    pub programs: Vec<ShellNote>,
}

/// A line of a snippet that mentions cargo but could not be followed exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShellNote {
    /// Counted within the snippet, from 1.
    pub line: usize,
    pub text: String,
    /// The line cannot be read as shell words at all (a quote never closed, ...).
    pub unreadable: bool,
}

impl std::fmt::Display for ShellNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.text)
    }
}

/// Scans `text` for cargo calls. `var` resolves shell variables (`$CARGO_PROFILE`, phase
/// environment); `profile` is crane's `CARGO_PROFILE` for `cargoWithProfile`.
pub(crate) fn find_cargo_calls(
    text: &str,
    profile: &str,
    var: &dyn Fn(&str) -> Option<String>,
) -> ShellScan {
    let lexed = lex::lex(text);
    let mut scan = ShellScan::default();
    for error in &lexed.errors {
        if mentions_cargo(&error.text) {
            scan.uninterpreted.push(ShellNote {
                line: error.line,
                text: format!(
                    "`{}`: cannot be read ({}); skipped",
                    snippet(&error.text),
                    error.why
                ),
                unreadable: true,
            });
        }
    }
    let mut state = State {
        lookup: var,
        profile,
        vars: BTreeMap::new(),
        exports: BTreeMap::new(),
    };
    state.run(&lexed.commands, &mut scan);
    scan.uninterpreted.sort_by_key(|note| note.line);
    scan
}

/// Whether some of `text` cannot be read as shell words (a quote never closed, ...).
pub(crate) fn has_unreadable_part(text: &str) -> bool {
    !lex::lex(text).errors.is_empty()
}

/// Variables while the text is followed.
struct State<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    profile: &'a str,
    /// Variables the text assigns.
    vars: BTreeMap<String, Val>,
    /// Variables the text exports that matter to cargo.
    exports: BTreeMap<String, Val>,
}

/// A variable's value: expanded where known, as written where not.
#[derive(Debug, Clone)]
struct Val {
    text: String,
    known: bool,
}

impl Val {
    fn known(text: String) -> Val {
        Val { text, known: true }
    }
}

/// A word expanded into fields, with the expansions that could not be resolved.
struct Expanded {
    fields: Vec<String>,
    unknown: Vec<String>,
}

/// Reserved words that only introduce the command after them.
const LEADING_KEYWORDS: &[&str] = &[
    "if", "then", "elif", "else", "do", "while", "until", "!", "{", "time",
];
/// Reserved words that end a compound command.
const CLOSING_KEYWORDS: &[&str] = &["fi", "done", "esac", "}"];
/// Commands that run the command after them.
const WRAPPERS: &[&str] = &["exec", "command", "nice", "nohup", "env", "builtin"];
/// Commands that declare variables.
const DECLARATIONS: &[&str] = &["export", "declare", "typeset", "local", "readonly"];
/// Commands that print or look up their arguments rather than run them.
const NOT_RUNNING: &[&str] = &["echo", "printf", ":", "true", "which", "type", "hash"];

/// Programs that never run cargo: shell builtins and file utilities.
#[rustfmt::skip]
const UTILITIES: &[&str] = &[
    "cd", "pushd", "popd", "mkdir", "cp", "mv", "rm", "ln", "cat", "touch", "chmod", "install",
    "tar", "find", "sed", "grep", "awk", "test", "[", "[[", "false", "ls", "wc", "head", "tail",
    "tee", "sort", "patchShebangs", "runHook", "set", "shopt", "return", "exit", "trap", "read",
    "local", "mktemp", "dirname", "basename", "realpath",
];

/// The cargo subcommands that run a program built from the workspace (`cargo xtask` is
/// the usual alias of `cargo run --package xtask --`).
const RUNS_A_PROGRAM: &[&str] = &["run", "xtask"];

/// A command that runs a program, as a note: its line and text.
fn program_run(command: &Command) -> ShellNote {
    ShellNote {
        line: command.line,
        text: format!("`{}`", snippet(&command.text)),
        unreadable: false,
    }
}

impl State<'_> {
    fn run(&mut self, commands: &[Command], scan: &mut ShellScan) {
        let mut i = 0;
        while i < commands.len() {
            let command = &commands[i];
            let words = strip_leading_keywords(&command.words);
            match words.first().and_then(Word::keyword) {
                Some("for") => {
                    let end = matching_done(commands, i);
                    self.run_for(&words[1..], &commands[i + 1..end], scan);
                    i = end + 1;
                    continue;
                }
                Some(closing) if CLOSING_KEYWORDS.contains(&closing) => {}
                _ => self.simple(command, words, scan),
            }
            i += 1;
        }
    }

    /// `for NAME in WORDS; do BODY; done`: the body once per known word, or once with
    /// NAME unknown.
    fn run_for(&mut self, words: &[Word], body: &[Command], scan: &mut ShellScan) {
        let name = words.first().and_then(Word::keyword).unwrap_or_default();
        let values = match words.get(1).and_then(Word::keyword) {
            Some("in") => {
                let expanded: Vec<Expanded> = words[2..].iter().map(|w| self.expand(w)).collect();
                expanded.iter().all(|e| e.unknown.is_empty()).then(|| {
                    expanded
                        .into_iter()
                        .flat_map(|e| e.fields)
                        .collect::<Vec<_>>()
                })
            }
            _ => None,
        };
        match values {
            Some(values) => {
                for value in values {
                    self.vars.insert(name.to_string(), Val::known(value));
                    self.run(body, scan);
                }
            }
            None => {
                let text = format!("${name}");
                self.vars
                    .insert(name.to_string(), Val { text, known: false });
                self.run(body, scan);
            }
        }
    }

    fn simple(&mut self, command: &Command, words: &[Word], scan: &mut ShellScan) {
        let mut inline = BTreeMap::new();
        let mut rest = words;
        loop {
            match rest.first() {
                Some(word) if assignment(word).is_some() => {
                    let (name, value) = self.assign_value(word);
                    inline.insert(name, value);
                }
                Some(word) if word.keyword().is_some_and(|w| WRAPPERS.contains(&w)) => {
                    if word.keyword() == Some("command")
                        && rest
                            .get(1)
                            .and_then(Word::keyword)
                            .is_some_and(|w| w.starts_with('-'))
                    {
                        return; // `command -v cargo` looks cargo up.
                    }
                }
                _ => break,
            }
            rest = &rest[1..];
        }
        let Some(program) = rest.first() else {
            self.set_vars(inline, false);
            return;
        };
        if let Some(declaration) = program.keyword().filter(|w| DECLARATIONS.contains(w)) {
            self.declare(declaration, &rest[1..]);
            return;
        }
        if program.keyword() == Some("unset") {
            for word in &rest[1..] {
                self.vars
                    .insert(word.text.clone(), Val::known(String::new()));
                self.exports.remove(&word.text);
            }
            return;
        }
        let mut expanded = Expanded {
            fields: Vec::new(),
            unknown: Vec::new(),
        };
        for word in rest {
            let e = self.expand(word);
            expanded.fields.extend(e.fields);
            expanded.unknown.extend(e.unknown);
        }
        self.command(command, inline, expanded, scan);
    }

    /// A command with its words expanded: a cargo call, or a note if it runs cargo in
    /// another way.
    fn command(
        &mut self,
        command: &Command,
        inline: BTreeMap<String, Val>,
        expanded: Expanded,
        scan: &mut ShellScan,
    ) {
        let Some((program, args)) = expanded.fields.split_first() else {
            return;
        };
        let note = |why: String| ShellNote {
            line: command.line,
            text: format!("`{}`: {why}", snippet(&command.text)),
            unreadable: false,
        };
        let args = match program.as_str() {
            "cargo" => args.to_vec(),
            "cargoWithProfile" => {
                let profile = match inline.get("CARGO_PROFILE") {
                    Some(value) if value.known => value.text.clone(),
                    _ => self.profile_value(),
                };
                with_profile(args.to_vec(), &profile)
            }
            p if p.ends_with("/cargo") => args.to_vec(),
            p if NOT_RUNNING.contains(&p) => return,
            _ => {
                if expanded.fields.iter().any(|f| mentions_cargo_word(f)) {
                    scan.uninterpreted.push(note(
                        "calls cargo in a way cache-miss does not follow".into(),
                    ));
                } else if !UTILITIES.contains(&program.as_str()) {
                    scan.programs.push(program_run(command));
                }
                return;
            }
        };
        if args
            .first()
            .is_some_and(|sub| RUNS_A_PROGRAM.contains(&sub.as_str()))
        {
            scan.programs.push(program_run(command));
        }
        let mut env = self.exports.clone();
        env.extend(inline);
        let mut unknown: Vec<String> = expanded
            .unknown
            .iter()
            .map(|u| format!("`{}`", snippet(u)))
            .collect();
        unknown.extend(
            env.iter()
                .filter(|(name, value)| !value.known && matters_to_cargo(name))
                .map(|(name, _)| format!("the value of {name}")),
        );
        if !unknown.is_empty() {
            scan.uninterpreted.push(note(format!(
                "{} not known statically; left as written",
                describe_unknown(unknown)
            )));
        }
        let env = env
            .into_iter()
            .map(|(name, value)| (name, value.text))
            .collect();
        scan.calls.push(ShellCargoCall { args, env });
    }

    fn profile_value(&self) -> String {
        match self.vars.get("CARGO_PROFILE") {
            Some(value) if value.known => value.text.clone(),
            _ => self.profile.to_string(),
        }
    }

    /// `export A=b C`, `declare -x A=b`, `local a=b`, ...
    fn declare(&mut self, declaration: &str, words: &[Word]) {
        let mut export = declaration == "export";
        for word in words {
            if let Some(options) = word.keyword().filter(|w| w.starts_with('-')) {
                export |= options.contains('x');
                continue;
            }
            if assignment(word).is_some() {
                let (name, value) = self.assign_value(word);
                self.set_vars(BTreeMap::from([(name, value)]), export);
            } else if export {
                let name = word.text.clone();
                let value = self.value(&name).map_or_else(
                    || Val {
                        text: format!("${name}"),
                        known: false,
                    },
                    Val::known,
                );
                self.set_vars(BTreeMap::from([(name, value)]), true);
            }
        }
    }

    /// Assigns shell variables; exported ones (or ones already in the environment) that
    /// matter to cargo reach the cargo calls after.
    fn set_vars(&mut self, assignments: BTreeMap<String, Val>, export: bool) {
        for (name, value) in assignments {
            let exported =
                export || self.exports.contains_key(&name) || (self.lookup)(&name).is_some();
            if exported && matters_to_cargo(&name) {
                self.exports.insert(name.clone(), value.clone());
            }
            self.vars.insert(name, value);
        }
    }

    /// The name and the expanded value of an assignment word (`NAME=value`, no field
    /// splitting).
    fn assign_value(&self, word: &Word) -> (String, Val) {
        let (name, value) = assignment(word).unwrap_or_default();
        let expanded = self.expand_parts(&value, false);
        let value = Val {
            text: expanded.fields.concat(),
            known: expanded.unknown.is_empty(),
        };
        (name, value)
    }

    /// A variable's value, when known statically.
    fn value(&self, name: &str) -> Option<String> {
        match self.vars.get(name) {
            Some(value) => value.known.then(|| value.text.clone()),
            None => (self.lookup)(name),
        }
    }

    fn expand(&self, word: &Word) -> Expanded {
        self.expand_parts(&word.parts, true)
    }

    /// Expands parts into fields; unquoted expansions split at whitespace when `split`.
    fn expand_parts(&self, parts: &[Part], split: bool) -> Expanded {
        let mut fields = Fields::default();
        let mut unknown = Vec::new();
        for part in parts {
            match part {
                Part::Lit(text) => fields.push(text),
                Part::Param {
                    name,
                    default,
                    quoted,
                    text,
                } => match self.value(name).or_else(|| default.clone()) {
                    Some(value) if *quoted || !split => fields.push(&value),
                    Some(value) => fields.push_split(&value),
                    None => {
                        unknown.push(text.clone());
                        fields.push(text);
                    }
                },
                Part::Alternative {
                    name,
                    colon,
                    parts,
                    quoted,
                    text,
                } => match self.value(name) {
                    Some(value) if value.is_empty() && *colon => {}
                    Some(_) => {
                        let inner = self.expand_parts(parts, false);
                        unknown.extend(inner.unknown);
                        let value = inner.fields.concat();
                        if *quoted || !split {
                            fields.push(&value);
                        } else {
                            fields.push_split(&value);
                        }
                    }
                    None => {
                        unknown.push(text.clone());
                        fields.push(text);
                    }
                },
                Part::Opaque { text } => {
                    unknown.push(text.clone());
                    fields.push(text);
                }
            }
        }
        Expanded {
            fields: fields.finish(),
            unknown,
        }
    }
}

/// Fields being built from a word's parts.
#[derive(Default)]
struct Fields {
    done: Vec<String>,
    current: Option<String>,
}

impl Fields {
    fn push(&mut self, text: &str) {
        self.current.get_or_insert_with(String::new).push_str(text);
    }

    /// An unquoted expansion: whitespace separates fields.
    fn push_split(&mut self, value: &str) {
        if value.starts_with(char::is_whitespace) {
            self.end();
        }
        for (n, piece) in value.split_whitespace().enumerate() {
            if n > 0 {
                self.end();
            }
            self.push(piece);
        }
        if value.ends_with(char::is_whitespace) {
            self.end();
        }
    }

    fn end(&mut self) {
        self.done.extend(self.current.take());
    }

    fn finish(mut self) -> Vec<String> {
        self.end();
        self.done
    }
}

/// `NAME=value`: the name and the parts of the value.
fn assignment(word: &Word) -> Option<(String, Vec<Part>)> {
    let Some(Part::Lit(first)) = word.parts.first() else {
        return None;
    };
    let (name, value) = first.split_once('=')?;
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid || word.text.split_once('=').map(|(n, _)| n) != Some(name) {
        return None;
    }
    let mut parts = vec![Part::Lit(value.to_string())];
    parts.extend(word.parts[1..].iter().cloned());
    Some((name.to_string(), parts))
}

fn strip_leading_keywords(words: &[Word]) -> &[Word] {
    let n = words
        .iter()
        .take_while(|w| w.keyword().is_some_and(|k| LEADING_KEYWORDS.contains(&k)))
        .count();
    &words[n..]
}

/// The index of the `done` that closes the `for` at `start` (or the end of the text).
fn matching_done(commands: &[Command], start: usize) -> usize {
    let mut depth = 0;
    for (i, command) in commands.iter().enumerate().skip(start + 1) {
        let leading =
            &command.words[..command.words.len() - strip_leading_keywords(&command.words).len()];
        depth += leading.iter().filter(|w| w.keyword() == Some("do")).count();
        let first = strip_leading_keywords(&command.words)
            .first()
            .and_then(Word::keyword);
        if first == Some("done") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return i;
            }
        }
    }
    commands.len()
}

/// crane's `cargoWithProfile`: `release` → `--release`, another name → `--profile NAME`,
/// empty → nothing, inserted after the subcommand.
pub(crate) fn with_profile(mut args: Vec<String>, profile: &str) -> Vec<String> {
    let at = args.len().min(1);
    let flags: Vec<String> = match profile {
        "" => vec![],
        "release" => vec!["--release".into()],
        other => vec!["--profile".into(), other.into()],
    };
    args.splice(at..at, flags);
    args
}

/// `` `$X` is `` / `` `$X`, `$(y)` are ``, each named once.
fn describe_unknown(mut unknown: Vec<String>) -> String {
    let mut seen = std::collections::BTreeSet::new();
    unknown.retain(|u| seen.insert(u.clone()));
    if unknown.len() == 1 {
        format!("{} is", unknown[0])
    } else {
        format!("{} are", unknown.join(", "))
    }
}

/// Whether cargo reads the variable in a way that can change units or fingerprints.
fn matters_to_cargo(name: &str) -> bool {
    name.starts_with("RUST")
        || [
            "CARGO_BUILD_",
            "CARGO_PROFILE_",
            "CARGO_ENCODED_",
            "CARGO_UNSTABLE_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        || (name.starts_with("CARGO_TARGET_") && name != "CARGO_TARGET_DIR")
}

/// Whether source text names cargo as a word.
fn mentions_cargo(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == "cargo" || word == "cargoWithProfile")
}

/// Whether an argument of another command is cargo or a command line starting with it
/// (`xargs cargo build`, `sh -c "cargo build"`).
fn mentions_cargo_word(field: &str) -> bool {
    let first = field.split_whitespace().next().unwrap_or_default();
    first == "cargo" || first == "cargoWithProfile" || first.ends_with("/cargo")
}

/// Text for a message: whitespace collapsed, at most 60 characters.
fn snippet(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests;
