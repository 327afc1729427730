//! A fresh directory per test, filled with the given files.

use std::path::Path;

use meshform_config::{load_module, Diagnostics, Module};

pub struct Dir(pub tempfile::TempDir);

impl Dir {
    pub fn new(files: &[(&str, &str)]) -> Dir {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (name, text) in files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(path, text).unwrap();
        }
        Dir(dir)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn load(&self) -> (Module, Diagnostics) {
        load_module(self.path())
    }
}

/// Loads one `main.tf`.
pub fn load(main_tf: &str) -> (Module, Diagnostics) {
    Dir::new(&[("main.tf", main_tf)]).load()
}
