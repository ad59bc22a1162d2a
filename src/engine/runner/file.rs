//! `file.decrypt`: an encrypted backup file (downloaded by an earlier step)
//! decrypted with a key from a secret parameter. The tag is checked before
//! anything is written; the plaintext goes through `TO.part`, renamed into
//! place when complete. The key never reaches a message.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use zeroize::Zeroizing;

use super::{StepCtx, StepError};
use crate::crypt::{self, Layout};
use crate::engine::values::Outputs;
use crate::runbook::kinds::FileDecrypt;
use crate::runbook::model::{CipherLayout, Text};

/// A path of the step, a relative one under the run directory.
fn local(ctx: &StepCtx, text: &Text) -> Result<PathBuf, StepError> {
    let path = PathBuf::from(ctx.resolve(&text.value)?);
    Ok(if path.is_relative() {
        ctx.run_dir.join(path)
    } else {
        path
    })
}

pub async fn decrypt(ctx: &StepCtx, a: &FileDecrypt) -> Result<Outputs, StepError> {
    let from = local(ctx, &a.from)?;
    let to = local(ctx, &a.to)?;
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
    let data = tokio::fs::read(&from).await.map_err(|e| {
        StepError::Fatal(format!(
            "cannot read {}: {e}; the step that downloads it must run first (put it in `needs`)",
            from.display()
        ))
    })?;
    let encrypted = data.len();
    let shown = from.display().to_string();
    // Decryption is CPU work on the whole file: off the runtime's threads.
    let plain = tokio::task::spawn_blocking(move || crypt::decrypt(&key, layout, data))
        .await
        .map_err(|e| StepError::Failed(format!("decrypting {shown} stopped: {e}")))?
        .map_err(|e| {
            StepError::Fatal(format!(
                "cannot decrypt {}: {e}; nothing was written",
                from.display()
            ))
        })?;
    let sha256 = hex::encode(Sha256::digest(plain.as_slice()));
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

/// Writes `bytes` to `TO.part` (directories created), syncs it and renames
/// it to `to`; on failure nothing is left behind.
async fn write_in_place(to: &Path, bytes: &[u8]) -> Result<(), StepError> {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    let part = to.with_file_name(name);
    let result = async {
        if let Some(dir) = part.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await?;
        }
        let mut file = tokio::fs::File::create(&part).await?;
        file.write_all(bytes).await?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&part, to).await
    }
    .await;
    result.map_err(|e| {
        let part = part.clone();
        tokio::spawn(async move {
            let _ = tokio::fs::remove_file(part).await;
        });
        StepError::Fatal(format!(
            "cannot write {}: {e}; check the free space and permissions there, or give the step another `to`",
            to.display()
        ))
    })
}
