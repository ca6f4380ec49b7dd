//! Finds the `cargo` / `cargoWithProfile` calls in crane's shell snippets
//! (`buildPhaseCargoCommand`, `checkPhaseCargoCommand`, `cargoBuildCommand`, ...).
//!
//! This is not a shell: it understands the shapes crane and its users write
//! (one command per line or joined by `;`/`&&`/`|`, `VAR=value` prefixes,
//! redirections, `$VAR` of known variables) and says plainly what it skipped.

use std::collections::BTreeMap;

/// A cargo call found in shell text, with crane's `cargoWithProfile` already expanded.
/// Produced by [`find_cargo_calls`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCargoCall {
    /// Arguments after `cargo`, e.g. `["build", "--release", "--locked"]`.
    pub args: Vec<String>,
    /// `VAR=value` assignments written before the command.
    pub env: BTreeMap<String, String>,
}

/// What [`find_cargo_calls`] found in one snippet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellScan {
    pub calls: Vec<ShellCargoCall>,
    /// Human-readable notes about text that mentions cargo but could not be interpreted.
    pub uninterpreted: Vec<String>,
}

/// Commands that only wrap the command after them.
const WRAPPERS: &[&str] = &["time", "nice", "exec", "command", "env"];

/// Scans `text` for cargo calls. `var` resolves shell variables (`$CARGO_PROFILE`, phase
/// environment); `profile` is crane's `CARGO_PROFILE` for `cargoWithProfile`.
pub fn find_cargo_calls(
    text: &str,
    profile: &str,
    var: &dyn Fn(&str) -> Option<String>,
) -> ShellScan {
    let mut scan = ShellScan::default();
    for command in split_commands(&text.replace("\\\n", " ")) {
        let command = command.trim();
        if command.is_empty() || command.starts_with('#') {
            continue;
        }
        let (expanded, unknown_vars) = expand_variables(command, var);
        let tokens = match shell_words::split(&expanded) {
            Ok(tokens) => tokens,
            Err(err) => {
                if mentions_cargo(command) {
                    scan.uninterpreted.push(format!("`{command}`: {err}"));
                }
                continue;
            }
        };
        match interpret(tokens, profile) {
            Interpretation::Cargo(call) => {
                // Only variables left in the arguments matter (not redirection targets).
                for name in unknown_vars
                    .iter()
                    .filter(|name| uses_variable(&call.args, name))
                {
                    scan.uninterpreted.push(format!(
                        "`{command}`: ${name} is not known statically and was left as written"
                    ));
                }
                scan.calls.push(call);
            }
            Interpretation::Other if mentions_cargo(command) => scan.uninterpreted.push(format!(
                "`{command}`: calls cargo in a way cache-miss does not follow"
            )),
            Interpretation::Other | Interpretation::Nothing => {}
        }
    }
    scan
}

enum Interpretation {
    Cargo(ShellCargoCall),
    Other,
    Nothing,
}

fn interpret(tokens: Vec<String>, profile: &str) -> Interpretation {
    let mut env = BTreeMap::new();
    let mut rest = tokens.into_iter().peekable();
    loop {
        match rest.peek() {
            Some(token) if is_assignment(token) => {
                if let Some((name, value)) = token.split_once('=') {
                    env.insert(name.to_string(), value.to_string());
                }
                rest.next();
            }
            Some(token) if WRAPPERS.contains(&token.as_str()) => {
                rest.next();
            }
            _ => break,
        }
    }
    let Some(program) = rest.next() else {
        return Interpretation::Nothing;
    };
    let args = strip_redirections(rest.collect());
    let args = match program.as_str() {
        "cargo" => args,
        "cargoWithProfile" => with_profile(args, profile),
        _ => return Interpretation::Other,
    };
    Interpretation::Cargo(ShellCargoCall { args, env })
}

/// crane's `cargoWithProfile`: `release` → `--release`, another name → `--profile NAME`,
/// empty → nothing, inserted after the subcommand.
pub fn with_profile(mut args: Vec<String>, profile: &str) -> Vec<String> {
    let at = args.len().min(1);
    let flags: Vec<String> = match profile {
        "" => vec![],
        "release" => vec!["--release".into()],
        other => vec!["--profile".into(), other.into()],
    };
    args.splice(at..at, flags);
    args
}

