//! The Portworx calls a restore makes: inspect a volume, restore it from a snapshot.
use crate::exec::Writer;
use crate::sources::portworx::PxClient;
use crate::sources::px_wire::Inspected;

/// What a restore watches of a volume.
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeState {
    pub state: String,
    pub attached_on: String,
    pub error: String,
}

impl VolumeState {
    pub fn restoring(&self) -> bool {
        self.state == "VOLUME_STATE_RESTORE"
    }

    pub fn detached(&self) -> bool {
        self.attached_on.is_empty() && self.state != "VOLUME_STATE_ATTACHED"
    }
}

impl PxClient {
    pub async fn inspect(&self, id: &str) -> Result<VolumeState, String> {
        let req = self
            .http()
            .get(format!("{}/v1/volumes/inspect/{id}", self.base()));
        let i: Inspected = self.call(req, &format!("volume {id}")).await?;
        Ok(VolumeState {
            state: i.volume.state,
            attached_on: i.volume.attached_on,
            error: i.volume.error,
        })
    }

    /// Starts an in-place restore; it goes on in the background (VOLUME_STATE_RESTORE).
    pub async fn restore(&self, _w: &Writer, volume: &str, snapshot: &str) -> Result<(), String> {
        let req = self
            .http()
            .post(format!("{}/v1/volumes/snapshots/restore", self.base()))
            .json(&serde_json::json!({"volume_id": volume, "snapshot_id": snapshot}));
        let _: serde_json::Value = self
            .call(req, &format!("restore of volume {volume}"))
            .await?;
        Ok(())
    }
}
