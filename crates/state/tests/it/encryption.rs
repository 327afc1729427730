//! Secrets at rest: with a key, sensitive values are not in the database
//! file; with the key they read back; a wrong or missing key is a clear
//! error.

use meshform_state::{
    AttrPath, ExactJson, OpenOptions, OutputState, StateError, StateKey, StateStore,
};

use crate::common::{contains, raw_bytes, thing, TempState};

const SECRET: &str = "s3cr3t-token-value";
const SECRET_OUTPUT: &str = "output-secret-value";

fn key(byte: u8) -> StateKey {
    StateKey::from_bytes(&[byte; 32]).unwrap()
}

fn write_secrets(store: &mut StateStore) {
    let mut inst = thing(
        "fake_thing.s",
        &format!(
            r#"{{"id":"id-1","password":"{SECRET}","tags":{{"token":"{SECRET}-tag","plain":"visible"}}}}"#
        ),
    );
    inst.schema_sensitive_paths = vec![AttrPath::attr("password")];
    inst.sensitive_paths = vec![serde_json::from_str(
        r#"[{"type":"get_attr","value":"tags"},{"type":"index","value":{"value":"token","type":"string"}}]"#,
    )
    .unwrap()];
    store.put_object(inst).unwrap();
    store
        .set_output(
            "token",
            Some(OutputState {
                value: ExactJson::string(SECRET_OUTPUT),
                type_json: serde_json::json!("string"),
                sensitive: true,
            }),
        )
        .unwrap();
}

#[test]
fn with_a_key_secrets_are_unreadable_in_the_file_and_readable_with_it() {
    let t = TempState::new();
    let mut store = t.open_with_key(&key(7));
    write_secrets(&mut store);
    // Update the object so history holds before and after values too.
    let mut inst = store.snapshot().unwrap().instances[0].clone();
    inst.attributes = inst
        .attributes
        .replace(&AttrPath::attr("id"), ExactJson::string("id-2"))
        .unwrap()
        .0;
    store.put_object(inst).unwrap();
    drop(store);

    let bytes = raw_bytes(&t.db());
    assert!(
        contains(&bytes, "visible"),
        "non-sensitive values stay plain"
    );
    assert!(
        !contains(&bytes, SECRET),
        "the secret must not be in the database file"
    );
    assert!(!contains(&bytes, SECRET_OUTPUT));

    let store = t.open_with_key(&key(7));
    assert_eq!(store.key_version(), Some(1));
    let snap = store.snapshot().unwrap();
    let attrs = snap.instances[0].attributes.to_value();
    assert_eq!(attrs["password"], SECRET);
    assert_eq!(attrs["tags"]["token"], format!("{SECRET}-tag"));
    assert_eq!(attrs["tags"]["plain"], "visible");
    assert_eq!(attrs["id"], "id-2");
    assert_eq!(
        snap.outputs["token"].value.as_string().unwrap(),
        SECRET_OUTPUT
    );
    // The export carries the values (state pull is how they leave).
    let pulled = meshform_state::tfstate::to_tfstate_json(&snap);
    assert!(pulled.contains(SECRET));
    // History keeps secrets out too: they read back as null.
    let history = store.history(Some("fake_thing.s")).unwrap();
    assert_eq!(history.len(), 2);
    let after = history[1].after.as_ref().unwrap().to_value();
    assert_eq!(after["attributes"]["password"], serde_json::Value::Null);
}

#[test]
fn a_wrong_key_is_a_clear_error() {
    let t = TempState::new();
    write_secrets(&mut t.open_with_key(&key(7)));
    let err = StateStore::open(&t.db(), OpenOptions::new("apply").key(Some(key(8)))).unwrap_err();
    assert!(
        matches!(err, StateError::WrongKey { key_version: 1 }),
        "{err}"
    );
    assert!(
        err.to_string().contains("does not match key version 1"),
        "{err}"
    );
}

