//! Terraform's state-manager contract: lineage never changes, the serial
//! rises by one per real change and not for identical writes, and pushes of
//! foreign lineages or older serials are refused unless forced.

use meshform_state::{
    tfstate, Action, Change, CommitOutcome, ExactJson, InstanceStatus, ObjectKey, OutputState,
    StateError,
};

use crate::common::{addr, thing, TempState};

#[test]
fn lineage_is_constant_and_serial_rises_only_on_real_change() {
    let t = TempState::new();
    let mut store = t.open("apply");
    let (lineage, serial) = store.lineage_and_serial().unwrap();
    assert_eq!(serial, 0);
    assert_eq!(lineage.len(), 36, "a UUID lineage");

    let a = thing("fake_thing.a", r#"{"id":"1","name":"a"}"#);
    assert_eq!(
        store.put_object(a.clone()).unwrap(),
        CommitOutcome::Committed { serial: 1 }
    );
    assert_eq!(
        store.put_object(a.clone()).unwrap(),
        CommitOutcome::Unchanged { serial: 1 }
    );
    let mut a2 = a.clone();
    a2.attributes = ExactJson::parse(r#"{"id":"1","name":"b"}"#).unwrap();
    assert_eq!(store.put_object(a2).unwrap().serial(), 2);
    let output = OutputState {
        value: ExactJson::parse(r#""x""#).unwrap(),
        type_json: serde_json::json!("string"),
        sensitive: false,
    };
    assert_eq!(
        store
            .set_output("o", Some(output.clone()))
            .unwrap()
            .serial(),
        3
    );
    assert_eq!(
        store.set_output("o", Some(output)).unwrap(),
        CommitOutcome::Unchanged { serial: 3 }
    );
    assert_eq!(
        store
            .delete_object(ObjectKey::current(addr("fake_thing.zzz")))
            .unwrap(),
        CommitOutcome::Unchanged { serial: 3 }
    );
    assert_eq!(
        store
            .set_tainted(&addr("fake_thing.a"), true)
            .unwrap()
            .serial(),
        4
    );
    assert_eq!(
        store.set_tainted(&addr("fake_thing.a"), true).unwrap(),
        CommitOutcome::Unchanged { serial: 4 }
    );
    assert_eq!(
        store.snapshot().unwrap().instances[0].status,
        InstanceStatus::Tainted
    );
    assert_eq!(
        store
            .delete_object(ObjectKey::current(addr("fake_thing.a")))
            .unwrap()
            .serial(),
        5
    );

    // Reopening changes nothing.
    drop(store);
    let store = t.open("plan");
    let snap = store.snapshot().unwrap();
    assert_eq!((snap.lineage.as_str(), snap.serial), (lineage.as_str(), 5));
    let actions: Vec<(u64, Action)> = store
        .history(None)
        .unwrap()
        .iter()
        .map(|h| (h.serial, h.action))
        .collect();
    assert_eq!(
        actions,
        vec![
            (1, Action::Create),
            (2, Action::Update),
            (3, Action::Output),
            (4, Action::Taint),
            (5, Action::Delete)
        ]
    );
    assert!(store.history(Some("fake_thing")).unwrap().is_empty());
    assert_eq!(store.history(Some("output.o")).unwrap().len(), 1);
    let a_history = store.history(Some("fake_thing.a")).unwrap();
    assert_eq!(a_history.len(), 4);
    assert!(a_history.iter().all(|h| h.command == "apply"));
    assert!(a_history[0].before.is_none());
    assert!(a_history[3].after.is_none());
}

#[test]
fn a_commit_of_several_changes_bumps_the_serial_once() {
    let t = TempState::new();
    let mut store = t.open("apply");
    let outcome = store
        .commit(vec![
            Change::Put(thing("fake_thing.a", "{}")),
            Change::Put(thing("fake_thing.b", "{}")),
            Change::Move {
                from: addr("fake_thing.b"),
                to: addr("fake_thing.c[\"k\"]"),
            },
        ])
        .unwrap();
    assert_eq!(outcome.serial(), 1);
    let listed: Vec<String> = store
        .list_objects()
        .unwrap()
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(listed, vec!["fake_thing.a", "fake_thing.c[\"k\"]"]);
    assert_eq!(store.history(None).unwrap().len(), 3);
    let err = store
        .commit(vec![Change::Move {
            from: addr("fake_thing.a"),
            to: addr("fake_thing.c[\"k\"]"),
        }])
        .unwrap_err();
    assert!(matches!(err, StateError::ObjectExists { .. }), "{err}");
    assert_eq!(
        store.lineage_and_serial().unwrap().1,
        1,
        "a failed commit writes nothing"
    );
}

fn state_file(lineage: &str, serial: u64, name: &str) -> String {
    format!(
        r#"{{"version":4,"terraform_version":"1.0.3","serial":{serial},"lineage":"{lineage}","outputs":{{}},
        "resources":[{{"mode":"managed","type":"fake_thing","name":"{name}","provider":"provider[\"registry.terraform.io/hashicorp/fake\"]",
        "instances":[{{"schema_version":0,"attributes":{{"id":"x"}},"sensitive_attributes":[]}}]}}]}}"#
    )
}

#[test]
fn push_refuses_foreign_lineage_and_older_serial_unless_forced() {
    let t = TempState::new();
    let mut store = t.open("state push");
    // An empty state accepts anything and adopts its lineage.
    let first = tfstate::parse_tfstate(&state_file("lin-1", 5, "a")).unwrap();
    assert_eq!(store.push(&first, false).unwrap().serial(), 5);
    assert_eq!(store.lineage_and_serial().unwrap(), ("lin-1".to_owned(), 5));

    let foreign = tfstate::parse_tfstate(&state_file("lin-2", 9, "b")).unwrap();
    let err = store.push(&foreign, false).unwrap_err();
    assert!(matches!(err, StateError::LineageMismatch { .. }), "{err}");

    let older = tfstate::parse_tfstate(&state_file("lin-1", 4, "b")).unwrap();
    let err = store.push(&older, false).unwrap_err();
    assert!(
        matches!(
            err,
            StateError::OlderSerial {
                current: 5,
                pushed: 4
            }
        ),
        "{err}"
    );
    assert_eq!(store.snapshot().unwrap().instances[0].addr.name, "a");

    // Same lineage, newer serial: accepted, serial taken from the file.
    let newer = tfstate::parse_tfstate(&state_file("lin-1", 8, "b")).unwrap();
    assert_eq!(store.push(&newer, false).unwrap().serial(), 8);
    // Forced: the serial still rises even though the file's is older.
    let older_other = tfstate::parse_tfstate(&state_file("lin-1", 4, "c")).unwrap();
    assert_eq!(store.push(&older_other, true).unwrap().serial(), 9);
    assert_eq!(store.push(&foreign, true).unwrap().serial(), 10);
    assert_eq!(
        store.lineage_and_serial().unwrap(),
        ("lin-2".to_owned(), 10)
    );
    // Pushing the same content again changes nothing.
    assert_eq!(
        store.push(&foreign, true).unwrap(),
        CommitOutcome::Unchanged { serial: 10 }
    );
}

#[test]
fn adopt_needs_an_empty_workspace_unless_forced() {
    let t = TempState::new();
    let mut store = t.open("state import-tfstate");
    store.put_object(thing("fake_thing.z", "{}")).unwrap();
    let file = tfstate::parse_tfstate(&state_file("lin-1", 3, "a")).unwrap();
    let err = store.adopt(&file, false).unwrap_err();
    assert!(matches!(err, StateError::StateNotEmpty { .. }), "{err}");
    store.adopt(&file, true).unwrap();
    let snap = store.snapshot().unwrap();
    assert_eq!(snap.lineage, "lin-1");
    assert_eq!(snap.instances.len(), 1);
    assert_eq!(snap.instances[0].addr.name, "a");
}

#[test]
fn workspaces_are_separate_states() {
    let t = TempState::new();
    let mut default = t.open("apply");
    default.put_object(thing("fake_thing.a", "{}")).unwrap();
    default.create_workspace("staging").unwrap();
    assert!(matches!(
        default.create_workspace("staging"),
        Err(StateError::WorkspaceExists { .. })
    ));
    let staging = meshform_state::StateStore::open(
        &t.db(),
        meshform_state::OpenOptions::new("apply").workspace("staging"),
    )
    .unwrap();
    assert!(staging.snapshot().unwrap().is_empty());
    assert_ne!(
        staging.lineage_and_serial().unwrap().0,
        default.lineage_and_serial().unwrap().0
    );
    let names: Vec<String> = default
        .list_workspaces()
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, vec!["default", "staging"]);
    assert!(matches!(
        default.delete_workspace("default", true),
        Err(StateError::DeleteDefaultWorkspace)
    ));
    drop(staging);
    default.delete_workspace("staging", false).unwrap();
    assert!(matches!(
        meshform_state::StateStore::open(
            &t.db(),
            meshform_state::OpenOptions::new("apply").workspace("staging")
        ),
        Err(StateError::WorkspaceNotFound { .. })
    ));
}

