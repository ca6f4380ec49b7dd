//! Splits shell text into simple commands made of words, the way a POSIX shell reads
//! them: quotes (also across lines), `\` escapes and line continuations, comments (`#`
//! starting a word), the operators `;` `&&` `||` `|` `&` `(` `)`, redirections (dropped
//! with their targets) and here-documents (skipped). Expansions are kept as parts of a
//! word so they can be resolved later against the variables known at that point.
//!
//! A line that cannot be read (a quote or `$(` that never closes) is reported by its line
//! number and skipped; reading resumes on the next line.

/// A piece of a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    /// Literal text (unquoted, escaped or quoted); never split into fields.
    Lit(String),
    /// `$NAME`, `${NAME}` or `${NAME:-default}` / `${NAME-default}`.
    Param {
        name: String,
        default: Option<String>,
        quoted: bool,
        text: String,
    },
    /// `${NAME:+alternative}` (the alternative when NAME is set and not empty) or
    /// `${NAME+alternative}` (when NAME is set); the alternative is literal text and
    /// `$NAME` references.
    Alternative {
        name: String,
        /// `:+`: an empty value counts as unset.
        colon: bool,
        parts: Vec<Part>,
        quoted: bool,
        text: String,
    },
    /// An expansion that cannot be known statically: `$(…)`, `` `…` ``, `$1`, `${#x}`, ...
    Opaque { text: String },
}

/// One shell word: its parts and the source text it was read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Word {
    pub parts: Vec<Part>,
    pub text: String,
    /// Whether any part of the word was quoted or escaped (so it is never a keyword).
    pub quoted: bool,
}

impl Word {
    /// The word as an unquoted literal (`if`, `done`, `export`), if it is one.
    pub(super) fn keyword(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Lit(text)] if !self.quoted => Some(text),
            _ => None,
        }
    }

    fn push_lit(&mut self, c: char) {
        if let Some(Part::Lit(text)) = self.parts.last_mut() {
            text.push(c);
        } else {
            self.parts.push(Part::Lit(c.to_string()));
        }
    }
}

/// A simple command: its words (redirections removed), the line it starts on (1-based)
/// and its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Command {
    pub words: Vec<Word>,
    pub line: usize,
    pub text: String,
}

/// A line that could not be read: its number, its text and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LexError {
    pub line: usize,
    pub text: String,
    pub why: &'static str,
}

#[derive(Debug, Default)]
pub(super) struct Lexed {
    pub commands: Vec<Command>,
    pub errors: Vec<LexError>,
}

/// Reads `text` into simple commands.
pub(super) fn lex(text: &str) -> Lexed {
    let mut lexer = Lexer::new(text);
    lexer.run();
    lexer.out
}

struct Lexer {
    chars: Vec<char>,
    /// Char index where each line starts.
    line_starts: Vec<usize>,
    i: usize,
    line: usize,
    out: Lexed,
    words: Vec<Word>,
    word: Option<Word>,
    /// Char index and line where the current command started.
    start: Option<(usize, usize)>,
    /// The next word is a redirection target (dropped); `Some(strip)` when it is a
    /// here-document delimiter (`<<-` strips leading tabs).
    target: Option<Option<bool>>,
    heredocs: Vec<(String, bool)>,
}