fn uses_variable(args: &[String], name: &str) -> bool {
    let (plain, braced) = (format!("${name}"), format!("${{{name}}}"));
    args.iter().any(|arg| {
        arg.contains(&braced)
            || arg
                .split(&plain)
                .skip(1)
                .any(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    })
}

fn is_assignment(token: &str) -> bool {
    match token.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

fn mentions_cargo(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == "cargo" || word == "cargoWithProfile")
}

fn strip_redirections(tokens: Vec<String>) -> Vec<String> {
    let mut kept = Vec::with_capacity(tokens.len());
    let mut skip_next = false;
    for token in tokens {
        if skip_next {
            skip_next = false;
            continue;
        }
        let body = token.trim_start_matches(|c: char| c.is_ascii_digit() || c == '&');
        if body.starts_with('>') || body.starts_with('<') {
            // `> file` puts the target in the next token; `>file` and `2>&1` carry it.
            skip_next = body.trim_start_matches(['>', '<']).is_empty();
            continue;
        }
        kept.push(token);
    }
    kept
}

/// Splits shell text into simple commands at unquoted newlines, `;`, `&&`, `||`, `|`, `&`,
/// and grouping parentheses/braces.
fn split_commands(text: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some('"'), '\\') => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (Some(_), _) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (None, '\\') => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (None, '$') if chars.peek() == Some(&'(') => {
                // Command substitution: keep it whole inside the current command.
                current.push(c);
                let mut depth = 0;
                for inner in chars.by_ref() {
                    current.push(inner);
                    match inner {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            (None, '>' | '<') if chars.peek() == Some(&'&') => {
                // `2>&1`: a redirection, not a background `&`.
                current.push(c);
                current.push('&');
                chars.next();
            }
            (None, '\n' | ';' | '&' | '|' | '(' | ')' | '{' | '}') => {
                commands.push(std::mem::take(&mut current));
            }
            (None, _) => current.push(c),
        }
    }
    commands.push(current);
    commands
}

/// Replaces `$NAME` and `${NAME}` by their values where `var` knows them.
/// Returns the text and the names it could not resolve.
fn expand_variables(text: &str, var: &dyn Fn(&str) -> Option<String>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut unknown = Vec::new();
    let mut in_single_quote = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            in_single_quote = !in_single_quote;
        }
        if c != '$' || in_single_quote {
            out.push(c);
            continue;
        }
        let rest = &text[i + 1..];
        let (name, consumed) = if let Some(braced) = rest.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], end)
        };
        let simple = !name.is_empty()
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        match (simple, simple.then(|| var(name)).flatten()) {
            (true, Some(value)) => out.push_str(&value),
            _ => {
                if consumed > 0 {
                    unknown.push(name.to_string());
                }
                out.push('$');
                out.push_str(&rest[..consumed]);
            }
        }
        for _ in 0..consumed {
            chars.next();
        }
    }
    (out, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_vars(_: &str) -> Option<String> {
        None
    }

    fn calls(text: &str) -> Vec<Vec<String>> {
        find_cargo_calls(text, "release", &no_vars)
            .calls
            .into_iter()
            .map(|c| c.args)
            .collect()
    }

    #[test]
    fn crane_build_package_text() {
        let text = "cargoBuildLog=$(mktemp cargoBuildLogXXXX.json)\n\
                    cargoWithProfile build --message-format json-render-diagnostics --locked -p cli >\"$cargoBuildLog\"\n";
        assert_eq!(
            calls(text),
            vec![vec![
                "build",
                "--release",
                "--message-format",
                "json-render-diagnostics",
                "--locked",
                "-p",
                "cli"
            ]]
        );
    }

    #[test]
    fn profile_flag_forms() {
        let custom = find_cargo_calls("cargoWithProfile check --locked", "ci", &no_vars);
        assert_eq!(
            custom.calls[0].args,
            ["check", "--profile", "ci", "--locked"]
        );
        let none = find_cargo_calls("cargoWithProfile check", "", &no_vars);
        assert_eq!(none.calls[0].args, ["check"]);
    }

    #[test]
    fn joined_commands_env_prefix_and_continuations() {
        let text = "set -x; RUSTFLAGS='--cfg x' cargo build \\\n  --workspace && cargo test --no-run 2>&1 | tee log";
        let scan = find_cargo_calls(text, "release", &no_vars);
        assert_eq!(scan.calls.len(), 2);
        assert_eq!(scan.calls[0].args, ["build", "--workspace"]);
        assert_eq!(scan.calls[0].env["RUSTFLAGS"], "--cfg x");
        assert_eq!(scan.calls[1].args, ["test", "--no-run"]);
        assert!(scan.uninterpreted.is_empty());
    }

    #[test]
    fn known_and_unknown_variables() {
        let vars = |name: &str| (name == "CARGO_PROFILE").then(|| "ci".to_string());
        let scan = find_cargo_calls("cargo build --profile $CARGO_PROFILE $EXTRA", "ci", &vars);
        assert_eq!(scan.calls[0].args, ["build", "--profile", "ci", "$EXTRA"]);
        assert_eq!(scan.uninterpreted.len(), 1);
        assert!(scan.uninterpreted[0].contains("$EXTRA"));
    }

    #[test]
    fn cargo_in_unfollowed_position_is_reported() {
        let scan = find_cargo_calls("echo hi\nxargs cargo build", "release", &no_vars);
        assert!(scan.calls.is_empty());
        assert_eq!(scan.uninterpreted.len(), 1);
    }

    #[test]
    fn unbalanced_quote_is_reported_not_panicked() {
        let scan = find_cargo_calls("cargo build --features 'a b", "release", &no_vars);
        assert!(scan.calls.is_empty());
        assert_eq!(scan.uninterpreted.len(), 1);
    }
}
