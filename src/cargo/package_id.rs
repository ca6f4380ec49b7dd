//! Package ids as cargo writes them, parsed once into name, version and source.
//!
//! cargo ≥ 1.77 writes a package-id spec (`registry+https://github.com/rust-lang/crates.io-index#serde@1.0.210`,
//! `path+file:///ws/crates/foo#0.1.0`, `git+https://host/o/kit?rev=abc1234#0.2.0`; the
//! `name@` is left out when the name is the URL's last path segment). Older cargo writes
//! `serde 1.0.210 (registry+https://github.com/rust-lang/crates.io-index)`, with a git
//! source's commit after a `#`. `cargo metadata`'s `source` field is a source in the old
//! form's parentheses form.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// The index URL of crates.io, as cargo names its source in every id.
const CRATES_IO_INDEX: &str = "https://github.com/rust-lang/crates.io-index";

/// One package: which crate, which release, from where.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageId {
    pub name: String,
    /// As cargo wrote it (a semver version).
    pub version: String,
    pub source: PackageSource,
}

/// Where a package comes from. URLs are kept as cargo wrote them, without the kind prefix.
/// (Serialized only into the cache's stored graphs, never read from cargo that way.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PackageSource {
    /// crates.io (cargo names it by its git index even when it reads the sparse one).
    CratesIo,
    /// A registry read over the sparse protocol (`sparse+https://…`).
    SparseRegistry { url: String },
    /// Another registry with a git index (`registry+https://…`).
    Registry { url: String },
    /// A registry in a local directory of `.crate` files (`local-registry+file://…`).
    LocalRegistry { url: String },
    /// Unpacked crates in a directory (`directory+file://…`).
    Directory { url: String },
    /// A path dependency or workspace member (`path+file://…`).
    Path { url: String },
    /// A git repository (`git+https://…?rev=abc1234#<commit>`).
    Git {
        url: String,
        reference: GitReference,
        /// The full commit the lock file pins; unit ids of cargo ≥ 1.77 leave it out, so
        /// it is joined in from `cargo metadata`.
        commit: Option<String>,
    },
}

/// Which commit of a git dependency the manifest asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GitReference {
    DefaultBranch,
    Branch(String),
    Tag(String),
    Rev(String),
}

/// A package id or source cargo wrote in a form this module does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read cargo's package id `{text}`: {why}")]
pub struct PackageIdError {
    text: String,
    why: &'static str,
}

fn error(text: &str, why: &'static str) -> PackageIdError {
    PackageIdError {
        text: text.to_string(),
        why,
    }
}

impl PackageId {
    /// Reads either form of a unit or metadata package id.
    pub fn parse(text: &str) -> Result<PackageId, PackageIdError> {
        match text.strip_suffix(')').and_then(|t| t.split_once(" (")) {
            Some((name_version, source)) => PackageId::parse_old(text, name_version, source),
            None => PackageId::parse_spec(text),
        }
    }

    /// `serde 1.0.210 (registry+https://…)`.
    fn parse_old(
        text: &str,
        name_version: &str,
        source: &str,
    ) -> Result<PackageId, PackageIdError> {
        let (name, version) = name_version
            .split_once(' ')
            .ok_or_else(|| error(text, "no version before the source"))?;
        Ok(PackageId {
            name: checked_name(text, name)?.to_string(),
            version: checked_version(text, version)?.to_string(),
            source: PackageSource::parse(source).map_err(|e| error(text, e.why))?,
        })
    }

    /// `KIND+URL[?QUERY]#[NAME@]VERSION`, cargo's package-id spec of a package id.
    fn parse_spec(text: &str) -> Result<PackageId, PackageIdError> {
        let (url, fragment) = text
            .split_once('#')
            .ok_or_else(|| error(text, "no `#` before the version"))?;
        let source = PackageSource::parse(url).map_err(|e| error(text, e.why))?;
        let (name, version) = match fragment.split_once(['@', ':']) {
            Some((name, version)) => (name, version),
            None => (last_segment(source.url()), fragment),
        };
        Ok(PackageId {
            name: checked_name(text, name)?.to_string(),
            version: checked_version(text, version)?.to_string(),
            source,
        })
    }

    /// A workspace member or another `path` package: a dummy in the deps-only build.
    pub fn is_local(&self) -> bool {
        matches!(self.source, PackageSource::Path { .. })
    }

