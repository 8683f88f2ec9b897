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
    /// Earlier syncs too, oldest first, for the metrics pane's markers.
    pub history: Vec<SyncEntry>,
    /// Snapshots taken just before this sync (namespace/name, one per workload).
    pub snapshots: Vec<String>,
}

/// One sync of the past.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct SyncEntry {
    /// Unix seconds.
    pub at: i64,
    pub commit: String,
    pub by: String,
    /// Snapshots taken just before it, to restore when it is rolled back.
    pub snapshots: Vec<String>,
}

/// Syncs the record remembers.
pub const HISTORY: usize = 50;

fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One line per sync: "<unix seconds> <commit> <who>"; other lines are skipped.
fn parse_history(text: &str) -> Vec<SyncEntry> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ' ');
            let at = parts.next()?.parse().ok()?;
            let commit = parts.next().filter(|c| is_sha(c))?.to_string();
            Some(SyncEntry {
                at,
                commit,
                by: parts.next().unwrap_or_default().to_string(),
                snapshots: Vec::new(),
            })
        })
        .collect()
}

/// One line per sync that took snapshots: "<unix seconds> <commit> <ns/name>…".
fn attach_snapshots(history: &mut [SyncEntry], text: &str) {
    for l in text.lines() {
        let mut parts = l.split(' ');
        let (Some(at), Some(commit)) = (parts.next(), parts.next()) else {
            continue;
        };
        if let Some(e) = history
            .iter_mut()
            .find(|e| e.at.to_string() == at && e.commit == commit)
        {
            e.snapshots = parts.filter(|p| !p.is_empty()).map(String::from).collect();
        }
    }
}

impl SyncRecord {
    /// The record from the ConfigMap's data; None without a commit.
    pub fn from_data(data: &std::collections::BTreeMap<String, String>) -> Option<SyncRecord> {
        let get = |k: &str| data.get(k).cloned().unwrap_or_default();
        let commit = get("commit");
        // The ConfigMap is shared data: anything but a full SHA is not a record.
        let mut history = parse_history(&get("history"));
        attach_snapshots(&mut history, &get("snapshots"));
        let snapshots = history
            .last()
            .filter(|e| e.commit == commit)
            .map(|e| e.snapshots.clone())
            .unwrap_or_default();
        is_sha(&commit).then(|| SyncRecord {
            commit,
            path: get("path"),
            synced_at: get("syncedAt"),
            synced_by: get("syncedBy"),
            history,
            snapshots,
        })
    }

    pub fn to_data(&self) -> std::collections::BTreeMap<String, String> {
        let history: String = self
            .history
            .iter()
            .map(|e| format!("{} {} {}\n", e.at, e.commit, e.by))
            .collect();
        let snapshots: String = self
            .history
            .iter()
            .filter(|e| !e.snapshots.is_empty())
            .map(|e| format!("{} {} {}\n", e.at, e.commit, e.snapshots.join(" ")))
            .collect();
        [
            ("commit", &self.commit),
            ("path", &self.path),
            ("syncedAt", &self.synced_at),
            ("syncedBy", &self.synced_by),
            ("history", &history),
            ("snapshots", &snapshots),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
    }

    /// This sync added to the earlier ones, keeping the newest HISTORY.
    pub fn with_history(mut self, earlier: Option<SyncRecord>, at: i64) -> SyncRecord {
        let mut h = earlier.map(|r| r.history).unwrap_or_default();
        h.push(SyncEntry {
            at,
            commit: self.commit.clone(),
            by: self.synced_by.clone(),
            snapshots: self.snapshots.clone(),
        });
        let drop = h.len().saturating_sub(HISTORY);
        h.drain(..drop);
        self.history = h;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_round_trips_and_keeps_the_newest_history() {
        let r = SyncRecord {
            commit: "a".repeat(40),
            path: ".".into(),
            synced_at: "2026-11-25T10:00:00Z".into(),
            synced_by: "Alice Ng".into(),
            history: Vec::new(),
            snapshots: vec!["shop/data-db-0-x".into()],
        };
        let mut rec = r.clone().with_history(None, 100);
        assert_eq!(rec.history[0].snapshots, ["shop/data-db-0-x"]);
        for i in 0..HISTORY as i64 {
            rec = SyncRecord {
                commit: format!("{i:040x}"),
                ..r.clone()
            }
            .with_history(Some(rec), 200 + i);
        }
        assert_eq!(rec.history.len(), HISTORY);
        assert_eq!(rec.history[0].commit, format!("{:040x}", 0));
        let last = rec.history.last().unwrap();
        assert_eq!(
            (last.at, last.by.as_str()),
            (200 + HISTORY as i64 - 1, "Alice Ng")
        );
        assert_eq!(SyncRecord::from_data(&rec.to_data()), Some(rec.clone()));
        assert_eq!(
            rec.history[5].snapshots,
            ["shop/data-db-0-x"],
            "kept per sync"
        );
        // Anything but a full SHA is not a record: the ConfigMap is shared data.
        let mut data = rec.to_data();
        data.insert("commit".into(), "ünïcode".into());
        assert_eq!(SyncRecord::from_data(&data), None);
    }
}