#[test]
fn rm_and_mv_select_by_module_resource_or_instance() {
    use meshform_state::ops::{move_matching, remove_matching};
    let t = TempState::new();
    let mut store = t.open("state mv");
    store
        .commit(vec![
            Change::Put(thing("fake_thing.a[0]", "{}")),
            Change::Put(thing("fake_thing.a[1]", "{}")),
            Change::Put(thing("module.m.fake_thing.x", "{}")),
            Change::Put(thing("data.fake_echo.e", "{}")),
        ])
        .unwrap();
    let moves = move_matching(&mut store, "fake_thing.a", "fake_thing.b", false).unwrap();
    assert_eq!(moves.len(), 2);
    move_matching(&mut store, "module.m", "module.n[\"k\"]", false).unwrap();
    let err = move_matching(&mut store, "data.fake_echo.e", "fake_thing.e", false).unwrap_err();
    assert!(matches!(err, StateError::InvalidMove { .. }), "{err}");
    let listed = |store: &meshform_state::StateStore| -> Vec<String> {
        store
            .list_objects()
            .unwrap()
            .iter()
            .map(|k| k.to_string())
            .collect()
    };
    assert_eq!(
        listed(&store),
        vec![
            "data.fake_echo.e",
            "fake_thing.b[0]",
            "fake_thing.b[1]",
            "module.n[\"k\"].fake_thing.x"
        ]
    );
    let serial = store.lineage_and_serial().unwrap().1;
    assert_eq!(serial, 3, "one serial per command");
    let err =
        remove_matching(&mut store, &["fake_thing.b".into(), "nope.x".into()], false).unwrap_err();
    assert!(matches!(err, StateError::NoMatch { .. }), "{err}");
    assert_eq!(
        listed(&store).len(),
        4,
        "nothing removed when one pattern fails"
    );
    let removed = remove_matching(
        &mut store,
        &["fake_thing.b[1]".into(), "module.n".into()],
        false,
    )
    .unwrap();
    assert_eq!(removed.len(), 2);
    assert_eq!(listed(&store), vec!["data.fake_echo.e", "fake_thing.b[0]"]);
}

