//! How dr-drill creates what it writes: directories readable by the
//! operator only (0700) and files readable by the operator only (0600),
//! whatever the umask. Journals, reports, downloads (a plaintext dump),
//! decrypted files and step outputs hold data and secrets; every writer
//! goes through these functions, so no file is created another way.
//!
//! Directories that exist already keep their mode (an operator's own
//! `--out` directory is theirs); the ones created here, parents included,
//! are 0700. Files created or rewritten here are 0600, also when the file
//! existed with a wider mode.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of every directory dr-drill creates.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file dr-drill writes.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents, each 0700.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// [`create_private_dir`] from async code.
pub async fn create_private_dir_async(dir: &Path) -> io::Result<()> {
    tokio::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .await
}

/// Options that create a file 0600; the caller adds how it opens.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(FILE_MODE);
    options
}

/// Creates (or truncates) `path` for writing, 0600.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let file = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Creates `path` for writing, 0600; fails when it exists.
pub fn create_new_private_file(path: &Path) -> io::Result<File> {
    private_options().write(true).create_new(true).open(path)
}

/// Opens `path` to read and write (created 0600 if missing), without
/// truncating it: a lock file.
pub fn open_private_file(path: &Path) -> io::Result<File> {
    let file = private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Opens `path` to append (created 0600 if missing).
pub fn append_private_file(path: &Path) -> io::Result<File> {
    let file = private_options().append(true).create(true).open(path)?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Writes `bytes` to `path` (created or truncated), 0600.
pub fn write_private(path: &Path, bytes: impl AsRef<[u8]>) -> io::Result<()> {
    create_private_file(path)?.write_all(bytes.as_ref())
}

/// [`create_private_file`] from async code.
pub async fn create_private_file_async(path: &Path) -> io::Result<tokio::fs::File> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)
        .await?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))
        .await?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_and_files_are_the_operators_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        std::fs::write(&file, "wide").unwrap();
        std::fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        write_private(&file, "narrow").unwrap();
        assert_eq!(mode(&file), 0o600, "a rewritten file is narrowed");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "narrow");
        let new = dir.join("new");
        create_new_private_file(&new).unwrap();
        assert_eq!(mode(&new), 0o600);
        assert!(create_new_private_file(&new).is_err());
    }
}
