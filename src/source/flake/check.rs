//! What Nix checks before it evaluates anything: syntax errors (said in plain words), and
//! variables defined nowhere (outside any `with`).

use rnix::ast::{self, HasEntry};
use rnix::{ParseError, SyntaxKind, SyntaxKind::*, SyntaxNode, TextSize};
use rowan::ast::AstNode;

/// A syntax error: where (a byte offset, when there is a meaningful one) and what.
pub(super) fn syntax_error(
    text: &str,
    root: &SyntaxNode,
    errors: &[ParseError],
) -> (Option<usize>, String) {
    // Too deep a nesting stops the parser, which then reports the rest of the file: that
    // error is the one to show, where the nesting got too deep.
    if errors
        .iter()
        .any(|e| matches!(e, ParseError::RecursionLimitExceeded))
    {
        let deepest = root
            .descendants()
            .filter(|node| node.kind() == NODE_ERROR)
            .max_by_key(|node| node.ancestors().count());
        let offset = deepest
            .map(|node| usize::from(node.text_range().start()))
            .filter(|offset| *offset < text.trim_end().len());
        return (offset, "nesting too deep".to_string());
    }
    let Some(error) = errors.first() else {
        return (None, "syntax error".to_string());
    };
    let got = |start: TextSize| found_at(root, start);
    match error {
        ParseError::Unexpected(range) => (
            Some(usize::from(range.start())),
            format!("unexpected {}", got(range.start())),
        ),
        ParseError::UnexpectedExtra(range) => (
            Some(usize::from(range.start())),
            format!(
                "unexpected {} after the end of the expression",
                got(range.start())
            ),
        ),
        ParseError::UnexpectedWanted(kind, range, wanted) => {
            let found = match found_at(root, range.start()) {
                text if kind_is_token(*kind) => text,
                _ => describe(*kind).to_string(),
            };
            (
                Some(usize::from(range.start())),
                format!("unexpected {found}, expected {}", describe_wanted(wanted)),
            )
        }
        ParseError::UnexpectedDoubleBind(range) => (
            Some(usize::from(range.start())),
            "the argument set is bound to a name twice (`@`)".to_string(),
        ),
        ParseError::DuplicatedArgs(range, name) => (
            Some(usize::from(range.start())),
            format!("argument `{name}` is duplicated"),
        ),
        ParseError::UnexpectedEOF => (Some(text.len()), "unexpected end of file".to_string()),
        ParseError::UnexpectedEOFWanted(wanted) => (
            Some(text.len()),
            format!(
                "unexpected end of file, expected {}",
                describe_wanted(wanted)
            ),
        ),
        other => (None, other.to_string()),
    }
}

/// Whether the parser's token kind is worth checking against the source text.
fn kind_is_token(kind: SyntaxKind) -> bool {
    (kind as u16) < (NODE_APPLY as u16)
}

/// The token at `offset`, as the user wrote it: `` `;` ``, ``name `foo` ``.
fn found_at(root: &SyntaxNode, offset: TextSize) -> String {
    let Some(token) = root.token_at_offset(offset).right_biased() else {
        return "end of file".to_string();
    };
    let text: String = token.text().chars().take(40).collect();
    match token.kind() {
        TOKEN_IDENT => format!("name `{text}`"),
        TOKEN_INTEGER | TOKEN_FLOAT => format!("number `{text}`"),
        TOKEN_PATH_ABS | TOKEN_PATH_HOME | TOKEN_PATH_REL | TOKEN_PATH_SEARCH => {
            format!("path `{text}`")
        }
        TOKEN_STRING_START => "a string".to_string(),
        TOKEN_STRING_CONTENT => "text".to_string(),
        TOKEN_ERROR => format!("`{text}`"),
        kind => describe(kind).to_string(),
    }
}

