//! The part of `cargo metadata` the explanations need: every package's declared
//! dependencies (with the features each edge requests) and its feature table.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::package_id::{PackageId, PackageIdError, PackageSource};

/// How a package depends on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    Normal,
    Dev,
    Build,
}

/// One `[dependencies]`-style entry of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DependencyDecl {
    /// The depended-on package's name.
    pub package: String,
    /// The name the dependent uses for it (`rename` or the package name).
    pub local_name: String,
    pub kind: EdgeKind,
    pub features: Vec<String>,
    pub default_features: bool,
}

/// What the explanations know of one package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PackageDecls {
    pub name: String,
    pub features: BTreeMap<String, Vec<String>>,
    pub dependencies: Vec<DependencyDecl>,
}

/// Dependency declarations by package id. Produced by [`DependencyIndex::from_metadata`]
/// (or [`DependencyIndex::new`] in tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DependencyIndex {
    packages: HashMap<PackageId, PackageDecls>,
    /// parent id → child package name → indices into the parent's dependencies.
    edges: HashMap<PackageId, HashMap<String, Vec<usize>>>,
}

/// A metadata package's id, with a git package's commit taken from its `source` (cargo
/// ≥ 1.77 leaves the commit out of the id, and out of unit ids).
pub(crate) fn package_id(package: &cargo_metadata::Package) -> Result<PackageId, PackageIdError> {
    let mut id = PackageId::parse(&package.id.repr)?;
    if let PackageSource::Git { commit, .. } = &mut id.source {
        if commit.is_none() {
            let source = package.source.as_ref().map(|s| s.repr.as_str());
            if let Some(PackageSource::Git {
                commit: Some(pinned),
                ..
            }) = source.and_then(|s| PackageSource::parse(s).ok())
            {
                *commit = Some(pinned);
            }
        }
    }
    Ok(id)
}

/// The commit of every git package, by its id without a commit: what unit ids of cargo
/// ≥ 1.77 lack.
pub(crate) fn git_commits(metadata: &cargo_metadata::Metadata) -> HashMap<PackageId, String> {
    metadata
        .packages
        .iter()
        .filter_map(|package| package_id(package).ok())
        .filter_map(|mut id| match &mut id.source {
            PackageSource::Git { commit, .. } => {
                let pinned = commit.take()?;
                Some((id, pinned))
            }
            _ => None,
        })
        .collect()
}

impl DependencyIndex {
    /// The index of every package of `metadata`; an error names a package id cargo wrote in
    /// a form cache-miss cannot read.
    pub(crate) fn from_metadata(
        metadata: &cargo_metadata::Metadata,
    ) -> Result<DependencyIndex, PackageIdError> {
        let packages = metadata
            .packages
            .iter()
            .map(|package| {
                let dependencies = package
                    .dependencies
                    .iter()
                    .map(|dep| DependencyDecl {
                        package: dep.name.clone(),
                        local_name: dep.rename.clone().unwrap_or_else(|| dep.name.clone()),
                        kind: match dep.kind {
                            cargo_metadata::DependencyKind::Development => EdgeKind::Dev,
                            cargo_metadata::DependencyKind::Build => EdgeKind::Build,
                            _ => EdgeKind::Normal,
                        },
                        features: dep.features.clone(),
                        default_features: dep.uses_default_features,
                    })
                    .collect();
                let decls = PackageDecls {
                    name: package.name.to_string(),
                    features: package.features.clone().into_iter().collect(),
                    dependencies,
                };
                Ok((package_id(package)?, decls))
            })
            .collect::<Result<_, PackageIdError>>()?;
        Ok(DependencyIndex::new(packages))
    }

    pub(crate) fn new(packages: HashMap<PackageId, PackageDecls>) -> DependencyIndex {
        let mut edges: HashMap<PackageId, HashMap<String, Vec<usize>>> = HashMap::new();
        for (id, package) in &packages {
            let by_child = edges.entry(id.clone()).or_default();
            for (i, dep) in package.dependencies.iter().enumerate() {
                by_child.entry(dep.package.clone()).or_default().push(i);
            }
        }
        DependencyIndex { packages, edges }
    }

    /// The declarations by which `parent` depends on the package named `child`.
    pub(crate) fn edges<'a>(
        &'a self,
        parent: &PackageId,
        child: &str,
    ) -> impl Iterator<Item = &'a DependencyDecl> + 'a {
        let package = self.packages.get(parent);
        self.edges
            .get(parent)
            .and_then(|by_child| by_child.get(child))
            .into_iter()
            .flatten()
            .filter_map(move |&i| package.map(|p| &p.dependencies[i]))
    }

    /// The features of `child` that `parent`, built with `parent_features`, turns on,
    /// closed over `child`'s own feature table.
    pub(crate) fn requested_features(
        &self,
        parent: &PackageId,
        parent_features: &[String],
        child_id: &PackageId,
        child: &str,
    ) -> BTreeSet<String> {
        let mut requested = BTreeSet::new();
        let parent_decls = self.packages.get(parent);
        for decl in self.edges(parent, child) {
            requested.extend(decl.features.iter().cloned());
            if decl.default_features {
                requested.insert("default".to_string());
            }
            let Some(parent_decls) = parent_decls else {
                continue;
            };
            for feature in parent_features {
                for entry in parent_decls.features.get(feature).into_iter().flatten() {
                    if let Some((dep, feat)) = entry.split_once('/') {
                        if dep.trim_end_matches('?') == decl.local_name {
                            requested.insert(feat.to_string());
                        }
                    }
                }
            }
        }
        self.close_features(child_id, requested)
    }

    /// `features` plus every feature they enable in the same package.
    fn close_features(&self, package: &PackageId, features: BTreeSet<String>) -> BTreeSet<String> {
        let Some(table) = self.packages.get(package).map(|p| &p.features) else {
            return features;
        };
        let mut closed = BTreeSet::new();
        let mut todo: Vec<String> = features.into_iter().collect();
        while let Some(feature) = todo.pop() {
            if !closed.insert(feature.clone()) {
                continue;
            }
            for entry in table.get(&feature).into_iter().flatten() {
                if !entry.contains('/') && !entry.starts_with("dep:") {
                    todo.push(entry.clone());
                }
            }
        }
        closed
    }
}
