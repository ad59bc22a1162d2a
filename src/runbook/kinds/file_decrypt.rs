//! `kind = "file.decrypt"`: decrypt a local file (AES-256-GCM), checking its
//! authentication tag. Acts on no cloud.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, StepChecks};
use crate::runbook::diagnostic::Code;
use crate::runbook::field::{Span, Text, custom, fields, string_enum};
use crate::runbook::template;

string_enum! {
    /// The cipher of an encrypted file.
    pub enum Cipher {
        /// AES-256 in Galois/Counter Mode (authenticated).
        Aes256Gcm = "aes-256-gcm",
    }
}

string_enum! {
    /// Where an encrypted file keeps its IV and tag around the ciphertext.
    #[derive(Default)]
    pub enum CipherLayout {
        /// A 16-byte IV, the 16-byte tag, then the ciphertext.
        #[default]
        Iv16Tag16Ciphertext = "iv16-tag16-ciphertext",
        /// A 12-byte IV, the ciphertext, then the 16-byte tag.
        Iv12CiphertextTag16 = "iv12-ciphertext-tag16",
    }
}

fields! {
    /// `kind = "file.decrypt"`.
    pub struct FileDecrypt {
        /// The encrypted file; relative paths are under the run directory.
        from: Text = req,
        /// The plaintext file to write; relative paths are under the run
        /// directory.
        to: Text = req,
        /// The cipher.
        cipher: Cipher = req,
        /// Where the file keeps the IV and the tag.
        #[serde(default)]
        layout: CipherLayout = def,
        /// The 32-byte key as 64 hex digits or base64: a secret parameter,
        /// `{{ params.NAME }}`.
        key: Text = req,
    }
}

impl KindRules for FileDecrypt {
    fn effect(&self) -> Effect {
        Effect::Writes
    }

    fn outputs(&self) -> Vec<&str> {
        vec!["path", "size_bytes", "sha256"]
    }

    fn confirm_target(&self) -> Option<&Text> {
        Some(&self.to)
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, show: &dyn Fn(&str) -> String, _description: Option<&str>) -> Option<String> {
        Some(format!(
            "{} is decrypted into {}, replacing the file if it exists",
            show(&self.from.value),
            show(&self.to.value)
        ))
    }

    fn uses_aws(&self) -> bool {
        false
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        vec![]
    }

    fn headless_answer_missing(&self, _id: &str, _given: Option<&str>) -> Option<String> {
        None
    }

    fn cross_field_errors(&self, _step_span: Span, errors: &mut Vec<Error>) {
        if template::same(&self.from.value, &self.to.value) {
            errors.push(custom(
                Code::Conflict,
                self.to.span,
                format!("`from` and `to` are the same file `{}`", self.to.value),
                "write the plaintext to another file, e.g. to = \"vault.snap\"",
            ));
        }
    }

    fn check(&self, step: &mut dyn StepChecks) {
        step.secret_key(&self.key);
    }
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "decrypt"
kind = "file.decrypt"
from = "a.enc"
to = "a"
cipher = "aes-256-gcm"
key = "{{ params.key }}"
"#;
