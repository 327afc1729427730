//! Property tests for number formatting and conversions.

use meshform_lang::{convert, Number, Type, Value};
use proptest::prelude::*;

proptest! {
    #[test]
    fn integers_print_as_integers(i in any::<i64>()) {
        prop_assert_eq!(Number::from_i64(i).to_text(), i.to_string());
        prop_assert_eq!(Number::parse(&i.to_string()).unwrap().to_i64(), Some(i));
    }

    #[test]
    fn float64_values_print_shortest_and_read_back(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let n = Number::from_f64(f).unwrap();
        let text = n.to_text();
        let back: f64 = text.parse().unwrap();
        prop_assert_eq!(back, f);
        prop_assert!(!text.contains('e'));
    }

    #[test]
    fn short_decimals_round_trip_exactly(int in 0u64..1_000_000_000, frac in 0u32..1_000_000, neg in any::<bool>()) {
        let frac_text = format!("{frac:06}");
        let frac_text = frac_text.trim_end_matches('0');
        let text = if frac_text.is_empty() {
            format!("{}{int}", if neg && int != 0 { "-" } else { "" })
        } else {
            format!("{}{int}.{frac_text}", if neg { "-" } else { "" })
        };
        let n = Number::parse(&text).unwrap();
        prop_assert_eq!(n.to_text(), text.clone());
        prop_assert_eq!(Number::parse(&n.to_text()).unwrap(), n);
    }

    #[test]
    fn addition_of_integers_is_exact(a in any::<i64>(), b in any::<i64>()) {
        let sum = Number::from_i64(a).add(&Number::from_i64(b)).unwrap();
        prop_assert_eq!(sum.to_text(), (i128::from(a) + i128::from(b)).to_string());
    }

    #[test]
    fn primitives_round_trip_through_strings(i in any::<i32>(), b in any::<bool>()) {
        let n = Value::int(i64::from(i));
        let s = convert(&n, &Type::String).unwrap();
        prop_assert_eq!(convert(&s, &Type::Number).unwrap(), n);
        let bv = Value::bool(b);
        let bs = convert(&bv, &Type::String).unwrap();
        prop_assert_eq!(convert(&bs, &Type::Bool).unwrap(), bv);
    }

    #[test]
    fn tuples_of_numbers_convert_to_sorted_distinct_sets(items in proptest::collection::vec(-50i64..50, 0..12)) {
        let tuple = Value::tuple(items.iter().map(|i| Value::int(*i)).collect());
        let list = convert(&tuple, &Type::list(Type::Dynamic)).unwrap();
        prop_assert_eq!(list.length(), Some(items.len()));
        let set = convert(&tuple, &Type::set(Type::Dynamic)).unwrap();
        let mut want = items.clone();
        want.sort_unstable();
        want.dedup();
        let got: Vec<i64> = set.as_elements().unwrap().iter().map(|v| v.as_number().unwrap().to_i64().unwrap()).collect();
        prop_assert_eq!(got, want);
        // Converting a value to its own type changes nothing.
        prop_assert_eq!(convert(&set, &set.ty()).unwrap(), set);
    }
}

fn arbitrary_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        "[a-c]{0,2}".prop_map(Value::string),
        any::<i32>().prop_map(|i| Value::number(Number::from_i64(i.into()))),
        any::<bool>().prop_map(Value::bool),
        Just(Value::null(Type::String)),
        Just(Value::unknown(Type::list(Type::Number))),
        proptest::collection::vec("[a-b]{0,1}".prop_map(Value::string), 0..3)
            .prop_map(|items| Value::list(Type::String, items)),
    ];
    leaf.prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::tuple),
            proptest::collection::btree_map("[a-c]", inner, 0..3).prop_map(Value::object),
        ]
    })
}

proptest! {
    #[test]
    fn has_type_agrees_with_the_built_type(a in arbitrary_value(), b in arbitrary_value()) {
        prop_assert!(a.has_type(&a.ty()));
        prop_assert_eq!(a.has_type(&b.ty()), a.ty() == b.ty());
    }
}