type Step = Result<(), (usize, &'static str)>;

impl Lexer {
    fn new(text: &str) -> Lexer {
        let chars: Vec<char> = text.chars().collect();
        let mut line_starts = vec![0];
        line_starts.extend(
            chars
                .iter()
                .enumerate()
                .filter(|(_, c)| **c == '\n')
                .map(|(i, _)| i + 1),
        );
        Lexer {
            chars,
            line_starts,
            i: 0,
            line: 1,
            out: Lexed::default(),
            words: Vec::new(),
            word: None,
            start: None,
            target: None,
            heredocs: Vec::new(),
        }
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn run(&mut self) {
        while self.i < self.chars.len() {
            if let Err((line, why)) = self.step() {
                self.recover(line, why);
            }
        }
        self.end_command();
    }

    /// Forgets the command being read, reports `line` and resumes after it.
    fn recover(&mut self, line: usize, why: &'static str) {
        let text = self.line_text(line);
        self.out.errors.push(LexError { line, text, why });
        self.words.clear();
        self.word = None;
        self.start = None;
        self.target = None;
        self.heredocs.clear();
        self.i = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.chars.len());
        self.line = line + 1;
    }

    fn line_text(&self, line: usize) -> String {
        let from = self.line_starts[line - 1];
        let to = self
            .line_starts
            .get(line)
            .map_or(self.chars.len(), |next| next - 1);
        self.chars[from..to]
            .iter()
            .collect::<String>()
            .trim()
            .to_string()
    }

    fn step(&mut self) -> Step {
        let c = self.chars[self.i];
        match c {
            '\\' => self.escape(),
            '\'' => self.single_quote()?,
            '"' => self.double_quote()?,
            '$' | '`' => {
                let part = self.expansion(false)?;
                self.word_mut().parts.push(part);
            }
            '#' if self.word.is_none() => self.comment(),
            ' ' | '\t' | '\r' => {
                self.finish_word();
                self.i += 1;
            }
            '\n' => {
                self.end_command();
                self.i += 1;
                self.line += 1;
                self.skip_heredocs();
            }
            '<' | '>' => self.redirection(),
            '&' if self.peek(1) == Some('>') => {
                self.finish_word();
                self.i += 1;
                self.redirection();
            }
            ';' | '&' | '|' | '(' | ')' => {
                self.end_command();
                self.i += 1;
            }
            _ => {
                self.word_mut().push_lit(c);
                self.i += 1;
            }
        }
        Ok(())
    }

    fn word_mut(&mut self) -> &mut Word {
        if self.start.is_none() {
            self.start = Some((self.i, self.line));
        }
        self.word.get_or_insert_with(Word::default)
    }

    fn escape(&mut self) {
        match self.peek(1) {
            Some('\n') => {
                self.i += 2;
                self.line += 1;
            }
            Some(next) => {
                let word = self.word_mut();
                word.quoted = true;
                word.push_lit(next);
                self.i += 2;
            }
            None => self.i += 1,
        }
    }

    fn comment(&mut self) {
        while self.i < self.chars.len() && self.chars[self.i] != '\n' {
            self.i += 1;
        }
    }

    fn single_quote(&mut self) -> Step {
        let line = self.line;
        let from = self.i + 1;
        let Some(len) = self.chars[from..].iter().position(|&c| c == '\'') else {
            return Err((line, "a single quote that is never closed"));
        };
        let content: String = self.chars[from..from + len].iter().collect();
        self.line += content.matches('\n').count();
        self.i = from + len + 1;
        let word = self.word_mut();
        word.quoted = true;
        word.parts.push(Part::Lit(content));
        Ok(())
    }

    fn double_quote(&mut self) -> Step {
        let line = self.line;
        self.word_mut().quoted = true;
        // An empty "" still makes a word.
        self.word_mut().parts.push(Part::Lit(String::new()));
        self.i += 1;
        loop {
            let Some(c) = self.peek(0) else {
                return Err((line, "a double quote that is never closed"));
            };
            match c {
                '"' => {
                    self.i += 1;
                    return Ok(());
                }
                '\\' => match self.peek(1) {
                    Some('\n') => {
                        self.i += 2;
                        self.line += 1;
                    }
                    Some(next @ ('$' | '`' | '"' | '\\')) => {
                        self.word_mut().push_lit(next);
                        self.i += 2;
                    }
                    _ => {
                        self.word_mut().push_lit('\\');
                        self.i += 1;
                    }
                },
                '$' | '`' => {
                    let part = self.expansion(true)?;
                    self.word_mut().parts.push(part);
                }
                _ => {
                    if c == '\n' {
                        self.line += 1;
                    }
                    self.word_mut().push_lit(c);
                    self.i += 1;
                }
            }
        }
    }

    /// Reads the expansion at `self.i` (`$…` or a backquote).
    fn expansion(&mut self, quoted: bool) -> Result<Part, (usize, &'static str)> {
        let line = self.line;
        let start = self.i;
        let opaque = |lexer: &Lexer, end: usize| Part::Opaque {
            text: lexer.chars[start..end].iter().collect(),
        };
        if self.chars[start] == '`' {
            let end = self.closing(start + 1, '`', '`', line)?;
            self.advance_to(end + 1);
            return Ok(opaque(self, end + 1));
        }
        match self.peek(1) {
            Some('(') => {
                let end = self.closing(start + 2, '(', ')', line)?;
                self.advance_to(end + 1);
                Ok(opaque(self, end + 1))
            }
            Some('{') => {
                let end = self.closing(start + 2, '{', '}', line)?;
                self.advance_to(end + 1);
                let inner: String = self.chars[start + 2..end].iter().collect();
                let text: String = self.chars[start..end + 1].iter().collect();
                Ok(braced_param(&inner, quoted, text))
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let len = self.chars[start + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                self.i = start + 1 + len;
                let name: String = self.chars[start + 1..self.i].iter().collect();
                Ok(Part::Param {
                    text: format!("${name}"),
                    name,
                    default: None,
                    quoted,
                })
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                self.i = start + 2;
                Ok(opaque(self, start + 2))
            }
            _ => {
                self.i = start + 1;
                Ok(Part::Lit("$".into()))
            }
        }
    }

    /// The index of the `close` that ends a group opened before `from`, skipping quoted
    /// text and nested `open`s.
    fn closing(
        &self,
        from: usize,
        open: char,
        close: char,
        line: usize,
    ) -> Result<usize, (usize, &'static str)> {
        let mut depth = 0;
        let mut quote: Option<char> = None;
        let mut i = from;
        while let Some(&c) = self.chars.get(i) {
            match (quote, c) {
                (Some(q), _) if c == q => quote = None,
                (Some('"') | None, '\\') => i += 1,
                (Some(_), _) => {}
                (None, _) if c == close && depth == 0 => return Ok(i),
                (None, '\'' | '"') if open != '`' => quote = Some(c),
                (None, _) if c == open && open != close => depth += 1,
                (None, _) if c == close => depth -= 1,
                (None, _) => {}
            }
            i += 1;
        }
        Err((line, "an expansion that is never closed"))
    }

    fn advance_to(&mut self, end: usize) {
        self.line += self.chars[self.i..end]
            .iter()
            .filter(|c| **c == '\n')
            .count();
        self.i = end;
    }

    /// `>`, `>>`, `<`, `2>&1`, `&>`, `<<EOF`, `<<<`: the redirection is dropped and its
    /// target word with it.
    fn redirection(&mut self) {
        let fd_prefix = self
            .word
            .as_ref()
            .is_some_and(|w| !w.quoted && w.text_is_digits());
        if fd_prefix {
            self.word = None;
        } else {
            self.finish_word();
        }
        if self.start.is_none() {
            self.start = Some((self.i, self.line));
        }
        let first = self.chars[self.i];
        self.i += 1;
        if first == '<' && self.peek(0) == Some('<') {
            self.i += 1;
            if self.peek(0) == Some('<') {
                self.i += 1;
                self.target = Some(None);
            } else {
                let strip = self.peek(0) == Some('-');
                if strip {
                    self.i += 1;
                }
                self.target = Some(Some(strip));
            }
            return;
        }
        while matches!(self.peek(0), Some('>' | '|')) {
            self.i += 1;
        }
        if self.peek(0) == Some('&') {
            self.i += 1;
            let fd = self.chars[self.i..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == '-')
                .count();
            self.i += fd;
            if fd > 0 {
                return;
            }
        }
        self.target = Some(None);
    }

    fn finish_word(&mut self) {
        let Some(mut word) = self.word.take() else {
            return;
        };
        word.text = word_text(&word);
        match self.target.take() {
            Some(Some(strip)) => self
                .heredocs
                .push((word.text.replace(['\'', '"'], ""), strip)),
            Some(None) => {}
            None => self.words.push(word),
        }
    }

    fn end_command(&mut self) {
        self.finish_word();
        let Some((from, line)) = self.start.take() else {
            return;
        };
        if self.words.is_empty() {
            return;
        }
        let text: String = self.chars[from..self.i.min(self.chars.len())]
            .iter()
            .collect();
        self.out.commands.push(Command {
            words: std::mem::take(&mut self.words),
            line,
            text: text.trim().to_string(),
        });
    }

    /// After a newline: skips the bodies of the here-documents opened on the line.
    fn skip_heredocs(&mut self) {
        for (delimiter, strip) in std::mem::take(&mut self.heredocs) {
            while self.i < self.chars.len() {
                let end = self.chars[self.i..]
                    .iter()
                    .position(|c| *c == '\n')
                    .map_or(self.chars.len(), |n| self.i + n);
                let line: String = self.chars[self.i..end].iter().collect();
                let line = if strip {
                    line.trim_start_matches('\t')
                } else {
                    &line
                };
                let done = line == delimiter;
                self.i = (end + 1).min(self.chars.len());
                self.line += 1;
                if done {
                    break;
                }
            }
        }
    }
}

impl Word {
    fn text_is_digits(&self) -> bool {
        matches!(self.parts.as_slice(), [Part::Lit(t)] if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()))
    }
}

/// The word as written, for messages: literals as they are, expansions as their source.
fn word_text(word: &Word) -> String {
    word.parts
        .iter()
        .map(|part| match part {
            Part::Lit(text) => text.as_str(),
            Part::Param { text, .. } | Part::Alternative { text, .. } | Part::Opaque { text } => {
                text.as_str()
            }
        })
        .collect()
}

/// `${NAME:+alternative}` / `${NAME+alternative}` when `rest` starts so; an alternative
/// with anything but literal text and `$NAME`s is opaque.
fn alternative(name: &str, rest: &str, quoted: bool, text: &str) -> Option<Part> {
    let (colon, alternative) = match rest.strip_prefix(":+") {
        Some(alternative) => (true, alternative),
        None => (false, rest.strip_prefix('+')?),
    };
    let opaque = || Part::Opaque {
        text: text.to_string(),
    };
    if alternative.contains(['`', '\'', '"', '\\', '{', '(']) {
        return Some(opaque());
    }
    let mut parts = Vec::new();
    for (n, piece) in alternative.split('$').enumerate() {
        if n == 0 {
            if !piece.is_empty() {
                parts.push(Part::Lit(piece.to_string()));
            }
            continue;
        }
        let len = piece
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(piece.len());
        let (reference, literal) = piece.split_at(len);
        if reference.is_empty() || reference.starts_with(|c: char| c.is_ascii_digit()) {
            return Some(opaque());
        }
        parts.push(Part::Param {
            name: reference.to_string(),
            default: None,
            quoted: false,
            text: format!("${reference}"),
        });
        if !literal.is_empty() {
            parts.push(Part::Lit(literal.to_string()));
        }
    }
    Some(Part::Alternative {
        name: name.to_string(),
        colon,
        parts,
        quoted,
        text: text.to_string(),
    })
}

/// `${NAME}`, `${NAME:-default}`, `${NAME-default}`; anything else is opaque.
fn braced_param(inner: &str, quoted: bool, text: String) -> Part {
    let is_name = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let rest = inner.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let (name, default) = if rest.is_empty() {
        (inner, None)
    } else {
        let name = inner.strip_suffix(rest).unwrap_or_default();
        if let Some(part) = alternative(name, rest, quoted, &text) {
            return part;
        }
        let default = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-'));
        match default {
            Some(d) if !d.contains(['$', '`', '\'', '"', '\\']) => (name, Some(d.to_string())),
            _ => return Part::Opaque { text },
        }
    };
    if is_name(name) {
        Part::Param {
            name: name.to_string(),
            default,
            quoted,
            text,
        }
    } else {
        Part::Opaque { text }
    }
}
