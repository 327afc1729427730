//! Type constraints: the `type =` expression of a `variable` block
//! (`string`, `list(number)`, `object({ a = optional(string, "x") })`,
//! `any`), parsed into a [`Type`] plus the defaults of optional attributes.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::Span;

use crate::convert::{convert, ConvertError};
use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::{eval, EvalContext, SourceFile};
use crate::types::Type;
use crate::value::{Data, Value};

/// A parsed type constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeConstraint {
    pub ty: Type,
    /// Defaults of `optional(type, default)` attributes, when any.
    pub defaults: Option<Defaults>,
}

/// Default values for optional attributes of an object type, and for
/// nested object types: `children` is keyed by attribute name, by `""`
/// for the elements of a list, set or map, or by the element's index
/// (`"0"`, `"1"`) in a tuple.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Defaults {
    pub attrs: BTreeMap<String, Value>,
    pub children: BTreeMap<String, Defaults>,
}

impl TypeConstraint {
    /// A constraint with no defaults.
    pub fn of(ty: Type) -> TypeConstraint {
        TypeConstraint { ty, defaults: None }
    }

    /// Converts a value (an input variable's) to this constraint: converts
    /// it to the type, then fills null optional attributes with their
    /// defaults.
    pub fn convert(&self, v: &Value) -> Result<Value, ConvertError> {
        let converted = convert(v, &self.ty)?;
        match &self.defaults {
            Some(d) => apply_defaults(converted, &self.ty, d),
            None => Ok(converted),
        }
    }
}

fn apply_defaults(v: Value, ty: &Type, d: &Defaults) -> Result<Value, ConvertError> {
    if v.is_null() || !v.is_known() {
        return Ok(v);
    }
    let sensitive = v.is_sensitive();
    let out = match (v.into_data(), ty) {
        (Data::Object(mut attrs), Type::Object { attrs: types, .. }) => {
            for (name, default) in &d.attrs {
                let at = types.get(name).cloned().unwrap_or(Type::Dynamic);
                if attrs.get(name).is_none_or(Value::is_null) {
                    attrs.insert(name.clone(), convert(default, &at)?);
                }
            }
            for (name, child) in &d.children {
                if let (Some(av), Some(at)) = (attrs.remove(name), types.get(name)) {
                    attrs.insert(name.clone(), apply_defaults(av, at, child)?);
                }
            }
            Value::object(attrs)
        }
        (Data::List(et, items), Type::List(t)) => {
            let child = d.children.get("");
            let items = items
                .into_iter()
                .map(|i| match child {
                    Some(c) => apply_defaults(i, t, c),
                    None => Ok(i),
                })
                .collect::<Result<_, _>>()?;
            Value::list(et, items)
        }
        (Data::Set(et, items), Type::Set(t)) => {
            let child = d.children.get("");
            let items = items
                .into_iter()
                .map(|i| match child {
                    Some(c) => apply_defaults(i, t, c),
                    None => Ok(i),
                })
                .collect::<Result<_, _>>()?;
            Value::set(et, items)
        }
        (Data::Map(et, items), Type::Map(t)) => {
            let child = d.children.get("");
            let items = items
                .into_iter()
                .map(|(k, i)| match child {
                    Some(c) => apply_defaults(i, t, c).map(|i| (k, i)),
                    None => Ok((k, i)),
                })
                .collect::<Result<_, _>>()?;
            Value::map(et, items)
        }
        (Data::Tuple(items), Type::Tuple(types)) => {
            let items = items
                .into_iter()
                .zip(types.iter())
                .enumerate()
                .map(|(i, (item, t))| match d.children.get(&i.to_string()) {
                    Some(c) => apply_defaults(item, t, c),
                    None => Ok(item),
                })
                .collect::<Result<_, _>>()?;
            Value::tuple(items)
        }
        (data, _) => Value::from_data(data),
    };
    Ok(out.mark_sensitive_if(sensitive))
}

