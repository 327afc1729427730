//! Functions that need fixtures from `testdata/lang`.

use std::sync::Arc;

use meshform_lang::{EvalContext, MemoryFiles, Value};

use crate::support::eval_src;

fn testdata(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/lang")
        .join(path);
    std::fs::read_to_string(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()))
}

fn with_files(files: &[(&str, String)]) -> EvalContext {
    let mut mem = MemoryFiles::new();
    for (path, content) in files {
        mem.insert(path, content.clone().into_bytes());
    }
    EvalContext::new().with_files(Arc::new(mem))
}

#[test]
fn rsadecrypt_reads_pkcs1_and_pkcs8_keys() {
    let cipher = testdata("rsadecrypt/ciphertext.b64");
    for key in ["rsadecrypt/key.pem", "rsadecrypt/key-pkcs8.pem"] {
        let ctx = with_files(&[("key.pem", testdata(key))]);
        let src = format!("rsadecrypt({:?}, file(\"key.pem\"))", cipher.trim());
        assert_eq!(
            eval_src(&src, ctx).unwrap(),
            Value::string("meshform secret"),
            "{key}"
        );
    }
    let ctx = with_files(&[("key.pem", "not a key".to_owned())]);
    assert!(eval_src("rsadecrypt(\"AAAA\", file(\"key.pem\"))", ctx).is_err());
}

#[test]
fn templatefile_requires_every_referenced_var() {
    let ctx = with_files(&[("t.tftpl", "%{ if false }${missing}%{ endif }ok".to_owned())]);
    let err = eval_src("templatefile(\"t.tftpl\", {})", ctx.clone()).unwrap_err();
    assert!(err.contains("vars map does not contain key"), "{err}");
    assert_eq!(
        eval_src("templatefile(\"t.tftpl\", { missing = 1 })", ctx).unwrap(),
        Value::string("ok")
    );
}

#[test]
fn templatefile_cannot_call_itself() {
    let ctx = with_files(&[("t.tftpl", "${templatefile(\"t.tftpl\", {})}".to_owned())]);
    assert!(eval_src("templatefile(\"t.tftpl\", {})", ctx).is_err());
}

#[test]
fn template_numbers_come_from_the_template_text() {
    // The template's number literal sits at the same offset as a different
    // number in the calling file: it must be read from the template.
    let ctx = with_files(&[("t.tftpl", "1 ${2}".to_owned())]);
    assert_eq!(
        eval_src("1 + 0 == 1 ? templatefile(\"t.tftpl\", {}) : \"\"", ctx).unwrap(),
        Value::string("1 2")
    );
}
