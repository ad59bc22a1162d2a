//! A download on its way to disk: written to `NAME.part` beside its
//! destination and renamed into place only when complete, so a failed or
//! cancelled download never leaves a file that looks whole. Shared by the
//! AWS and the simulated [`Cloud`](super::Cloud) implementations.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use super::{CloudError, ErrorKind};

/// A partial download; removed unless [`PartFile::finish`] completes it.
pub(crate) struct PartFile {
    file: Option<tokio::fs::File>,
    part: PathBuf,
    to: PathBuf,
    action: &'static str,
    resource: String,
}

/// `NAME.part` beside `to`.
pub(crate) fn part_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    to.with_file_name(name)
}

impl PartFile {
    /// Creates `to`'s directory and its `.part` file; errors name `action`
    /// on `resource` (the object being downloaded).
    pub async fn create(
        to: &Path,
        action: &'static str,
        resource: &str,
    ) -> Result<Self, CloudError> {
        let mut part = PartFile {
            file: None,
            part: part_path(to),
            to: to.to_owned(),
            action,
            resource: resource.to_owned(),
        };
        if let Some(dir) = part.part.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsx::create_private_dir_async(dir)
                .await
                .map_err(|e| part.io_error(dir, e))?;
        }
        let file = crate::fsx::create_private_file_async(&part.part)
            .await
            .map_err(|e| part.io_error(&part.part, e))?;
        part.file = Some(file);
        Ok(part)
    }

    fn io_error(&self, path: &Path, e: std::io::Error) -> CloudError {
        CloudError::new(
            self.action,
            &self.resource,
            ErrorKind::Io,
            format!(
                "cannot write {}: {e}; check the free space and permissions there, or give the step another `to`",
                path.display()
            ),
        )
    }

    /// Appends `chunk`; on failure the partial file is removed.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), CloudError> {
        let result = match self.file.as_mut() {
            Some(f) => f.write_all(chunk).await,
            None => Ok(()),
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                let e = self.io_error(&self.part, e);
                self.discard().await;
                Err(e)
            }
        }
    }

    /// Flushes, syncs and renames the file into place; on failure the
    /// partial file is removed.
    pub async fn finish(mut self) -> Result<(), CloudError> {
        let Some(mut file) = self.file.take() else {
            return Ok(());
        };
        let synced = async {
            file.flush().await?;
            file.sync_all().await
        }
        .await;
        drop(file);
        let result = match synced {
            Ok(()) => tokio::fs::rename(&self.part, &self.to)
                .await
                .map_err(|e| self.io_error(&self.to, e)),
            Err(e) => Err(self.io_error(&self.part, e)),
        };
        if result.is_err() {
            self.discard().await;
        }
        // Renamed or removed: nothing is left for `drop` to clean up.
        self.part = PathBuf::new();
        result
    }

    /// Removes the partial file now (the download failed).
    pub async fn discard(&mut self) {
        self.file = None;
        if !self.part.as_os_str().is_empty() {
            let _ = tokio::fs::remove_file(&self.part).await;
            self.part = PathBuf::new();
        }
    }
}

impl Drop for PartFile {
    /// A download dropped half-way (its step cancelled or timed out): the
    /// partial file is removed off the runtime's threads.
    fn drop(&mut self) {
        if self.part.as_os_str().is_empty() {
            return;
        }
        self.file = None;
        let part = std::mem::take(&mut self.part);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = tokio::fs::remove_file(part).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_finished_download_is_renamed_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("sub/backup.dump");
        let mut part = PartFile::create(&to, "GetObject", "s3://b/k")
            .await
            .unwrap();
        assert!(part_path(&to).exists());
        part.write(b"hello").await.unwrap();
        part.finish().await.unwrap();
        assert_eq!(tokio::fs::read(&to).await.unwrap(), b"hello");
        assert!(!part_path(&to).exists());
    }

    #[tokio::test]
    async fn a_download_that_cannot_be_put_in_place_leaves_no_part_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should go: the rename fails.
        let to = dir.path().join("backup.dump");
        std::fs::create_dir_all(to.join("inside")).unwrap();
        let mut part = PartFile::create(&to, "GetObject", "s3://b/k")
            .await
            .unwrap();
        part.write(b"hello").await.unwrap();
        let e = part.finish().await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Io);
        assert!(
            e.to_string()
                .starts_with("GetObject on s3://b/k failed: cannot write"),
            "{e}"
        );
        assert!(!part_path(&to).exists());
    }

    #[tokio::test]
    async fn a_dropped_download_removes_its_part_file() {
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("backup.dump");
        let mut part = PartFile::create(&to, "GetObject", "s3://b/k")
            .await
            .unwrap();
        part.write(b"half").await.unwrap();
        drop(part);
        for _ in 0..100 {
            if !part_path(&to).exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!part_path(&to).exists());
        assert!(!to.exists());
    }
}