    /// The bytes after the `#` of [`PackageId::spec`]: `[name@]version`, where
    /// `url_name` is the last segment of the source's URL.
    fn fragment<'a>(&'a self, url_name: &str) -> impl Iterator<Item = u8> + 'a {
        let named = self.name != url_name;
        let name = if named { self.name.as_bytes() } else { &[] };
        let at: &[u8] = if named { b"@" } else { &[] };
        name.iter()
            .chain(at)
            .chain(self.version.as_bytes())
            .copied()
    }

    /// The id in the form cargo ≥ 1.77 writes (without a git commit).
    pub fn spec(&self) -> String {
        let mut spec = self.source.without_commit();
        spec.push('#');
        if self.name != last_segment(self.source.url()) {
            spec.push_str(&self.name);
            spec.push('@');
        }
        spec.push_str(&self.version);
        spec
    }
}

/// The last path segment of a URL without its query: the name cargo leaves out of a spec.
fn last_segment(url: &str) -> &str {
    let path = url.split('?').next().unwrap_or(url);
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

fn checked_name<'a>(text: &str, name: &'a str) -> Result<&'a str, PackageIdError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    valid
        .then_some(name)
        .ok_or_else(|| error(text, "the package name is not a crate name"))
}

fn checked_version<'a>(text: &str, version: &'a str) -> Result<&'a str, PackageIdError> {
    semver::Version::parse(version)
        .map(|_| version)
        .map_err(|_| error(text, "the version is not a semver version"))
}

/// Package ids sort as cargo ≥ 1.77 writes them (the order the report has always used),
/// then by commit.
impl Ord for PackageId {
    fn cmp(&self, other: &Self) -> Ordering {
        if self == other {
            return Ordering::Equal;
        }
        let by_spec = if self.source.without_commit_eq(&other.source) {
            // The common case, without allocating: only the fragments differ (and the
            // sources, equal, end in one name).
            let url_name = last_segment(self.source.url());
            self.fragment(url_name).cmp(other.fragment(url_name))
        } else {
            self.spec().cmp(&other.spec())
        };
        by_spec.then_with(|| self.source.commit().cmp(&other.source.commit()))
    }
}

impl PartialOrd for PackageId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The spec form, as cargo ≥ 1.77 writes it.
impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}

impl FromStr for PackageId {
    type Err = PackageIdError;

    fn from_str(text: &str) -> Result<PackageId, PackageIdError> {
        PackageId::parse(text)
    }
}