/// What the parser wanted, as a plain noun or the tokens' text.
fn describe_wanted(wanted: &[SyntaxKind]) -> String {
    let has = |kind| wanted.contains(&kind);
    if has(TOKEN_IDENT) && has(TOKEN_OR) {
        return "an attribute name".to_string();
    }
    if has(TOKEN_IDENT) && has(TOKEN_L_PAREN) && has(TOKEN_L_BRACE) {
        return "an expression".to_string();
    }
    if has(TOKEN_STRING_END) && has(TOKEN_STRING_CONTENT) {
        return "the end of the string".to_string();
    }
    if has(TOKEN_IDENT) && has(TOKEN_ELLIPSIS) {
        return "an argument name, `...` or `}`".to_string();
    }
    let words: Vec<&str> = wanted.iter().map(|kind| describe(*kind)).collect();
    match words.split_last() {
        None => "something else".to_string(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn describe(kind: SyntaxKind) -> &'static str {
    match kind {
        TOKEN_ADD => "`+`",
        TOKEN_AND_AND => "`&&`",
        TOKEN_ASSIGN => "`=`",
        TOKEN_ASSERT => "`assert`",
        TOKEN_AT => "`@`",
        TOKEN_COLON => "`:`",
        TOKEN_COMMA => "`,`",
        TOKEN_COMMENT => "a comment",
        TOKEN_CONCAT => "`++`",
        TOKEN_CUR_POS => "`__curPos`",
        TOKEN_DIV => "`/`",
        TOKEN_DOT => "`.`",
        TOKEN_ELLIPSIS => "`...`",
        TOKEN_ELSE => "`else`",
        TOKEN_EQUAL => "`==`",
        TOKEN_ERROR => "an unreadable character",
        TOKEN_FLOAT | TOKEN_INTEGER => "a number",
        TOKEN_IDENT => "a name",
        TOKEN_IF => "`if`",
        TOKEN_IMPLICATION => "`->`",
        TOKEN_IN => "`in`",
        TOKEN_INHERIT => "`inherit`",
        TOKEN_INTERPOL_END | TOKEN_R_BRACE => "`}`",
        TOKEN_INTERPOL_START => "`${`",
        TOKEN_INVERT => "`!`",
        TOKEN_L_BRACE => "`{`",
        TOKEN_L_BRACK => "`[`",
        TOKEN_L_PAREN => "`(`",
        TOKEN_LESS => "`<`",
        TOKEN_LESS_OR_EQ => "`<=`",
        TOKEN_LET => "`let`",
        TOKEN_MORE => "`>`",
        TOKEN_MORE_OR_EQ => "`>=`",
        TOKEN_MUL => "`*`",
        TOKEN_NOT_EQUAL => "`!=`",
        TOKEN_OR => "`or`",
        TOKEN_OR_OR => "`||`",
        TOKEN_PATH_ABS | TOKEN_PATH_HOME | TOKEN_PATH_REL | TOKEN_PATH_SEARCH => "a path",
        TOKEN_PIPE_LEFT => "`<|`",
        TOKEN_PIPE_RIGHT => "`|>`",
        TOKEN_QUESTION => "`?`",
        TOKEN_R_BRACK => "`]`",
        TOKEN_R_PAREN => "`)`",
        TOKEN_REC => "`rec`",
        TOKEN_SEMICOLON => "`;`",
        TOKEN_STRING_CONTENT => "text",
        TOKEN_STRING_END => "the end of the string",
        TOKEN_STRING_START => "a string",
        TOKEN_SUB => "`-`",
        TOKEN_THEN => "`then`",
        TOKEN_UPDATE => "`//`",
        TOKEN_URI => "a URI",
        TOKEN_WHITESPACE => "whitespace",
        TOKEN_WITH => "`with`",
        _ => "an expression",
    }
}

/// Names every Nix file sees without defining them (and every `__name`).
const GLOBALS: &[&str] = &[
    "abort",
    "baseNameOf",
    "break",
    "builtins",
    "derivation",
    "dirOf",
    "false",
    "fetchGit",
    "fetchMercurial",
    "fetchTarball",
    "fetchTree",
    "fromTOML",
    "import",
    "isNull",
    "map",
    "null",
    "placeholder",
    "removeAttrs",
    "scopedImport",
    "throw",
    "toString",
    "true",
];

/// The first variable used outside any `with` and defined nowhere, as Nix finds it before
/// evaluating: its offset and name.
pub(super) fn undefined_variable(root: &SyntaxNode) -> Option<(usize, String)> {
    let mut scopes = Scopes {
        names: Vec::new(),
        withs: 0,
        found: None,
    };
    scopes.node(root);
    scopes.found
}

struct Scopes {
    /// The names in scope, innermost last.
    names: Vec<String>,
    /// How many `with`s are around: under one, any name may be defined.
    withs: usize,
    found: Option<(usize, String)>,
}

impl Scopes {
    fn check(&mut self, name: &str, offset: usize) {
        let defined = self.withs > 0
            || name.starts_with("__")
            || name == "or"
            || GLOBALS.contains(&name)
            || self.names.iter().any(|n| n == name);
        if !defined && self.found.is_none() {
            self.found = Some((offset, name.to_string()));
        }
    }

    fn node(&mut self, node: &SyntaxNode) {
        if self.found.is_some() {
            return;
        }
        match node.kind() {
            NODE_IDENT => {
                let offset = usize::from(node.text_range().start());
                self.check(&node.text().to_string(), offset);
            }
            NODE_ATTRPATH => {
                // Attribute names are not variables; `${…}` and `"${…}"` parts are.
                for child in node.children() {
                    if child.kind() != NODE_IDENT {
                        self.node(&child);
                    }
                }
            }
            NODE_LET_IN => {
                let Some(let_in) = ast::LetIn::cast(node.clone()) else {
                    return;
                };
                let mark = self.names.len();
                self.bindings(&let_in, true);
                if let Some(body) = let_in.body() {
                    self.node(body.syntax());
                }
                self.names.truncate(mark);
            }
            NODE_LEGACY_LET => {
                if let Some(legacy) = ast::LegacyLet::cast(node.clone()) {
                    let mark = self.names.len();
                    self.bindings(&legacy, true);
                    self.names.truncate(mark);
                }
            }
            NODE_ATTR_SET => {
                if let Some(set) = ast::AttrSet::cast(node.clone()) {
                    let mark = self.names.len();
                    self.bindings(&set, set.rec_token().is_some());
                    self.names.truncate(mark);
                }
            }
            NODE_LAMBDA => {
                let Some(lambda) = ast::Lambda::cast(node.clone()) else {
                    return;
                };
                let mark = self.names.len();
                match lambda.param() {
                    Some(ast::Param::IdentParam(param)) => {
                        if let Some(name) = param.ident().and_then(|i| i.ident_token()) {
                            self.names.push(name.text().to_string());
                        }
                    }
                    Some(ast::Param::Pattern(pattern)) => {
                        // Defaults see every argument and the `@` name.
                        let bound = pattern
                            .pat_bind()
                            .and_then(|b| b.ident())
                            .and_then(|i| i.ident_token());
                        self.names.extend(bound.map(|t| t.text().to_string()));
                        for entry in pattern.pat_entries() {
                            if let Some(name) = entry.ident().and_then(|i| i.ident_token()) {
                                self.names.push(name.text().to_string());
                            }
                        }
                        for entry in pattern.pat_entries() {
                            if let Some(default) = entry.default() {
                                self.node(default.syntax());
                            }
                        }
                    }
                    None => {}
                }
                if let Some(body) = lambda.body() {
                    self.node(body.syntax());
                }
                self.names.truncate(mark);
            }
            NODE_WITH => {
                let Some(with) = ast::With::cast(node.clone()) else {
                    return;
                };
                if let Some(namespace) = with.namespace() {
                    self.node(namespace.syntax());
                }
                self.withs += 1;
                if let Some(body) = with.body() {
                    self.node(body.syntax());
                }
                self.withs -= 1;
            }
            NODE_ERROR => {}
            _ => {
                for child in node.children() {
                    self.node(&child);
                }
            }
        }
    }

    /// The bindings of a `let`, a set or a `rec` set. With `recursive`, they see each
    /// other (the caller drops them afterwards); `inherit x;` always looks outside.
    fn bindings(&mut self, node: &impl HasEntry, recursive: bool) {
        let mut defined = Vec::new();
        for entry in node.entries() {
            match entry {
                ast::Entry::AttrpathValue(binding) => {
                    let first = binding.attrpath().and_then(|p| p.attrs().next());
                    if let Some(name) = first.and_then(|a| static_name(&a)) {
                        defined.push(name);
                    }
                }
                ast::Entry::Inherit(inherit) => {
                    for attr in inherit.attrs() {
                        let Some(name) = static_name(&attr) else {
                            continue;
                        };
                        if inherit.from().is_none() {
                            let offset = usize::from(attr.syntax().text_range().start());
                            self.check(&name, offset);
                        }
                        defined.push(name);
                    }
                }
            }
        }
        if recursive {
            self.names.extend(defined);
        }
        for entry in node.entries() {
            match entry {
                ast::Entry::AttrpathValue(binding) => {
                    if let Some(path) = binding.attrpath() {
                        self.node(path.syntax());
                    }
                    if let Some(value) = binding.value() {
                        self.node(value.syntax());
                    }
                }
                ast::Entry::Inherit(inherit) => {
                    if let Some(from) = inherit.from().and_then(|f| f.expr()) {
                        self.node(from.syntax());
                    }
                }
            }
        }
    }
}

/// An attribute name known without evaluating anything (`a`, `"a"`).
fn static_name(attr: &ast::Attr) -> Option<String> {
    match attr {
        ast::Attr::Ident(ident) => ident.ident_token().map(|t| t.text().to_string()),
        ast::Attr::Str(s) => match s.normalized_parts().as_slice() {
            [ast::InterpolPart::Literal(text)] => Some(text.clone()),
            [] => Some(String::new()),
            _ => None,
        },
        ast::Attr::Dynamic(_) => None,
    }
}

/// Unary operators in a row (`!!!!x`, `- - -1`) beyond which a file is refused: each
/// nests one level deeper, and the evaluator follows no deeper than this anyway.
pub(super) const MAX_UNARY_RUN: usize = 4000;
/// Operators and function applications in one chain (`a + b + c …`, `f a b c …`) beyond
/// which a file is refused before it is parsed: the parser's work grows with the square
/// of such a chain.
pub(super) const MAX_CHAIN: usize = 20_000;

/// Nesting the parser would take too long over, found in one pass over the tokens: where
/// (a byte offset) and what, as a syntax error.
pub(super) fn too_deep(text: &str) -> Option<(usize, String)> {
    /// One bracket level: the operators and applications in its current chain.
    struct Level {
        chain: usize,
        chain_start: usize,
        in_list: bool,
        after_operand: bool,
        after_dot: bool,
    }
    let level = |in_list, at| Level {
        chain: 0,
        chain_start: at,
        in_list,
        after_operand: false,
        after_dot: false,
    };
    let mut levels = vec![level(false, 0)];
    let (mut unary_run, mut unary_start) = (0usize, 0usize);
    let mut offset = 0;
    for (kind, token) in rnix::tokenize(text) {
        let at = offset;
        offset += token.len();
        if matches!(kind, TOKEN_WHITESPACE | TOKEN_COMMENT) {
            continue;
        }
        let top = levels.last_mut()?;
        if matches!(kind, TOKEN_INVERT | TOKEN_SUB) && !top.after_operand {
            if unary_run == 0 {
                unary_start = at;
            }
            unary_run += 1;
            if unary_run > MAX_UNARY_RUN {
                return Some((
                    unary_start,
                    format!("nesting too deep: more than {MAX_UNARY_RUN} unary operators in a row"),
                ));
            }
        } else {
            unary_run = 0;
        }
        let operand = is_atom(kind)
            || matches!(
                kind,
                TOKEN_STRING_START | TOKEN_L_PAREN | TOKEN_L_BRACE | TOKEN_L_BRACK | TOKEN_REC
            );
        let counts = if operand {
            // An operand right after another is an application (`f a b`), except in a
            // list and after a `.` (`a.b`).
            top.after_operand && !top.in_list && !top.after_dot
        } else {
            is_operator(kind)
        };
        if counts {
            if top.chain == 0 {
                top.chain_start = at;
            }
            top.chain += 1;
            if top.chain > MAX_CHAIN {
                return Some((
                    top.chain_start,
                    format!(
                        "expression too long: more than {MAX_CHAIN} operators or function applications in one chain"
                    ),
                ));
            }
        }
        if is_separator(kind) {
            top.chain = 0;
        }
        top.after_dot = kind == TOKEN_DOT;
        top.after_operand = is_atom(kind)
            || matches!(
                kind,
                TOKEN_STRING_END | TOKEN_R_PAREN | TOKEN_R_BRACE | TOKEN_R_BRACK
            );
        match kind {
            TOKEN_L_PAREN | TOKEN_L_BRACE | TOKEN_INTERPOL_START | TOKEN_STRING_START => {
                levels.push(level(false, at))
            }
            TOKEN_L_BRACK => levels.push(level(true, at)),
            TOKEN_R_PAREN | TOKEN_R_BRACE | TOKEN_INTERPOL_END | TOKEN_STRING_END
            | TOKEN_R_BRACK
                if levels.len() > 1 =>
            {
                levels.pop();
                if let Some(outer) = levels.last_mut() {
                    outer.after_operand = true;
                    outer.after_dot = false;
                }
            }
            _ => {}
        }
    }
    None
}

fn is_operator(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_ADD
            | TOKEN_SUB
            | TOKEN_MUL
            | TOKEN_DIV
            | TOKEN_CONCAT
            | TOKEN_UPDATE
            | TOKEN_AND_AND
            | TOKEN_OR_OR
            | TOKEN_IMPLICATION
            | TOKEN_EQUAL
            | TOKEN_NOT_EQUAL
            | TOKEN_LESS
            | TOKEN_LESS_OR_EQ
            | TOKEN_MORE
            | TOKEN_MORE_OR_EQ
            | TOKEN_PIPE_LEFT
            | TOKEN_PIPE_RIGHT
            | TOKEN_INVERT
            | TOKEN_QUESTION
    )
}

/// Tokens that end a chain: bindings, function heads, keywords between expressions.
fn is_separator(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_SEMICOLON
            | TOKEN_COMMA
            | TOKEN_ASSIGN
            | TOKEN_COLON
            | TOKEN_IN
            | TOKEN_THEN
            | TOKEN_ELSE
            | TOKEN_IF
            | TOKEN_LET
            | TOKEN_WITH
            | TOKEN_ASSERT
            | TOKEN_INHERIT
            | TOKEN_AT
    )
}

/// A token that is a whole operand by itself: a name, a number, a path, a URI.
fn is_atom(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_IDENT
            | TOKEN_INTEGER
            | TOKEN_FLOAT
            | TOKEN_PATH_ABS
            | TOKEN_PATH_REL
            | TOKEN_PATH_HOME
            | TOKEN_PATH_SEARCH
            | TOKEN_URI
    )
}
