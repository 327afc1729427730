//! File access for `file()`, `templatefile()`, `fileset()` and friends:
//! paths relative to the root module directory, read from disk.

use std::path::{Path, PathBuf};

use meshform_lang::{FileError, FileLoader};

pub struct DirFiles {
    root: PathBuf,
}

impl DirFiles {
    pub fn new(root: &Path) -> DirFiles {
        DirFiles {
            root: root.to_path_buf(),
        }
    }

    fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        }
    }
}

fn io_error(path: &str, e: std::io::Error) -> FileError {
    match e.kind() {
        std::io::ErrorKind::NotFound => FileError::NotFound {
            path: path.to_owned(),
        },
        _ => FileError::Io {
            path: path.to_owned(),
            reason: e.to_string(),
        },
    }
}

impl FileLoader for DirFiles {
    fn read(&self, path: &str) -> Result<Vec<u8>, FileError> {
        let p = self.resolve(path);
        if p.is_dir() {
            return Err(FileError::IsDirectory {
                path: path.to_owned(),
            });
        }
        std::fs::read(&p).map_err(|e| io_error(path, e))
    }

    fn file_exists(&self, path: &str) -> Result<bool, FileError> {
        let p = self.resolve(path);
        if p.is_dir() {
            return Err(FileError::IsDirectory {
                path: path.to_owned(),
            });
        }
        Ok(p.is_file())
    }

    fn list_files(&self, dir: &str) -> Result<Vec<String>, FileError> {
        let base = self.resolve(dir);
        let mut out = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(d) = stack.pop() {
            let rd = match std::fs::read_dir(&d) {
                Ok(rd) => rd,
                Err(e) if d == base && e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Vec::new())
                }
                Err(e) => return Err(io_error(dir, e)),
            };
            for entry in rd.flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(rel) = p.strip_prefix(&base) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
