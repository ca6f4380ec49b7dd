//! Text from untrusted input made safe to show, for each place it is shown:
//!
//! - a terminal: control characters (terminal escapes, NUL, carriage returns,
//!   bidirectional overrides) written as visible escapes ([`one_line`], [`lines`]);
//! - a CI log: no line the GitHub Actions runner reads as a workflow command
//!   ([`log_line`], [`log_lines`]); the `--format github` output also wraps its human part
//!   in `::stop-commands::` (see `report::github`);
//! - markdown and HTML: every character that could start markup written as an entity
//!   ([`markdown`]), so that no code span, tag, link or table cell boundary comes from it.
//!
//! Long values are cut to a readable length ([`echo`]).

// Text from the user's files is indexed only through `get`: never a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::borrow::Cow;

/// `bytes` as text: borrowed when they are UTF-8 (checked on the fast path, as cargo's
/// answers always are), else with each invalid sequence replaced.
pub(crate) fn utf8(bytes: &[u8]) -> Cow<'_, str> {
    std::str::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed)
}

/// Whether `c` would act on a terminal or an editor instead of showing: ASCII and C1
/// controls, line and paragraph separators, and bidirectional formatting characters.
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` on one line with every unsafe character (newlines included) escaped: `\n`,
/// `\r`, `\t`, `\0`, `\u{1b}`.
pub(crate) fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` with every unsafe character escaped except the newlines that separate its lines.
pub(crate) fn lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let keep = |c: char| !is_unsafe(c) || (keep_newlines && c == '\n');
    if text.chars().all(keep) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            _ if keep(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// A path to show: [`one_line`], with each byte that is not UTF-8 written `\xNN` (a file
/// name need not be text; two names never show alike unless they are alike).
pub(crate) fn path(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for chunk in path.as_os_str().as_bytes().utf8_chunks() {
        out.push_str(&one_line(chunk.valid()));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// `line` as a CI log line the Actions runner runs no command from: the runner reads a
/// line whose start (after whitespace) is `::` as a command, and `##[` anywhere in a line
/// as a legacy one. A leading `::` gets a `\` before it and `##[` becomes `##\[`.
pub(crate) fn log_line(line: &str) -> Cow<'_, str> {
    let leading_command = line.trim_start().starts_with("::");
    if !leading_command && !line.contains("##[") {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 4);
    if leading_command {
        let command = line.trim_start();
        out.push_str(line.strip_suffix(command).unwrap_or_default());
        out.push('\\');
        out.push_str(&command.replace("##[", "##\\["));
    } else {
        out.push_str(&line.replace("##[", "##\\["));
    }
    Cow::Owned(out)
}

/// [`log_line`] for every line of `text`.
pub(crate) fn log_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in text.split_inclusive('\n') {
        let (line, end) = match piece.strip_suffix('\n') {
            Some(line) => (line, "\n"),
            None => (piece, ""),
        };
        out.push_str(&log_line(line));
        out.push_str(end);
    }
    out
}

/// `text` for a terminal that may be a CI log (stderr): [`lines`], then [`log_lines`].
pub fn terminal(text: &str) -> String {
    log_lines(&lines(text))
}

/// `text` for a markdown cell, heading, `<summary>` or line: control characters escaped
/// as on a terminal, line breaks as `<br>`, and every character that starts markup (`<`,
/// `>`, `&`, `|`, backticks, the `[` of links and images) as an HTML entity. Code spans
/// are never relied on: the text holds no live backtick. A `\` stays: before an entity
/// it only shows the entity's text.
pub(crate) fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        for c in one_line(line).chars() {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '|' | '`' | '[' => out.push_str(&format!("&#{};", c as u32)),
                _ => out.push(c),
            }
        }
    }
    out
}

/// A token no input can guess, for `::stop-commands::` (128 random bits, hex).
pub(crate) fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    format!("cache-miss-{:016x}{:016x}", half(), half())
}

/// How many characters of a value an error message shows.
const SHOWN_CHARS: usize = 60;

/// A value to echo in an error message: itself (escaped) when short, else its size and
/// how it starts, e.g. `a 52,428,800-byte string starting "aaaa…"`.
pub(crate) fn echo(value: &str) -> String {
    if value.chars().nth(SHOWN_CHARS).is_none() {
        return format!("`{}`", one_line(value));
    }
    let start: String = value.chars().take(SHOWN_CHARS).collect();
    format!(
        "a {}-byte string starting `{}…`",
        thousands(value.len()),
        one_line(&start)
    )
}

/// `52428800` → `52,428,800`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible() {
        assert_eq!(one_line("a\x1b]0;title\x07b"), "a\\u{1b}]0;title\\u{7}b");
        assert_eq!(one_line("x\n  evil = true; #"), "x\\n  evil = true; #");
        assert_eq!(one_line("nul\0cr\r"), "nul\\0cr\\r");
        assert_eq!(lines("a\nb\x1b[31m"), "a\nb\\u{1b}[31m");
        assert_eq!(one_line("\u{202E}abc"), "\\u{202e}abc");
        assert!(matches!(one_line("plain — text"), Cow::Borrowed(_)));
    }

    #[test]
    fn paths_show_their_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"core/\xff\xc3\xa9\n.txt");
        assert_eq!(path(std::path::Path::new(name)), "core/\\xffé\\n.txt");
    }

    #[test]
    fn log_lines_start_no_workflow_command() {
        assert_eq!(
            log_line("::set-output name=a::b"),
            "\\::set-output name=a::b"
        );
        assert_eq!(log_line("  ::warning::x"), "  \\::warning::x");
        assert_eq!(
            log_line("│ x##[stop-commands]t │"),
            "│ x##\\[stop-commands]t │"
        );
        assert_eq!(log_line("###[x]"), "###\\[x]");
        assert!(matches!(log_line("a :: b # [c]"), Cow::Borrowed(_)));
        assert_eq!(log_lines("a\n::b\n"), "a\n\\::b\n");
    }

    #[test]
    fn markdown_text_holds_no_markup() {
        assert_eq!(
            markdown("a`<img src=x>`|b"),
            "a&#96;&lt;img src=x&gt;&#96;&#124;b"
        );
        assert_eq!(markdown("x\ny & z"), "x<br>y &amp; z");
        assert_eq!(
            markdown("![p](https://e/p.png)"),
            "!&#91;p](https://e/p.png)"
        );
        assert_eq!(markdown("\u{1b}[2J\\`"), "\\u{1b}&#91;2J\\&#96;");
        assert_eq!(markdown("plain-name 1.0"), "plain-name 1.0");
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), "cache-miss-".len() + 32);
    }

    #[test]
    fn long_values_are_cut_with_their_size() {
        assert_eq!(echo("deps"), "`deps`");
        let long = "a".repeat(52_428_800);
        let shown = echo(&long);
        assert!(
            shown.starts_with("a 52,428,800-byte string starting `aaaa"),
            "{shown}"
        );
        assert!(shown.len() < 120, "{shown}");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }
}