#[test]
fn the_schema_version_is_recorded_and_a_newer_one_refused() {
    let t = TempState::new();
    drop(t.open("init"));
    let conn = rusqlite::Connection::open(t.db()).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, meshform_state::SCHEMA_VERSION);
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = meshform_state::StateStore::open(&t.db(), meshform_state::OpenOptions::new("plan"))
        .unwrap_err();
    assert!(
        matches!(err, StateError::SchemaTooNew { found: 99, .. }),
        "{err}"
    );
}

/// The sequence of Terraform's full state-manager check: starting from a
/// state with a module resource and two outputs (one sensitive), a real
/// change moves the serial and keeps lineage and version, an identical
/// write keeps the serial, and what reads back equals what was written.
#[test]
fn terraform_full_state_manager_sequence() {
    let t = TempState::new();
    let mut store = t.open("apply");
    let string = |s: &str, sensitive: bool| OutputState {
        value: ExactJson::string(s),
        type_json: serde_json::json!("string"),
        sensitive,
    };
    store
        .commit(vec![
            Change::Put(thing("module.child.null_resource.foo", "{}")),
            Change::SetOutput {
                name: "sensitive_output".into(),
                output: Some(string("it's a secret", true)),
            },
            Change::SetOutput {
                name: "nonsensitive_output".into(),
                output: Some(string("hello, world!", false)),
            },
        ])
        .unwrap();
    let initial = store.snapshot().unwrap();

    store.set_output("bar", Some(string("baz", false))).unwrap();
    let after_change = store.snapshot().unwrap();
    assert_eq!(after_change.lineage, initial.lineage);
    assert_ne!(after_change.serial, initial.serial);

    // Writing the same state again keeps the serial.
    for output in ["sensitive_output", "nonsensitive_output", "bar"] {
        let same = after_change.outputs[output].clone();
        store.set_output(output, Some(same)).unwrap();
    }
    store.put_object(after_change.instances[0].clone()).unwrap();
    assert_eq!(store.snapshot().unwrap().serial, after_change.serial);

    store
        .set_output("serialCheck", Some(string("true", false)))
        .unwrap();
    let last = store.snapshot().unwrap();
    assert!(last.serial > after_change.serial);
    assert_eq!(last.terraform_version, after_change.terraform_version);
    assert_eq!(last.lineage, initial.lineage);

    // The persisted state marshals identically to what was written.
    let mut expected = after_change.clone();
    expected
        .outputs
        .insert("serialCheck".into(), string("true", false));
    expected.serial = last.serial;
    assert_eq!(
        tfstate::to_tfstate_json(&last),
        tfstate::to_tfstate_json(&expected)
    );
    drop(store);
    assert_eq!(t.open("show").snapshot().unwrap(), last);
}