impl<'de> Deserialize<'de> for PackageId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PackageId, D::Error> {
        let text = String::deserialize(deserializer)?;
        PackageId::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl PackageSource {
    /// A source as `cargo metadata` and old package ids write it: `KIND+URL[?QUERY][#COMMIT]`.
    pub fn parse(text: &str) -> Result<PackageSource, PackageIdError> {
        let (kind, url) = text
            .split_once('+')
            .filter(|(kind, _)| !kind.contains(':'))
            .ok_or_else(|| error(text, "the source has no kind (`registry+`, `git+`, ...)"))?;
        if kind == "git" {
            return PackageSource::parse_git(text, url);
        }
        if url.contains(['?', '#']) {
            return Err(error(text, "only a git source has a query or a commit"));
        }
        let url = url.to_string();
        Ok(match kind {
            "registry" if url == CRATES_IO_INDEX => PackageSource::CratesIo,
            "registry" => PackageSource::Registry { url },
            "sparse" => PackageSource::SparseRegistry { url },
            "local-registry" => PackageSource::LocalRegistry { url },
            "directory" => PackageSource::Directory { url },
            "path" => PackageSource::Path { url },
            _ => return Err(error(text, "unknown source kind")),
        })
    }

    fn parse_git(text: &str, url: &str) -> Result<PackageSource, PackageIdError> {
        let (url, commit) = match url.split_once('#') {
            Some((url, commit)) => (url, Some(commit.to_string())),
            None => (url, None),
        };
        let (url, reference) = match url.split_once('?') {
            Some((url, query)) => (url, GitReference::parse(text, query)?),
            None => (url, GitReference::DefaultBranch),
        };
        Ok(PackageSource::Git {
            url: url.to_string(),
            reference,
            commit,
        })
    }

    /// The URL without kind prefix, query or commit (crates.io's index URL for crates.io).
    pub fn url(&self) -> &str {
        match self {
            PackageSource::CratesIo => CRATES_IO_INDEX,
            PackageSource::SparseRegistry { url }
            | PackageSource::Registry { url }
            | PackageSource::LocalRegistry { url }
            | PackageSource::Directory { url }
            | PackageSource::Path { url }
            | PackageSource::Git { url, .. } => url,
        }
    }

    /// The full commit of a git source, when known.
    pub fn commit(&self) -> Option<&str> {
        match self {
            PackageSource::Git { commit, .. } => commit.as_deref(),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            PackageSource::CratesIo | PackageSource::Registry { .. } => "registry",
            PackageSource::SparseRegistry { .. } => "sparse",
            PackageSource::LocalRegistry { .. } => "local-registry",
            PackageSource::Directory { .. } => "directory",
            PackageSource::Path { .. } => "path",
            PackageSource::Git { .. } => "git",
        }
    }

    /// Whether both name the same source, commits aside.
    fn without_commit_eq(&self, other: &PackageSource) -> bool {
        match (self, other) {
            (
                PackageSource::Git { url, reference, .. },
                PackageSource::Git {
                    url: other_url,
                    reference: other_reference,
                    ..
                },
            ) => url == other_url && reference == other_reference,
            _ => self == other,
        }
    }

    /// `KIND+URL[?QUERY]`: the source as a package-id spec names it.
    fn without_commit(&self) -> String {
        let mut text = format!("{}+{}", self.kind(), self.url());
        if let PackageSource::Git { reference, .. } = self {
            if let Some(query) = reference.query() {
                text.push('?');
                text.push_str(&query);
            }
        }
        text
    }
}

/// As `cargo metadata`'s `source` writes it: `git+https://host/o/kit?rev=abc1234#<commit>`.
impl fmt::Display for PackageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.without_commit())?;
        match self.commit() {
            Some(commit) => write!(f, "#{commit}"),
            None => Ok(()),
        }
    }
}

impl GitReference {
    /// `rev=abc1234`, `branch=main` or `tag=v1` (values as cargo encoded them).
    fn parse(text: &str, query: &str) -> Result<GitReference, PackageIdError> {
        match query.split_once('=') {
            Some(("rev", rev)) => Ok(GitReference::Rev(rev.to_string())),
            Some(("branch", branch)) => Ok(GitReference::Branch(branch.to_string())),
            Some(("tag", tag)) => Ok(GitReference::Tag(tag.to_string())),
            _ => Err(error(text, "a git query is `rev=`, `branch=` or `tag=`")),
        }
    }

