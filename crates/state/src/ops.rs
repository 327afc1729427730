//! `state rm` and `state mv` as operations on a store, shared by the CLI
//! and anything else that edits state by address.

use crate::address::InstanceAddr;
use crate::error::StateError;
use crate::model::ObjectKey;
use crate::store::{Change, StateStore};

/// Removes every object selected by the patterns (module, resource or
/// instance addresses) in one commit, returning what was (or, with
/// `dry_run`, would be) removed. A pattern matching nothing is an error and
/// nothing is removed.
pub fn remove_matching(
    store: &mut StateStore,
    patterns: &[String],
    dry_run: bool,
) -> Result<Vec<ObjectKey>, StateError> {
    let objects = store.list_objects()?;
    let mut selected: Vec<ObjectKey> = Vec::new();
    for pattern in patterns {
        let matched: Vec<&ObjectKey> = objects.iter().filter(|o| o.addr.matches(pattern)).collect();
        if matched.is_empty() {
            return Err(StateError::NoMatch {
                pattern: pattern.clone(),
            });
        }
        for key in matched {
            if !selected.contains(key) {
                selected.push(key.clone());
            }
        }
    }
    if !dry_run {
        store.commit(selected.iter().cloned().map(Change::Delete).collect())?;
    }
    Ok(selected)
}

/// Moves the instances selected by `source` (an instance, resource or
/// module address) to `destination`, keeping what follows the matched
/// prefix (instance keys, nested addresses), in one commit.
pub fn move_matching(
    store: &mut StateStore,
    source: &str,
    destination: &str,
    dry_run: bool,
) -> Result<Vec<(InstanceAddr, InstanceAddr)>, StateError> {
    let mut instances: Vec<InstanceAddr> = store
        .list_objects()?
        .into_iter()
        .map(|o| o.addr)
        .filter(|a| a.matches(source))
        .collect();
    instances.dedup();
    if instances.is_empty() {
        return Err(StateError::NoMatch {
            pattern: source.to_owned(),
        });
    }
    let mut moves = Vec::new();
    for from in instances {
        let text = from.to_string();
        let suffix = text.strip_prefix(source).unwrap_or("");
        let to = InstanceAddr::parse(&format!("{destination}{suffix}"))?;
        if from.mode != to.mode {
            return Err(StateError::InvalidMove {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        moves.push((from, to));
    }
    if !dry_run {
        store.commit(
            moves
                .iter()
                .map(|(from, to)| Change::Move {
                    from: from.clone(),
                    to: to.clone(),
                })
                .collect(),
        )?;
    }
    Ok(moves)
}
