//! Source fixes written for the file they go into: paths relative to that file (the
//! source root as the phase's own `src` writes it, `../../..` in `pkg/nix/drv/binary.nix`),
//! only paths that are in the flake's source (for a git flake: tracked, so `./.git` never
//! is), and the user's own filter kept when the phase has one.

use std::path::Path;

use crate::source_set::tree::SourceTree;
use crate::source_set::{SourceKind, SourceSet};

/// How a source fix writes paths, for one phase's `src`.
pub(super) struct FilesetFix {
    /// The source root as the file defining the phase writes it (`./.`, `../../..`).
    root: String,
    /// The files Nix copies with the flake (git: tracked), when they could be listed.
    tree: Option<SourceTree>,
    /// The name the flake gives the crane lib (`craneLib` unless it binds another).
    crane_lib: String,
}

impl FilesetFix {
    /// For a phase whose `src` is `source` (if evaluated), in the workspace at
    /// `source_root`.
    pub(super) fn new(source_root: &Path, source: Option<&SourceSet>) -> FilesetFix {
        let root = source
            .filter(|s| s.root == source_root)
            .and_then(|s| path_literal(&s.text))
            .unwrap_or_else(|| "./.".to_string());
        FilesetFix {
            root,
            tree: SourceTree::read(source_root).ok(),
            crane_lib: "craneLib".to_string(),
        }
    }

    /// Written with the crane lib the flake binds as `name`, when it says.
    pub(super) fn with_crane_lib(mut self, name: Option<&str>) -> FilesetFix {
        if let Some(name) = name {
            self.crane_lib = name.to_string();
        }
        self
    }

    /// The crane lib's name in the file the fix goes into.
    pub(super) fn crane_lib(&self) -> &str {
        &self.crane_lib
    }

    /// Whether `relative` (to the source root) is in the flake's source: a tracked file,
    /// or a directory holding one. Unknown listings take the disk's word.
    pub(super) fn in_flake_source(&self, source_root: &Path, relative: &Path) -> bool {
        let absolute = source_root.join(relative);
        match &self.tree {
            Some(tree) => !tree.files_under(&absolute).is_empty(),
            None => absolute.exists(),
        }
    }

    /// The source root as a Nix path in the file the fix goes into.
    pub(super) fn root(&self) -> &str {
        &self.root
    }

    /// `relative` (to the source root) as a Nix path in the file the fix goes into.
    pub(super) fn path(&self, relative: &Path) -> String {
        let root = self.root.strip_suffix("/.").unwrap_or(&self.root);
        format!("{root}/{}", relative.display())
    }

    /// `src = lib.fileset.toSource { … }` with crane's cargo files and `extra` (already
    /// written with [`FilesetFix::path`]).
    pub(super) fn to_source(&self, extra: &[String]) -> String {
        let root = &self.root;
        format!(
            "src = lib.fileset.toSource {{ root = {root}; fileset = lib.fileset.unions [ ({}.fileset.commonCargoSources {root}) {} ]; }};",
            self.crane_lib,
            extra.join(" ")
        )
    }

    /// The fix adding `relative` to a phase's source: to the user's own filter when it
    /// has one (keeping its entries), else crane's cargo files and it; none when the path
    /// is not in the flake's source (Nix could not evaluate a file set naming it).
    pub(super) fn add(
        &self,
        source_root: &Path,
        source: Option<&SourceSet>,
        relative: &Path,
    ) -> String {
        let path = self.path(relative);
        if !self.in_flake_source(source_root, relative) {
            return format!(
                "track {} in git (`git add {}`): a git flake's source holds only tracked files, so Nix cannot see it, and a file set naming it would not evaluate",
                relative.display(),
                relative.display()
            );
        }
        match source {
            Some(source) if source.kind == SourceKind::Filtered => format!(
                "add {path} to the source's own filter or file set ({}), keeping its entries: e.g. lib.fileset.unions [ <its file set> {path} ]",
                crate::text::one_line(&source.text)
            ),
            _ => format!("add it to the source: {}", self.to_source(&[path])),
        }
    }
}

/// The first path literal of a Nix expression (`./.`, `../../..`, `./rust`).
fn path_literal(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ';' | '[' | ']' | '{' | '}'))
        .find(|word| {
            (*word == "." || word.starts_with("./") || word.starts_with("../") || *word == "..")
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "./_-+".contains(c))
        })
        .map(|word| match word {
            "." | ".." => format!("{word}/."),
            _ => word.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_written_as_the_phase_writes_it() {
        assert_eq!(
            path_literal("craneLib.cleanCargoSource ../../..").as_deref(),
            Some("../../..")
        );
        assert_eq!(
            path_literal("lib.cleanSourceWith { src = ./.; filter = f; }").as_deref(),
            Some("./.")
        );
        assert_eq!(path_literal("self").as_deref(), None);
        let fix = FilesetFix {
            root: "../../..".into(),
            tree: None,
            crane_lib: "craneLib".into(),
        };
        assert_eq!(fix.path(Path::new("README.md")), "../../../README.md");
        let fix = FilesetFix {
            root: "./.".into(),
            tree: None,
            crane_lib: "craneLib".into(),
        };
        assert_eq!(fix.path(Path::new("data/x")), "./data/x");
    }
}