    fn query(&self) -> Option<String> {
        match self {
            GitReference::DefaultBranch => None,
            GitReference::Branch(branch) => Some(format!("branch={branch}")),
            GitReference::Tag(tag) => Some(format!("tag={tag}")),
            GitReference::Rev(rev) => Some(format!("rev={rev}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> PackageId {
        PackageId::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn git(url: &str, reference: GitReference, commit: Option<&str>) -> PackageSource {
        PackageSource::Git {
            url: url.into(),
            reference,
            commit: commit.map(str::to_string),
        }
    }

    #[test]
    fn crates_io_in_both_forms() {
        let new = id("registry+https://github.com/rust-lang/crates.io-index#serde@1.0.210");
        let old = id("serde 1.0.210 (registry+https://github.com/rust-lang/crates.io-index)");
        assert_eq!(new, old);
        assert_eq!(
            (new.name.as_str(), new.version.as_str()),
            ("serde", "1.0.210")
        );
        assert_eq!(new.source, PackageSource::CratesIo);
        assert_eq!(
            new.source.to_string(),
            "registry+https://github.com/rust-lang/crates.io-index"
        );
        assert_eq!(
            old.to_string(),
            "registry+https://github.com/rust-lang/crates.io-index#serde@1.0.210"
        );
    }

    #[test]
    fn the_name_is_the_last_path_segment_when_left_out() {
        let path = id("path+file:///ws/crates/foo#0.1.0");
        assert_eq!(
            (path.name.as_str(), path.version.as_str()),
            ("foo", "0.1.0")
        );
        assert!(path.is_local());
        assert_eq!(path.to_string(), "path+file:///ws/crates/foo#0.1.0");
        let named = id("path+file:///ws/crates/foo-dir#foo@0.1.0");
        assert_eq!(named.name, "foo");
        assert_eq!(
            named.to_string(),
            "path+file:///ws/crates/foo-dir#foo@0.1.0"
        );
        let old = id("foo 0.1.0 (path+file:///ws/crates/foo)");
        assert_eq!(old, path);
    }

    #[test]
    fn git_keeps_its_reference_and_commit() {
        let new = id("git+https://host/o/kit?rev=abc1234#0.2.0");
        assert_eq!((new.name.as_str(), new.version.as_str()), ("kit", "0.2.0"));
        assert_eq!(
            new.source,
            git(
                "https://host/o/kit",
                GitReference::Rev("abc1234".into()),
                None
            )
        );
        assert_eq!(new.to_string(), "git+https://host/o/kit?rev=abc1234#0.2.0");
        let full = "0123456789abcdef0123456789abcdef01234567";
        let old = id(&format!(
            "kit 0.2.0 (git+https://host/o/kit?rev=abc1234#{full})"
        ));
        assert_eq!(old.source.commit(), Some(full));
        assert_eq!(
            old.source.to_string(),
            format!("git+https://host/o/kit?rev=abc1234#{full}")
        );
        let branch = id("git+https://github.com/x/y?branch=main#z@0.2.0");
        assert_eq!(branch.name, "z");
        assert_eq!(
            branch.source,
            git(
                "https://github.com/x/y",
                GitReference::Branch("main".into()),
                None
            )
        );
        let tag = id("git+ssh://git@host/kit.git?tag=v1#kit@1.0.0");
        assert_eq!(
            tag.to_string(),
            "git+ssh://git@host/kit.git?tag=v1#kit@1.0.0"
        );
        let default = id("git+https://host/o/kit#0.2.0");
        assert_eq!(
            default.source,
            git("https://host/o/kit", GitReference::DefaultBranch, None)
        );
    }

    #[test]
    fn registries_and_directories() {
        let sparse = id("sparse+https://index.example.com/#tool@2.0.0");
        assert_eq!(
            sparse.source,
            PackageSource::SparseRegistry {
                url: "https://index.example.com/".into()
            }
        );
        assert_eq!(
            sparse.to_string(),
            "sparse+https://index.example.com/#tool@2.0.0"
        );
        let alternative = id("registry+https://git.example.com/index#tool@2.0.0");
        assert!(matches!(alternative.source, PackageSource::Registry { .. }));
        let local = id("tool 2.0.0 (local-registry+file:///srv/registry)");
        assert!(matches!(local.source, PackageSource::LocalRegistry { .. }));
        let vendored = id("directory+file:///ws/vendor#tool@2.0.0");
        assert!(matches!(vendored.source, PackageSource::Directory { .. }));
        assert!(!vendored.is_local());
    }

    #[test]
    fn what_is_not_a_package_id_is_an_error() {
        for bad in [
            "serde",
            "registry+https://github.com/rust-lang/crates.io-index#serde@one",
            "ftp+https://x/y#y@1.0.0",
            "https://x/y#y@1.0.0",
            "registry+https://x/y?rev=1#y@1.0.0",
            "git+https://x/y?sha=1#y@1.0.0",
            "serde (registry+https://github.com/rust-lang/crates.io-index)",
            "wrong) 1.0.0 (path+file:///x)",
        ] {
            assert!(PackageId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_sort_as_cargo_writes_them() {
        let mut ids = [
            id("registry+https://github.com/rust-lang/crates.io-index#futures@0.3.0"),
            id("registry+https://github.com/rust-lang/crates.io-index#futures-core@0.3.0"),
            id("path+file:///ws/app#0.1.0"),
        ];
        ids.sort();
        let names: Vec<&str> = ids.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["app", "futures-core", "futures"]);
        let mut versions = [
            id("registry+https://github.com/rust-lang/crates.io-index#syn@1.0.9"),
            id("registry+https://github.com/rust-lang/crates.io-index#syn@1.0.10"),
        ];
        versions.sort();
        assert_eq!(versions[0].version, "1.0.10");
        let (a, b) = (&versions[0], &versions[1]);
        assert_eq!(a.cmp(b), a.spec().cmp(&b.spec()));
    }
}