#[test]
fn create_before_destroy_deposes_then_replaces_then_deletes_the_old_object() {
    let t = TempState::new();
    let mut store = t.open("apply");
    store
        .put_object(thing("fake_thing.r", r#"{"id":"old"}"#))
        .unwrap();
    let key = meshform_state::new_deposed_key();
    assert_eq!(key.len(), 8);
    store
        .commit(vec![Change::Depose {
            addr: addr("fake_thing.r"),
            key: key.clone(),
        }])
        .unwrap();
    store
        .put_object(thing("fake_thing.r", r#"{"id":"new"}"#))
        .unwrap();
    let snap = store.snapshot().unwrap();
    assert_eq!(snap.instances.len(), 2);
    assert_eq!(
        snap.instance(&addr("fake_thing.r"))
            .unwrap()
            .attributes
            .as_str(),
        r#"{"id":"new"}"#
    );
    let pulled = tfstate::to_tfstate_json(&snap);
    assert!(
        pulled.contains(&format!("\"deposed\": \"{key}\"")),
        "{pulled}"
    );
    assert_eq!(
        tfstate::parse_tfstate(&pulled).unwrap().instances,
        snap.instances
    );
    store
        .delete_object(ObjectKey {
            addr: addr("fake_thing.r"),
            deposed: Some(key),
        })
        .unwrap();
    let actions: Vec<Action> = store
        .history(Some("fake_thing.r"))
        .unwrap()
        .iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            Action::Create,
            Action::Depose,
            Action::Create,
            Action::Delete
        ]
    );
    assert_eq!(store.snapshot().unwrap().instances.len(), 1);
}
