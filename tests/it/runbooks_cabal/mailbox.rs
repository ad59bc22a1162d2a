//! cabal-mailbox-restore: a local directory stands in for the EFS mount
//! on moto; the sandbox run, and a user without a mailbox.

use super::*;

/// Tells the moto extension that `dir` stands in for the mount of `fs`.
fn efs_mount(fs: &str, dir: &Path) {
    let body = serde_json::json!({ "file_system_id": fs, "path": dir }).to_string();
    let out = std::process::Command::new(crate::support::python())
        .args([
            "-c",
            "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/_dr_drill/efs-mount', data=sys.argv[2].encode(), method='POST')).read()",
            &moto().endpoint,
            &body,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn uid_of(path: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).unwrap().uid()
}

#[test]
fn cabal_mailbox_restore_runs_end_to_end_against_moto() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("efs");
    let fs = format!("fs-0{:016x}", std::process::id());
    let alice = mount.join("alice/Maildir");
    write(&alice.join("cur/1700000000.M1P1.mail:2,S"), "kept");
    write(&alice.join("cur/1700000001.M2P1.mail:2,S"), "deleted later");
    write(
        &alice.join(".Archive/cur/1690000000.M3P1.mail:2,S"),
        "archived",
    );
    write(&mount.join("bob/Maildir/cur/1.mail"), "bob's");
    efs_mount(&fs, &mount);
    let vault_name = unique("cabal-backup");
    backup_resource(
        "us-east-1",
        &vault_name,
        &format!("arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{fs}"),
    );
    // The incident: alice deletes a message and a whole folder; bob writes.
    std::fs::remove_file(alice.join("cur/1700000001.M2P1.mail:2,S")).unwrap();
    std::fs::remove_dir_all(alice.join(".Archive")).unwrap();
    write(&mount.join("bob/Maildir/new/2.mail"), "bob's new");
    let out = run(
        on_moto(),
        &runbook("cabal-mailbox-restore"),
        &args(
            &[
                ("user", "alice"),
                ("uid", "4321"),
                ("gid", "4321"),
                ("file_system_id", &fs),
                ("mount", mount.to_str().unwrap()),
                ("vault", &vault_name),
                ("role_arn", ROLE),
            ],
            &[("delete-recovery-dir", "alice")],
            &[("approve-put-back", "approve"), ("smoke", "yes")],
        ),
        &dir.path().join("data"),
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("find: succeeded [exit_code=0 files=3 recovery_dir="),
        "{stdout}"
    );
    assert!(
        stdout.contains("move: succeeded [exit_code=0 kept=1 moved=2]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("chown: succeeded [chowned=4 exit_code=0 wrong_owner=0]"),
        "{stdout}"
    );
    let back = alice.join("cur/1700000001.M2P1.mail:2,S");
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "deleted later");
    assert_eq!(uid_of(&back), 4321);
    assert_eq!(
        uid_of(&alice.join(".Archive")),
        4321,
        "a folder made for it"
    );
    assert_ne!(
        uid_of(&alice.join("cur/1700000000.M1P1.mail:2,S")),
        4321,
        "untouched"
    );
    // The recovery directory is gone; bob's mail was not touched.
    let mut left: Vec<String> = std::fs::read_dir(&mount)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["alice", "bob"]);
    assert!(mount.join("bob/Maildir/new/2.mail").exists());
}

#[test]
fn cabal_mailbox_restore_runs_end_to_end_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    // chown to another uid needs root: the files are given the tester's own.
    let me = uid_of(dir.path()).to_string();
    let data = dir.path().join("data");
    let out = run(
        in_sandbox(),
        &runbook("cabal-mailbox-restore"),
        &[
            vec!["--sandbox".into(), "--speed".into(), "3600".into()],
            args(
                &[
                    ("user", "dana"),
                    ("uid", &me),
                    ("file_system_id", "fs-0c4b7e2d91a35f862"),
                    // Relative: shell steps run in the run's directory,
                    // where the sandbox lays out its mailstore.
                    ("mount", "sandbox-efs/fs-0c4b7e2d91a35f862"),
                    (
                        "role_arn",
                        "arn:aws:iam::111122223333:role/cabal-backup-role",
                    ),
                ],
                &[("delete-recovery-dir", "dana")],
                &[("approve-put-back", "approve"), ("smoke", "yes")],
            ),
        ]
        .concat(),
        &data,
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("itemsToRestore=[\"/dana\"], newFileSystem=false"),
        "{stdout}"
    );
    assert!(
        stdout.contains("move: succeeded [exit_code=0 kept="),
        "{stdout}"
    );
    assert!(stdout.contains("moved=3]"), "{stdout}");
    assert!(stdout.contains("wrong_owner=0]"), "{stdout}");
    // Everything the run wrote is inside its directory.
    let store = run_dir(&data).join("sandbox-efs/fs-0c4b7e2d91a35f862");
    let mut top: Vec<String> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    top.sort();
    assert_eq!(
        top,
        ["chris", "dana", "erin"],
        "the recovery directory is gone"
    );
    let mut top: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    top.sort();
    assert_eq!(top, ["data"]);
}

#[test]
fn a_user_without_a_mailbox_stops_the_run_before_any_restore_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(
        in_sandbox(),
        &runbook("cabal-mailbox-restore"),
        &[
            vec!["--sandbox".into(), "--speed".into(), "3600".into()],
            args(
                &[
                    ("user", "zoe"),
                    ("uid", "0"),
                    ("file_system_id", "fs-0c4b7e2d91a35f862"),
                    ("mount", "sandbox-efs/fs-0c4b7e2d91a35f862"),
                    (
                        "role_arn",
                        "arn:aws:iam::111122223333:role/cabal-backup-role",
                    ),
                ],
                &[("delete-recovery-dir", "zoe")],
                &[("approve-put-back", "approve"), ("smoke", "yes")],
            ),
        ]
        .concat(),
        &data,
    );
    let stdout = failed(&out);
    assert!(
        stdout.contains("no directory for the user at the mailstore root"),
        "{stdout}"
    );
    assert!(!stdout.contains("restore: started"), "{stdout}");
}
