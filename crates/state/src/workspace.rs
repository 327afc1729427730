//! Which workspace a working directory has selected: the file
//! `.meshform/environment`, as Terraform keeps `.terraform/environment`.

use std::path::{Path, PathBuf};

use crate::error::StateError;
use crate::store::{validate_workspace_name, DEFAULT_WORKSPACE};

/// The file that names the selected workspace, inside the data directory.
pub fn environment_file(data_dir: &Path) -> PathBuf {
    data_dir.join("environment")
}

/// The selected workspace, `default` when none was selected.
pub fn selected_workspace(data_dir: &Path) -> Result<String, StateError> {
    let path = environment_file(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let name = text.trim();
            if name.is_empty() {
                Ok(DEFAULT_WORKSPACE.to_owned())
            } else {
                validate_workspace_name(name)?;
                Ok(name.to_owned())
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DEFAULT_WORKSPACE.to_owned()),
        Err(source) => Err(StateError::ReadFile { path, source }),
    }
}

/// Records `name` as the selected workspace.
pub fn select_workspace(data_dir: &Path, name: &str) -> Result<(), StateError> {
    validate_workspace_name(name)?;
    std::fs::create_dir_all(data_dir).map_err(|source| StateError::CreateDir {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let path = environment_file(data_dir);
    std::fs::write(&path, format!("{name}\n"))
        .map_err(|source| StateError::WriteFile { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_defaults_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(selected_workspace(dir.path()).unwrap(), "default");
        select_workspace(dir.path(), "staging").unwrap();
        assert_eq!(selected_workspace(dir.path()).unwrap(), "staging");
        assert!(select_workspace(dir.path(), "../x").is_err());
    }
}
