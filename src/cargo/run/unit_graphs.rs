//! Unit graphs: each distinct cargo command asked once (invocations that ask the same
//! question share one answer), and values made from an answer stored beside it.

use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::{CargoRunner, GraphCommand, Scope, Slot, cargo_error, git_commits};
use crate::cargo::cache::{CacheKey, KeyBuilder};
use crate::cargo::invocation::{Invocation, unit_graph_args};
use crate::cargo::unit_graph::UnitGraph;
use crate::cargo::untrusted::toolchain_path_pin;
use crate::cargo::{SelectionFlag, regular};
use crate::parallel::lock;

impl CargoRunner {
    /// Resolves one invocation's unit graph without compiling anything.
    pub fn unit_graph(&self, invocation: &Invocation) -> Result<Arc<UnitGraph>> {
        let command = self.graph_command(invocation);
        let args = command.1.clone();
        let slot = self.slot(invocation, command);
        let mut answer = lock(&slot);
        if let Some(graph) = answer.as_ref() {
            return Ok(graph.clone());
        }
        let output = self.resolving(invocation).run(&args, &invocation.env)?;
        if !output.status.success() {
            bail!("{}", cargo_error(&output));
        }
        let stdout = crate::text::utf8(&output.stdout);
        let mut graph = UnitGraph::parse(&stdout)
            .context("cargo printed a unit graph cache-miss cannot read")?;
        if graph.lacks_git_commits() {
            graph.join_git_commits(&git_commits(&*self.shared_metadata()?));
        }
        Ok(answer.insert(Arc::new(graph)).clone())
    }

    /// The answer slot of `command` (`invocation`'s), made and the invocation listed as
    /// asked when it is the first to ask it.
    fn slot(&self, invocation: &Invocation, command: GraphCommand) -> Slot<UnitGraph> {
        lock(&self.answers.graphs)
            .entry(command)
            .or_insert_with(|| {
                lock(&self.answers.asked).push(invocation.clone());
                Slot::default()
            })
            .clone()
    }

    /// Where a value made from `invocation`'s unit graph in `format` is stored beside
    /// cargo's answer: the answer's key, the format's name and `extra` (whatever else the
    /// value was made from). `None` without a cache, or where the answer itself would be
    /// refused or cannot be keyed.
    pub(crate) fn derived_key(
        &self,
        invocation: &Invocation,
        format: &str,
        extra: &[&str],
    ) -> Option<CacheKey> {
        self.cache.as_ref()?;
        let runner = self.resolving(invocation);
        if toolchain_path_pin(&runner.toolchain).is_some() {
            return None;
        }
        let (_, args, env) = self.graph_command(invocation);
        let command = runner.resolution_command(&runner.cargo, &args, &env);
        let answer = runner.key(&command, Scope::Workspace).ok()?;
        let mut key = KeyBuilder::new("made from a cargo answer");
        key.field("format", format.as_bytes())
            .field("answer", answer.as_bytes());
        for part in extra {
            key.field("extra", part.as_bytes());
        }
        Some(key.finish())
    }

    /// The value stored under `key` (see [`CargoRunner::derived_key`]), read instead of
    /// `invocation`'s answer: a hit counts as the answer's, and the invocation as asked.
    pub(crate) fn derived_answer(
        &self,
        invocation: &Invocation,
        key: &CacheKey,
    ) -> Option<Vec<u8>> {
        let bytes = self.cache.as_ref()?.get_if_stored(key)?;
        self.slot(invocation, self.graph_command(invocation));
        Some(bytes)
    }

    /// Stores `bytes` under `key` (see [`CargoRunner::derived_key`]).
    pub(crate) fn store_derived_answer(&self, key: &CacheKey, bytes: &[u8]) {
        if let Some(cache) = &self.cache {
            cache.put(key, bytes);
        }
    }

    /// Whether the cargo command that resolves `invocation` was asked already (answered or
    /// being answered), perhaps for another invocation that asks the same.
    pub(crate) fn asked_unit_graph(&self, invocation: &Invocation) -> bool {
        lock(&self.answers.graphs).contains_key(&self.graph_command(invocation))
    }

    /// The toolchain, arguments and environment of `invocation`'s `--unit-graph` call.
    fn graph_command(&self, invocation: &Invocation) -> GraphCommand {
        // A command naming no package where cargo builds every member anyway asks what
        // `--workspace` asks: spelled so, it is asked once when a phase says it.
        let every_member = self.names_no_package(invocation) && self.every_member_by_default();
        let args = unit_graph_args(invocation.subcommand, &invocation.args, every_member);
        (
            invocation.rustup_toolchain.clone(),
            args,
            invocation.env.clone(),
        )
    }

    /// Whether `invocation` leaves the packages to cargo's default: no `-p`, `--workspace`,
    /// `--exclude` or `--manifest-path` (run here, at the workspace root), and no
    /// `--features` (which cargo's older feature rules read by where it runs).
    fn names_no_package(&self, invocation: &Invocation) -> bool {
        let picks = |flag: &SelectionFlag| {
            flag.names_packages()
                || matches!(flag, SelectionFlag::Exclude(_) | SelectionFlag::Feature(_))
        };
        !invocation.selection.flags.iter().any(picks)
            && !invocation
                .args
                .iter()
                .any(|arg| arg.starts_with("--manifest-path"))
    }

    /// Whether cargo, run at this runner's directory with no package named, builds every
    /// workspace member, as `--workspace` does: the manifest there is a virtual one
    /// (`[workspace]`, no `[package]`) without `default-members`. Anything else (a root
    /// package, `default-members`, a manifest that cannot be read) is `false`.
    fn every_member_by_default(&self) -> bool {
        *self.answers.every_member_by_default.get_or_init(|| {
            // A symlinked manifest is read through, as cargo reads it.
            let regular::Found::Contents(bytes) = regular::read(&self.dir.join("Cargo.toml"), true)
            else {
                return false;
            };
            let Ok(manifest) = toml::from_slice::<toml::Table>(&bytes) else {
                return false;
            };
            let workspace = manifest.get("workspace").and_then(toml::Value::as_table);
            !manifest.contains_key("package")
                && !manifest.contains_key("project")
                && workspace.is_some_and(|w| !w.contains_key("default-members"))
        })
    }

    /// One invocation per distinct `--unit-graph` command this runner (or a clone) was
    /// asked to resolve, in the order first asked: every cargo call a report needed.
    pub fn unit_graph_invocations(&self) -> Vec<Invocation> {
        lock(&self.answers.asked).clone()
    }
}
