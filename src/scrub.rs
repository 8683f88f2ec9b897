//! Tokens and passwords masked out of what sextant writes where the user's screen is not:
//! the log file, crash logs, the message of a task that failed. Secret values from the
//! cluster never get this far (the sources redact them); this catches the credentials
//! sextant itself holds (the Portworx token, Prometheus's, the kubeconfig's), should an
//! error or a panic quote one.
use crate::config::{PromAuth, Settings};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

pub const MASK: &str = "***";

/// Shorter values would mask ordinary words.
const MIN_LEN: usize = 8;

static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Masks `secret` from now on.
pub fn remember(secret: &str) {
    let s = secret.trim();
    if s.len() < MIN_LEN {
        return;
    }
    // A panic elsewhere must not stop the masking: a poisoned lock is still used.
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == s) {
        known.push(s.to_string());
        // The longest first, so a token containing another is masked whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// The credentials of the settings: tokens, the Prometheus password, the kubeconfig's
/// bearer tokens and passwords.
pub fn remember_settings(s: &Settings) {
    if let Ok(Some(t)) = &s.portworx_token {
        remember(t.expose());
    }
    match &s.prometheus_auth {
        Ok(PromAuth::Bearer(t)) | Ok(PromAuth::Basic(_, t)) => remember(t.expose()),
        _ => {}
    }
    for f in kubeconfig_files(s.kubeconfig.as_deref()) {
        if let Ok(text) = std::fs::read_to_string(&f) {
            kubeconfig_secrets(&text).iter().for_each(|t| remember(t));
        }
    }
}

/// The files kube reads: the flag, else each of $KUBECONFIG, else ~/.kube/config.
fn kubeconfig_files(explicit: Option<&Path>) -> Vec<PathBuf> {
    if let Some(p) = explicit {
        return vec![p.to_path_buf()];
    }
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(v) => std::env::split_paths(&v).collect(),
        None => std::env::home_dir()
            .map(|h| vec![h.join(".kube/config")])
            .unwrap_or_default(),
    }
}

/// Bearer tokens (inline or from a token file) and passwords of a kubeconfig's users.
pub fn kubeconfig_secrets(text: &str) -> Vec<String> {
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return Vec::new();
    };
    let users = doc.get("users").and_then(|u| u.as_sequence());
    let mut out = Vec::new();
    for user in users.into_iter().flatten().filter_map(|u| u.get("user")) {
        for key in ["token", "password"] {
            if let Some(v) = user.get(key).and_then(|v| v.as_str()) {
                out.push(v.to_string());
            }
        }
        if let Some(f) = user.get("tokenFile").and_then(|v| v.as_str())
            && let Ok(t) = std::fs::read_to_string(f)
        {
            out.push(t.trim().to_string());
        }
    }
    out
}

/// `text` with every remembered secret, and whatever follows `Bearer ` or `token=`,
/// masked. Lines and spacing are kept.
pub fn text(text: &str) -> String {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for k in known.iter() {
        if out.contains(k.as_str()) {
            out = out.replace(k.as_str(), MASK);
        }
    }
    drop(known);
    let out = after(&out, "bearer ");
    let out = after(&out, "token=");
    after(&out, "token: ")
}

/// Masks the word after each (case-insensitive) `marker`.
fn after(text: &str, marker: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(i) = lower[at..].find(marker) {
        let start = at + i + marker.len();
        out.push_str(&text[at..start]);
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '&' | ',' | ';'))
            .map_or(text.len(), |n| start + n);
        if end > start && &text[start..end] != MASK {
            out.push_str(MASK);
        } else {
            out.push_str(&text[start..end]);
        }
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// A writer that masks each write: the log's, so no line of it holds a known secret.
/// tracing-subscriber writes each event in one call, so no secret is split across two.
pub struct Writer<W>(pub W);

impl<W: Write> Write for Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .write_all(text(&String::from_utf8_lossy(buf)).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_and_bearer_tokens_are_masked_lines_kept() {
        remember("px-token-0123456789");
        remember("short");
        let t = text(
            "GET /v1 token px-token-0123456789\nAuthorization: Bearer eyJabc.def\nurl?token=abc&x=1 short",
        );
        assert_eq!(
            t,
            "GET /v1 token ***\nAuthorization: Bearer ***\nurl?token=***&x=1 short"
        );
        assert_eq!(text("Bearer ***"), "Bearer ***", "masked once");
        assert_eq!(text("no secret here"), "no secret here");
    }

    #[test]
    fn the_log_writer_masks_what_it_writes() {
        remember("kubeconfig-bearer-abcdef");
        let mut w = Writer(Vec::new());
        w.write_all(b"error: kubeconfig-bearer-abcdef refused\n")
            .unwrap();
        assert_eq!(String::from_utf8(w.0).unwrap(), "error: *** refused\n");
    }

    #[test]
    fn kubeconfig_users_give_their_tokens_and_passwords() {
        let dir = std::env::temp_dir().join(format!("sextant-scrub-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "from-a-file-123456\n").unwrap();
        let kc = format!(
            "users:\n- name: a\n  user: {{token: inline-token-1}}\n- name: b\n  user: {{username: u, password: pw-12345678}}\n- name: c\n  user: {{tokenFile: {}}}\n- name: d\n  user: {{client-certificate: x}}\n",
            file.display()
        );
        assert_eq!(
            kubeconfig_secrets(&kc),
            ["inline-token-1", "pw-12345678", "from-a-file-123456"]
        );
        assert!(kubeconfig_secrets("not: [yaml").is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}
