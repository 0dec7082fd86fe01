//! Where a response needs work after Postgres built it: JWT values to sign, and floats that may
//! be NaN or ±Infinity (Postgres writes those as strings, which GraphQL's `Float` cannot carry:
//! the engine makes them field errors, as PostGraphile v4 (graphql-js) does). The plan lists the
//! places once; the engine only visits them when the response holds such a value.

use super::*;

/// What to do with the value at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fixup {
    /// An object of claims to sign into a token.
    Jwt,
    /// A float: a string there is NaN or ±Infinity. When the field is non-null, the error
    /// nulls the object holding it instead.
    Float { non_null: bool },
    /// A `@refreshToken` value: with the refresh cookie it goes into the cookie, not the body.
    RefreshToken,
    /// `groupedAggregates` capped at `cap` groups: `TOO_MANY_GROUPS` there means it had more,
    /// a field error nulling the connection holding it (the field is non-null).
    Groups { cap: i64 },
}

/// What the SQL puts in place of a `groupedAggregates` list with more groups than its cap
/// (`Fixup::Groups`); a JSON string, so never a list of groups.
pub const TOO_MANY_GROUPS: &str = "TOO_MANY_GROUPS";

/// The response key of the part of a mutation's payload that the client did not ask for: the
/// tokens of the result, whatever the selection, so that cookies follow the result. Not a
/// GraphQL name, so no selection can collide with it; removed before the response is sent.
pub const SESSION_KEY: &str = "@session";

/// A response path below the root field (`"[]"` stands for every element of a list).
pub type FixupPath = (Vec<String>, Fixup);

/// The fixups of a read's result.
pub fn in_select(s: &Select) -> Vec<FixupPath> {
    let mut w = Walk::default();
    w.select(s);
    w.found
}

/// The fixups of a mutation's payload.
pub fn in_payload(m: &Mutation) -> Vec<FixupPath> {
    let mut w = Walk::default();
    for (k, f) in &m.payload {
        w.path.push(k.clone());
        match f {
            PayloadField::Result(out) => w.out(out, false),
            PayloadField::Forward(f) => w.row(&f.sel),
            PayloadField::Query(fields) => w.query(fields),
            PayloadField::Edge(e) => {
                for (ek, ef) in &e.fields {
                    if let EdgeField::Node(item) = ef {
                        w.at(ek, |w| w.item(item));
                    }
                }
            }
            PayloadField::Typename(_)
            | PayloadField::ClientMutationId
            | PayloadField::NodeId(_) => {}
        }
        w.path.pop();
    }
    w.found
}

#[derive(Default)]
struct Walk {
    path: Vec<String>,
    found: Vec<FixupPath>,
}

impl Walk {
    fn at(&mut self, key: &str, visit: impl FnOnce(&mut Self)) {
        self.path.push(key.to_string());
        visit(self);
        self.path.pop();
    }

    fn out(&mut self, out: &Out, non_null: bool) {
        match out {
            Out::Jwt => self.found.push((self.path.clone(), Fixup::Jwt)),
            Out::Scalar(Codec::Float { .. }) => self
                .found
                .push((self.path.clone(), Fixup::Float { non_null })),
            Out::Scalar(Codec::Array { element, .. }) => {
                if matches!(**element, Codec::Float { .. }) {
                    self.at("[]", |w| {
                        w.found
                            .push((w.path.clone(), Fixup::Float { non_null: false }))
                    });
                }
            }
            Out::Scalar(_) | Out::Interval(_) | Out::Point(_) | Out::Geometry(..) => {}
            Out::List(inner) => self.at("[]", |w| w.out(inner, false)),
            Out::Row(sel) => self.row(sel),
        }
    }

    fn row(&mut self, sel: &RowSel) {
        for (k, f) in &sel.fields {
            self.at(k, |w| match f {
                RowField::Column {
                    refresh_token: true,
                    ..
                } => w.found.push((w.path.clone(), Fixup::RefreshToken)),
                RowField::Column { out, non_null, .. } => w.out(out, *non_null),
                RowField::Computed { out, .. } => w.out(out, false),
                RowField::Forward(f) => w.row(&f.sel),
                RowField::Backward(c) => w.connection(c),
                RowField::Typename(_) | RowField::NodeId(_) => {}
            });
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Row(sel) => self.row(sel),
            Item::Value(out) => self.out(out, false),
        }
    }

    fn connection(&mut self, c: &Connection) {
        if c.list {
            for (_, f) in &c.fields {
                if let ConnField::Nodes(item) = f {
                    self.at("[]", |w| w.item(item));
                }
            }
            return;
        }
        for (k, f) in &c.fields {
            self.at(k, |w| match f {
                ConnField::Nodes(item) => w.at("[]", |w| w.item(item)),
                ConnField::Edges(edge) => w.at("[]", |w| {
                    for (ek, ef) in edge {
                        if let EdgeField::Node(item) = ef {
                            w.at(ek, |w| w.item(item));
                        }
                    }
                }),
                ConnField::Aggregates(sel) => w.aggregates(sel),
                ConnField::Grouped(g) => {
                    if let Some(cap) = g.cap {
                        w.found.push((w.path.clone(), Fixup::Groups { cap }));
                    }
                    w.at("[]", |w| w.aggregates(&g.sel))
                }
                ConnField::Typename(_) | ConnField::TotalCount | ConnField::PageInfo(_) => {}
            });
        }
    }

    /// Aggregates of floats (a sum, average, minimum... over float4/float8) are floats too.
    fn aggregates(&mut self, sel: &AggSel) {
        for (k, f) in &sel.fields {
            let AggField::Spec(values) = f else {
                continue;
            };
            self.at(k, |w| {
                for (vk, v) in values {
                    if let AggValue::Value {
                        spec,
                        target,
                        out: Codec::Float { .. },
                    } = v
                    {
                        // A column's sum is `Float!` (a computed column's is nullable).
                        let non_null =
                            spec.non_null() && matches!(target, AggTarget::Column { .. });
                        w.at(vk, |w| {
                            w.found.push((w.path.clone(), Fixup::Float { non_null }))
                        });
                    }
                }
            });
        }
    }

    fn query(&mut self, fields: &[(String, QueryField)]) {
        for (k, f) in fields {
            if let QueryField::Select(s) = f {
                self.at(k, |w| w.select(s));
            }
        }
    }

    fn select(&mut self, s: &Select) {
        match s {
            Select::Connection(c) => self.connection(c),
            Select::Row { sel, .. } => self.row(sel),
            Select::Function {
                out, returns_set, ..
            } => {
                if *returns_set {
                    self.at("[]", |w| w.out(out, false));
                } else {
                    self.out(out, false)
                }
            }
            Select::Query(fields) => self.query(fields),
            Select::Null => {}
        }
    }
}
