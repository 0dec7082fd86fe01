//! Filtering by related rows' aggregates, as pg-aggregates 0.1's connection-filter integration
//! builds it: `aggregates` beside `every`/`some`/`none` in a one-to-many relation's filter,
//! typed `<Type>AggregatesFilter` (`filter`, then one field per aggregate), each aggregate a
//! `<Type><Aggregate>AggregateFilter` holding the operator type of each column's result.

use super::*;
use crate::schema::aggregates::AggSpec;

impl Builder<'_> {
    /// The `aggregates` field of a one-to-many filter over the rows of table `foreign` (whose
    /// own filter is `foreign_filter`); None when that table has no aggregates.
    pub(super) fn aggregates_filter_field(
        &mut self,
        foreign: usize,
        foreign_filter: &str,
    ) -> Option<InputFieldDef> {
        let ft = self.model.tables[foreign].clone();
        if !ft.aggregates || ft.omit.read || ft.is_composite() {
            return None;
        }
        let type_name = &ft.type_name;
        let name = inflect::aggregates_filter_type(type_name);
        if self.model.input(&name).is_none() {
            let mut fields = vec![InputFieldDef {
                name: "filter".into(),
                description: Some(format!(
                    "A filter that must pass for the relevant `{type_name}` object to be included within the aggregate."
                )),
                ty: TypeRef::named(foreign_filter),
                target: InputTarget::Filter(FilterField::AggregateRows),
            }];
            for spec in AggSpec::ALL {
                if let Some(ty) = self.aggregate_spec_filter(foreign, spec) {
                    fields.push(InputFieldDef {
                        name: inflect::aggregate_field(spec.id()),
                        description: Some(format!(
                            "{} aggregate over matching `{type_name}` objects.",
                            spec.label()
                        )),
                        ty: TypeRef::named(ty),
                        target: InputTarget::Filter(FilterField::AggregateSpec(spec)),
                    });
                }
            }
            let _ = self.insert(TypeDef::Input(InputDef {
                name: name.clone(),
                description: Some(format!(
                    "A filter to be used against aggregates of `{type_name}` object types."
                )),
                fields,
            }));
        }
        Some(InputFieldDef {
            name: "aggregates".into(),
            description: Some(format!(
                "Aggregates across related `{type_name}` match the filter criteria."
            )),
            ty: TypeRef::named(name),
            target: InputTarget::Filter(FilterField::Aggregates),
        })
    }

    /// `PostSumAggregateFilter`: per column the operators of the aggregate's result type, per
    /// computed column (taking only the row) those of its return type, as the plugin types
    /// them; None when no field suits the aggregate.
    fn aggregate_spec_filter(&mut self, ti: usize, spec: AggSpec) -> Option<String> {
        let t = self.model.tables[ti].clone();
        let mut fields = vec![];
        for (ci, c) in t.columns.iter().enumerate().filter(|(_, c)| !c.omit.read) {
            let Some(result) = self.aggregate_result(spec, &c.codec) else {
                continue;
            };
            if let Some(ops) = self.operator_type(&result) {
                fields.push(InputFieldDef {
                    name: c.field.clone(),
                    description: None,
                    ty: TypeRef::named(ops),
                    target: InputTarget::Filter(FilterField::AggregateColumn(ci)),
                });
            }
        }
        for fi in self.aggregate_functions(ti) {
            let f = self.model.functions[fi].clone();
            // A count compared with a function's text or date could only fail in Postgres.
            let numeric = self.aggregate_result(AggSpec::Sum, &f.returns).is_some();
            if !self.filterable_computed(&f)
                || self.aggregate_result(spec, &f.returns).is_none()
                || (spec == AggSpec::DistinctCount && !numeric)
            {
                continue;
            }
            if let Some(ops) = self.operator_type(&f.returns) {
                fields.push(InputFieldDef {
                    name: inflect::computed_column(&f.name, &t.name),
                    description: None,
                    ty: TypeRef::named(ops),
                    target: InputTarget::Filter(FilterField::AggregateComputed(fi)),
                });
            }
        }
        if fields.is_empty() {
            return None;
        }
        let name = inflect::aggregate_spec_filter_type(&t.type_name, spec.id());
        let _ = self.insert(TypeDef::Input(InputDef {
            name: name.clone(),
            description: None,
            fields,
        }));
        Some(name)
    }
}
