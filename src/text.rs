//! Text from untrusted input made safe to show: control characters (terminal escapes,
//! NUL, carriage returns, bidirectional overrides) written as visible escapes, and long
//! values cut to a readable length.

// Text from the user's files is indexed only through `get`: never a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::borrow::Cow;

/// Whether `c` would act on a terminal or an editor instead of showing: ASCII and C1
/// controls, line and paragraph separators, and bidirectional formatting characters.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` on one line with every unsafe character (newlines included) escaped: `\n`,
/// `\r`, `\t`, `\0`, `\u{1b}`.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` with every unsafe character escaped except the newlines that separate its lines.
pub fn lines(text: &str) -> Cow<'_, str> {
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

/// How many characters of a value an error message shows.
const SHOWN_CHARS: usize = 60;

/// A value to echo in an error message: itself (escaped) when short, else its size and
/// how it starts, e.g. `a 52,428,800-byte string starting "aaaa…"`.
pub fn echo(value: &str) -> String {
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
pub fn thousands(n: usize) -> String {
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
