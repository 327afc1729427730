//! yaml functions.

use super::Func;

pub(crate) static FUNCS: &[Func] = &[];
