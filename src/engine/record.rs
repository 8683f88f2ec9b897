//! The sync record: which commit the cluster was last synced to, kept in the cluster
//! (ConfigMap sextant-system/sync-APP) so every user sees it without local state.
use serde::Serialize;

pub const NAMESPACE: &str = "sextant-system";

/// The record's ConfigMap: one per app, so several repositories can sync one cluster.
pub fn name(app: &str) -> String {
    format!("sync-{app}")
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct SyncRecord {
    /// Full SHA of the synced commit.
    pub commit: String,
    /// Folder of the repository that was synced.
    pub path: String,
    /// RFC 3339 time of the sync.
    pub synced_at: String,
    /// Who synced: the git user, else $USER.
    pub synced_by: String,
}

impl SyncRecord {
    /// The record from the ConfigMap's data; None without a commit.
    pub fn from_data(data: &std::collections::BTreeMap<String, String>) -> Option<SyncRecord> {
        let get = |k: &str| data.get(k).cloned().unwrap_or_default();
        let commit = get("commit");
        (!commit.is_empty()).then(|| SyncRecord {
            commit,
            path: get("path"),
            synced_at: get("syncedAt"),
            synced_by: get("syncedBy"),
        })
    }

    pub fn to_data(&self) -> std::collections::BTreeMap<String, String> {
        [
            ("commit", &self.commit),
            ("path", &self.path),
            ("syncedAt", &self.synced_at),
            ("syncedBy", &self.synced_by),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
    }
}