/// Parses a `type =` expression.
pub fn parse_type_constraint(
    expr: &Expression,
    source: Option<&SourceFile>,
) -> Result<TypeConstraint, Diagnostics> {
    let p = Parser { source };
    let (ty, defaults) = p.parse(expr, false)?;
    Ok(TypeConstraint { ty, defaults })
}

struct Parser<'s> {
    source: Option<&'s SourceFile>,
}

type Parsed = (Type, Option<Defaults>);

impl Parser<'_> {
    fn error(
        &self,
        summary: &str,
        detail: impl Into<String>,
        span: Option<Range<usize>>,
    ) -> Diagnostics {
        let mut d = Diagnostic::error(summary, detail);
        if let (Some(s), Some(src)) = (span, self.source) {
            d = d.with_subject(src.range(s));
        }
        d.into()
    }

    fn parse(&self, expr: &Expression, in_object: bool) -> Result<Parsed, Diagnostics> {
        let span = expr.span();
        match expr {
            Expression::Parenthesis(p) => self.parse(p.inner(), in_object),
            Expression::Variable(v) => match v.as_str() {
                "string" => Ok((Type::String, None)),
                "number" => Ok((Type::Number, None)),
                "bool" => Ok((Type::Bool, None)),
                "any" => Ok((Type::Dynamic, None)),
                "list" => Ok((Type::list(Type::Dynamic), None)),
                "map" => Ok((Type::map(Type::Dynamic), None)),
                "set" => Ok((Type::set(Type::Dynamic), None)),
                other => Err(self.error(
                    "Invalid type specification",
                    format!("The keyword \"{other}\" is not a valid type specification."),
                    span,
                )),
            },
            Expression::String(_) | Expression::StringTemplate(_) => Err(self.error(
                "Invalid quoted type constraints",
                "Terraform 0.11 and earlier required type constraints to be given in quotes, but that form is now deprecated and will be removed in a future version of Terraform. Remove the quotes around this type constraint.",
                span,
            )),
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                let args: Vec<&Expression> = call.args.iter().collect();
                let one_arg = |what: &str| -> Result<&Expression, Diagnostics> {
                    if args.len() == 1 {
                        Ok(args[0])
                    } else {
                        Err(self.error(
                            "Invalid type specification",
                            format!("The {what} type constructor requires one argument specifying the element type."),
                            span.clone(),
                        ))
                    }
                };
                match name {
                    "list" | "set" | "map" => {
                        let (et, ed) = self.parse(one_arg(name)?, false)?;
                        let ty = match name {
                            "list" => Type::list(et),
                            "set" => Type::set(et),
                            _ => Type::map(et),
                        };
                        let defaults = ed.map(|d| Defaults {
                            attrs: BTreeMap::new(),
                            children: BTreeMap::from([(String::new(), d)]),
                        });
                        Ok((ty, defaults))
                    }
                    "tuple" => {
                        let arg = one_arg(name)?;
                        let Expression::Array(items) = arg else {
                            return Err(self.error(
                                "Invalid type specification",
                                "The tuple type constructor requires a list of element types.",
                                arg.span(),
                            ));
                        };
                        let mut types = Vec::new();
                        let mut children = BTreeMap::new();
                        for (i, item) in items.iter().enumerate() {
                            let (et, ed) = self.parse(item, false)?;
                            types.push(et);
                            if let Some(ed) = ed {
                                children.insert(i.to_string(), ed);
                            }
                        }
                        let defaults = (!children.is_empty()).then(|| Defaults {
                            attrs: BTreeMap::new(),
                            children,
                        });
                        Ok((Type::Tuple(types), defaults))
                    }
                    "object" => {
                        let arg = one_arg(name)?;
                        let Expression::Object(obj) = arg else {
                            return Err(self.error(
                                "Invalid type specification",
                                "The object type constructor requires an object of attribute types.",
                                arg.span(),
                            ));
                        };
                        let mut attrs = BTreeMap::new();
                        let mut optional = BTreeSet::new();
                        let mut defaults = Defaults::default();
                        for (key, value) in obj.iter() {
                            let key_name = match key {
                                ObjectKey::Ident(id) => id.as_str().to_owned(),
                                ObjectKey::Expression(Expression::Variable(v)) => v.as_str().to_owned(),
                                ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                                ObjectKey::Expression(e) => {
                                    return Err(self.error(
                                        "Invalid type specification",
                                        "Object constructor map keys must be attribute names.",
                                        e.span(),
                                    ))
                                }
                            };
                            let ve = value.expr();
                            if let Expression::FuncCall(oc) = ve {
                                if oc.name.name.as_str() == "optional" {
                                    let oargs: Vec<&Expression> = oc.args.iter().collect();
                                    if oargs.is_empty() || oargs.len() > 2 {
                                        return Err(self.error(
                                            "Invalid type specification",
                                            "Optional attribute modifier requires the attribute type and an optional default value.",
                                            ve.span(),
                                        ));
                                    }
                                    let (at, ad) = self.parse(oargs[0], true)?;
                                    if let Some(def_expr) = oargs.get(1) {
                                        let mut ctx = EvalContext::new();
                                        if let Some(src) = self.source {
                                            ctx = ctx.with_source(src.clone());
                                        }
                                        let dv = eval(def_expr, &ctx)?;
                                        let dv = convert(&dv, &at).map_err(|e| {
                                            self.error(
                                                "Invalid default value for optional attribute",
                                                format!("This default value is not compatible with the attribute's type constraint: {e}."),
                                                def_expr.span(),
                                            )
                                        })?;
                                        defaults.attrs.insert(key_name.clone(), dv);
                                    }
                                    if let Some(ad) = ad {
                                        defaults.children.insert(key_name.clone(), ad);
                                    }
                                    optional.insert(key_name.clone());
                                    attrs.insert(key_name, at);
                                    continue;
                                }
                            }
                            let (at, ad) = self.parse(ve, true)?;
                            if let Some(ad) = ad {
                                defaults.children.insert(key_name.clone(), ad);
                            }
                            attrs.insert(key_name, at);
                        }
                        let defaults = if defaults == Defaults::default() {
                            None
                        } else {
                            Some(defaults)
                        };
                        Ok((Type::object_with_optional(attrs, optional), defaults))
                    }
                    "optional" => Err(self.error(
                        "Invalid type specification",
                        if in_object {
                            "Optional attribute modifier must wrap an attribute type directly."
                        } else {
                            "Optional attribute modifier is only for attribute types of an object."
                        },
                        span,
                    )),
                    other => Err(self.error(
                        "Invalid type specification",
                        format!("Keyword \"{other}\" is not a valid type constructor."),
                        span,
                    )),
                }
            }
            _ => Err(self.error(
                "Invalid type specification",
                "A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).",
                span,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> TypeConstraint {
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        parse_type_constraint(&e, None).unwrap()
    }

    #[test]
    fn parses_nested_constraints() {
        assert_eq!(parse("list(number)").ty.to_string(), "list(number)");
        assert_eq!(
            parse("map(object({ a = string, b = optional(number) }))")
                .ty
                .to_string(),
            "map(object({a=string, b=optional(number)}))"
        );
        assert_eq!(parse("any").ty, Type::Dynamic);
        assert_eq!(
            parse("tuple([string, bool])").ty.to_string(),
            "tuple([string, bool])"
        );
    }

    #[test]
    fn optional_defaults_fill_missing_attributes() {
        let c = parse(r#"object({ name = string, port = optional(number, 8080) })"#);
        let v = Value::object(BTreeMap::from([("name".to_owned(), Value::string("a"))]));
        let out = c.convert(&v).unwrap();
        assert_eq!(out.get_attr("port"), Some(&Value::int(8080)));
    }

    #[test]
    fn bad_constraints_are_diagnostics() {
        for src in [
            "strin",
            "\"string\"",
            "list(string, number)",
            "optional(string)",
        ] {
            let e = hcl_edit::parser::parse_expr(src).unwrap();
            assert!(parse_type_constraint(&e, None).is_err(), "{src}");
        }
    }
}
