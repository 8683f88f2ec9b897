//! The environment's storage as issue 6 needs it: the node agent takes CSI
//! VolumeSnapshots through the Portworx simulator, and a claim made from a snapshot
//! holds exactly the snapshot-time bytes.
mod common;

use common::{env, unique};
use std::process::Command;
use std::time::{Duration, Instant};

fn kubectl(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .args(["--kubeconfig", &env("SEXTANT_TEST_KUBECONFIG")])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Polls `jsonpath` of an object until it equals `want`.
fn wait_for(ns: &str, what: &str, jsonpath: &str, want: &str) {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let got = kubectl(
            &["-n", ns, "get", what, "-o", &format!("jsonpath={jsonpath}")],
            None,
        );
        if got == want {
            return;
        }
        assert!(
            Instant::now() < end,
            "{what} {jsonpath}: {got:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The Portworx volume behind a claim, once it is bound.
fn volume_of(ns: &str, claim: &str) -> String {
    wait_for(ns, &format!("pvc/{claim}"), "{.status.phase}", "Bound");
    common::volume_of(ns, claim)
}

async fn data(volume: &str, put: Option<&str>) -> String {
    let token = std::fs::read_to_string(env("SEXTANT_TEST_PORTWORX_TOKEN_FILE")).unwrap();
    let url = format!("{}/sim/volumes/{volume}/data", env("SEXTANT_TEST_PORTWORX"));
    let http = reqwest::Client::new();
    let req = match put {
        Some(body) => http.put(url).body(body.to_string()),
        None => http.get(url),
    };
    let res = req.bearer_auth(token.trim()).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.text().await.unwrap()
}

fn claim(name: &str, from: Option<&str>) -> String {
    let source = from.map_or(String::new(), |s| {
        format!(
            "  dataSource: {{apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: {s}}}\n"
        )
    });
    format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}}}\nspec:\n  storageClassName: px-db\n  accessModes: [ReadWriteOnce]\n  resources: {{requests: {{storage: 1Gi}}}}\n{source}"
    )
}

#[tokio::test]
async fn a_claim_from_a_snapshot_holds_the_snapshot_time_bytes() {
    common::init_crypto();
    let ns = format!("snap-{}", unique());
    kubectl(&["create", "namespace", &ns], None);
    kubectl(&["-n", &ns, "apply", "-f", "-"], Some(&claim("data", None)));
    let vol = volume_of(&ns, "data");
    data(&vol, Some("before the snapshot")).await;

    let snapshot = "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\nmetadata: {name: nightly}\nspec:\n  volumeSnapshotClassName: px-csi-snapclass\n  source: {persistentVolumeClaimName: data}\n";
    kubectl(&["-n", &ns, "apply", "-f", "-"], Some(snapshot));
    wait_for(
        &ns,
        "volumesnapshot/nightly",
        "{.status.readyToUse}",
        "true",
    );
    let content = kubectl(
        &[
            "-n",
            &ns,
            "get",
            "volumesnapshot",
            "nightly",
            "-o",
            "jsonpath={.status.boundVolumeSnapshotContentName}",
        ],
        None,
    );
    let handle = kubectl(
        &[
            "get",
            "volumesnapshotcontent",
            &content,
            "-o",
            "jsonpath={.status.snapshotHandle}",
        ],
        None,
    );
    assert!(
        !handle.is_empty(),
        "the content names the Portworx snapshot"
    );

    // Writes after the snapshot stay on the volume, not in a claim made from it.
    data(&vol, Some("after the snapshot")).await;
    kubectl(
        &["-n", &ns, "apply", "-f", "-"],
        Some(&claim("restored", Some("nightly"))),
    );
    let restored = volume_of(&ns, "restored");
    assert_ne!(restored, vol);
    assert_eq!(data(&restored, None).await, "before the snapshot");
    assert_eq!(data(&vol, None).await, "after the snapshot");

    // A snapshot of a claim that does not exist says why and is not ready.
    let missing = snapshot.replace("nightly", "orphan").replace(
        "persistentVolumeClaimName: data",
        "persistentVolumeClaimName: nope",
    );
    kubectl(&["-n", &ns, "apply", "-f", "-"], Some(&missing));
    wait_for(
        &ns,
        "volumesnapshot/orphan",
        "{.status.readyToUse}",
        "false",
    );
    let why = kubectl(
        &[
            "-n",
            &ns,
            "get",
            "volumesnapshot",
            "orphan",
            "-o",
            "jsonpath={.status.error.message}",
        ],
        None,
    );
    assert!(why.contains("nope") && why.contains("not found"), "{why}");
}
