//! `file.decrypt`: an encrypted backup file (downloaded by an earlier step)
//! decrypted with a key from a secret parameter. The tag is checked before
//! anything is written; the plaintext goes through `TO.part`, renamed into
//! place when complete. The key never reaches a message.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use zeroize::Zeroizing;

use super::paths::local_path;
use super::{StepCtx, StepError};
use crate::crypt::{self, Layout};
use crate::engine::values::Outputs;
use crate::format::human_bytes;
use crate::runbook::kinds::CipherLayout;
use crate::runbook::kinds::FileDecrypt;

/// Largest file `file.decrypt` reads (it decrypts in memory).
pub const MAX_DECRYPT_BYTES: u64 = 1024 * 1024 * 1024;

pub async fn decrypt(ctx: &StepCtx, a: &FileDecrypt) -> Result<Outputs, StepError> {
    let from = local_path(ctx, "from", &a.from.value)?;
    let to = local_path(ctx, "to", &a.to.value)?;
    if from == to {
        return Err(StepError::Fatal(format!(
            "`from` and `to` are the same file {}: write the plaintext to another file",
            from.display()
        )));
    }
    let layout = match a.layout {
        CipherLayout::Iv16Tag16Ciphertext => Layout::Iv16Tag16Ciphertext,
        CipherLayout::Iv12CiphertextTag16 => Layout::Iv12CiphertextTag16,
    };
    let key_text = Zeroizing::new(ctx.resolve(&a.key.value)?);
    let key = crypt::parse_key(&key_text).map_err(|e| {
        StepError::Fatal(format!(
            "`key` cannot be used: {e}. Check the secret parameter the step reads"
        ))
    })?;
    drop(key_text);
    // Decryption holds the file and its plaintext in memory: a file over
    // the cap is refused before it is read.
    if let Ok(meta) = tokio::fs::metadata(&from).await
        && meta.len() > MAX_DECRYPT_BYTES
    {
        return Err(StepError::Fatal(format!(
            "{} is {}, over file.decrypt's cap of {} (it decrypts in memory); decrypt it outside dr-drill (e.g. openssl in a shell step)",
            from.display(),
            human_bytes(meta.len()),
            human_bytes(MAX_DECRYPT_BYTES)
        )));
    }
    let data = tokio::fs::read(&from).await.map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            "the step that downloads it must run first (put it in `needs`)"
        } else {
            "check that it is a file this user may read"
        };
        StepError::Fatal(format!("cannot read {}: {e}; {hint}", from.display()))
    })?;
    let encrypted = data.len();
    let shown = from.display().to_string();
    // Decryption is CPU work on the whole file: off the runtime's threads.
    let (plain, sha256) = tokio::task::spawn_blocking(move || {
        crypt::decrypt(&key, layout, data).map(|plain| {
            let sha256 = hex::encode(Sha256::digest(plain.as_slice()));
            (plain, sha256)
        })
    })
    .await
    .map_err(|e| StepError::Failed(format!("decrypting {shown} stopped: {e}")))?
    .map_err(|e| {
        StepError::Fatal(format!(
            "cannot decrypt {}: {e}; nothing was written",
            from.display()
        ))
    })?;
    write_in_place(&to, &plain).await?;
    ctx.progress(format!(
        "decrypted {} ({encrypted} bytes, AES-256-GCM, layout {}, tag verified) into {} ({} bytes, SHA-256 {sha256})",
        from.display(),
        layout.name(),
        to.display(),
        plain.len()
    ))
    .await?;
    Ok(Outputs::from([
        ("path".to_string(), to.display().to_string()),
        ("size_bytes".to_string(), plain.len().to_string()),
        ("sha256".to_string(), sha256),
    ]))
}

/// Writes `bytes` to `TO.part` (directories created), readable by this
/// user only (a plaintext holds secrets), syncs it and renames it to `to`.
/// On failure, or when the step is cancelled or times out mid-write, the
/// `.part` file is removed.
async fn write_in_place(to: &Path, bytes: &[u8]) -> Result<(), StepError> {
    /// Removes the file when dropped before it was renamed into place.
    struct Part(Option<PathBuf>);
    impl Drop for Part {
        fn drop(&mut self) {
            if let Some(path) = self.0.take() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    let mut part = Part(Some(to.with_file_name(name)));
    let path = part.0.clone().unwrap_or_default();
    let result = async {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsx::create_private_dir_async(dir).await?;
        }
        let mut file = crate::fsx::create_private_file_async(&path).await?;
        file.write_all(bytes).await?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&path, to).await?;
        part.0 = None;
        Ok::<(), std::io::Error>(())
    }
    .await;
    result.map_err(|e| {
        StepError::Fatal(format!(
            "cannot write {}: {e}; check the free space and permissions there, or give the step another `to`",
            to.display()
        ))
    })
}
