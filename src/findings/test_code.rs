//! Which lines of a Rust file are test code: items marked `#[cfg(test)]` or `#[test]`,
//! which rustc compiles only when tests are (a file they read is no input of other builds).

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// The lines (first, last) of every item marked `#[cfg(test)]` or `#[test]`, at any depth:
/// from the attribute to the end of the item's block or its `;`.
pub(super) fn test_item_lines(stream: TokenStream) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    collect(stream, &mut found);
    found
}

fn collect(stream: TokenStream, found: &mut Vec<(usize, usize)>) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut marked_at = None;
    for (i, token) in tokens.iter().enumerate() {
        if tokens.get(i..).is_some_and(is_test_attribute) {
            marked_at = marked_at.or(Some(token.span().start().line));
            continue;
        }
        match (token, marked_at) {
            (TokenTree::Group(group), Some(first)) if group.delimiter() == Delimiter::Brace => {
                found.push((first, group.span().end().line));
                marked_at = None;
            }
            (TokenTree::Punct(punct), Some(first)) if punct.as_char() == ';' => {
                found.push((first, punct.span().end().line));
                marked_at = None;
            }
            (TokenTree::Group(group), None) => collect(group.stream(), found),
            _ => {}
        }
    }
}

/// `# [test]` or `# [cfg(test)]` at the start of `tokens`.
fn is_test_attribute(tokens: &[TokenTree]) -> bool {
    let [TokenTree::Punct(hash), TokenTree::Group(group), ..] = tokens else {
        return false;
    };
    let inner: String = group
        .stream()
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    hash.as_char() == '#'
        && group.delimiter() == Delimiter::Bracket
        && matches!(inner.as_str(), "test" | "cfg(test)")
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proc_macro2::TokenStream;

    use super::test_item_lines;

    #[test]
    fn test_modules_functions_and_uses_are_found_at_any_depth() {
        let text = "const A: &str = include_str!(\"a\");\n\
                    #[cfg(test)]\nmod tests {\n    const B: u8 = 1;\n}\n\
                    mod inner {\n    #[test]\n    fn t() {\n    }\n    #[cfg(test)]\n    use x;\n}\n";
        let lines = test_item_lines(TokenStream::from_str(text).unwrap());
        assert_eq!(lines, [(2, 5), (7, 9), (10, 11)]);
    }

    #[test]
    fn other_attributes_mark_nothing() {
        let text = "#[cfg(feature = \"x\")]\nmod a {}\n#[allow(dead_code)]\nfn b() {}\n";
        assert!(test_item_lines(TokenStream::from_str(text).unwrap()).is_empty());
    }
}