#[test]
fn a_missing_key_is_a_clear_error_for_reads_and_secret_writes() {
    let t = TempState::new();
    write_secrets(&mut t.open_with_key(&key(7)));
    let mut store = t.open("apply");
    let err = store.snapshot().unwrap_err();
    assert!(
        matches!(err, StateError::KeyRequired { key_version: 1 }),
        "{err}"
    );
    // Listing needs no key.
    assert_eq!(store.list_objects().unwrap().len(), 1);
    // Writing another secret without the key would leave it in the clear.
    let mut inst = thing("fake_thing.t", r#"{"password":"p"}"#);
    inst.schema_sensitive_paths = vec![AttrPath::attr("password")];
    let err = store.put_object(inst).unwrap_err();
    assert!(matches!(err, StateError::KeyRequired { .. }), "{err}");
    // Objects without secrets can still be written.
    store
        .put_object(thing("fake_thing.plain", r#"{"a":1}"#))
        .unwrap();
}

#[test]
fn without_a_key_secrets_are_stored_plain() {
    let t = TempState::new();
    let mut store = t.open("apply");
    write_secrets(&mut store);
    drop(store);
    assert!(contains(&raw_bytes(&t.db()), SECRET));
    let snap = t.open("show").snapshot().unwrap();
    assert_eq!(snap.instances[0].attributes.to_value()["password"], SECRET);
}

#[test]
fn a_tampered_secret_is_reported_not_returned() {
    let t = TempState::new();
    write_secrets(&mut t.open_with_key(&key(7)));
    let conn = rusqlite::Connection::open(t.db()).unwrap();
    conn.execute(
        "UPDATE resource_instances SET secrets = zeroblob(length(secrets))",
        [],
    )
    .unwrap();
    drop(conn);
    let err = t.open_with_key(&key(7)).snapshot().unwrap_err();
    assert!(
        matches!(err, StateError::Corrupt { key_version: 1 }),
        "{err}"
    );
}

#[test]
fn rekey_encrypts_plain_secrets_and_rotates_keys() {
    let t = TempState::new();
    let mut store = t.open("apply");
    write_secrets(&mut store);
    drop(store);
    assert!(contains(&raw_bytes(&t.db()), SECRET));

    // No key yet: rekey encrypts what was plain, history included.
    let mut store = t.open("state rekey");
    assert_eq!(store.rekey(key(1)).unwrap(), 1);
    drop(store);
    let bytes = raw_bytes(&t.db());
    assert!(
        !contains(&bytes, SECRET),
        "plain secrets were left in the file"
    );
    assert!(!contains(&bytes, SECRET_OUTPUT));
    let snap = t.open_with_key(&key(1)).snapshot().unwrap();
    assert_eq!(snap.instances[0].attributes.to_value()["password"], SECRET);

    // Rotate to a second key: the first stops working.
    let mut store = t.open_with_key(&key(1));
    assert_eq!(store.rekey(key(2)).unwrap(), 2);
    assert_eq!(store.snapshot().unwrap(), snap);
    drop(store);
    let err = StateStore::open(&t.db(), OpenOptions::new("apply").key(Some(key(1)))).unwrap_err();
    assert!(
        matches!(err, StateError::WrongKey { key_version: 2 }),
        "{err}"
    );
    let store = t.open_with_key(&key(2));
    assert_eq!(store.key_version(), Some(2));
    assert_eq!(store.snapshot().unwrap(), snap);
    assert_eq!(store.history(None).unwrap().len(), 2);

    // Without the current key a rotation is refused and changes nothing.
    let mut keyless = t.open("state rekey");
    let err = keyless.rekey(key(3)).unwrap_err();
    assert!(
        matches!(err, StateError::KeyRequired { key_version: 2 }),
        "{err}"
    );
    assert_eq!(t.open_with_key(&key(2)).snapshot().unwrap(), snap);
}
