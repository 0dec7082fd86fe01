//! Functions: which are exposed, computed columns, argument types, and function mutations.

use super::*;

/// `pg_catalog.record`'s oid.
const RECORD_OID: u32 = 2249;

impl<'a> Builder<'a> {
    pub(super) fn collect_functions(&mut self) {
        let (catalog, opts) = (self.catalog, self.opts);
        for p in catalog
            .procs
            .iter()
            .filter(|p| opts.schemas.contains(&p.schema))
            .filter(|p| {
                let omit = tags::parse(p.comment.as_deref()).omit();
                !omit.whole && !omit.execute
            })
            .filter(|p| {
                let granted = !opts.flags.no_ignore_rbac || rbac::executable(p);
                if !granted {
                    tracing::debug!(
                        "function {}.{} left out: no EXECUTE privilege",
                        p.schema,
                        p.name
                    );
                }
                granted
            })
            // v4's --legacy-functions-only: IN arguments only (no `proargmodes`), and no
            // `record` result, as PostGraphile before 4.1 exposed.
            .filter(|p| {
                !opts.flags.legacy_functions_only
                    || (p.arg_modes.is_empty() && p.return_type_oid != RECORD_OID)
            })
        {
            if let Some(f) = self.function(p) {
                self.model.functions.push(f);
            }
        }
    }

    pub(super) fn function(&mut self, p: &Proc) -> Option<Function> {
        if p.arg_modes.iter().any(|m| m == "v") {
            tracing::warn!(function = %p.name, "function skipped: VARIADIC arguments are not supported (nor by v4)");
            return None;
        }
        let tags = tags::parse(p.comment.as_deref());
        let inflect_name = tags.value("name").unwrap_or(&p.name).to_string();
        if !inflect::is_valid_name(&inflect::function(&inflect_name)) {
            tracing::warn!(
                "function {}.{} left out: no valid GraphQL name; rename it with a `@name` smart comment",
                p.schema,
                p.name
            );
            return None;
        }
        let mut args = vec![];
        for a in p.input_args() {
            let name = a
                .name
                .map(str::to_string)
                .unwrap_or_else(|| inflect::unnamed_argument(a.position));
            let field = inflect::argument(&name);
            let codec = self.codec(a.type_oid)?;
            args.push(FunctionArg { name, field, codec });
        }
        let returns = if p.returns_record() {
            self.record_codec(p, &inflect_name, tags.value("resultTypeName"))?
        } else {
            self.codec(p.return_type_oid)?
        };
        let outputs = p.output_args();
        let single_output = match outputs.as_slice() {
            [(Some(name), _)] => Some(name.to_string()),
            _ => None,
        };
        Some(Function {
            oid: p.oid,
            schema: p.schema.clone(),
            name: p.name.clone(),
            inflect_name,
            args,
            returns,
            returns_set: p.returns_set,
            returns_void: p.return_type_oid == VOID_OID,
            single_output,
            volatile: p.volatility == "v",
            strict: p.is_strict,
            num_defaults: p.num_defaults.max(0) as usize,
            deprecated: deprecation(p.comment.as_deref()),
            simple_collections: tags.simple_collections(),
            sortable: tags.has("sortable"),
            filterable: tags.has("filterable"),
        })
    }

    /// The object type of a function's outputs (`RETURNS TABLE` or several OUT parameters):
    /// a table of kind `'R'` whose columns are the outputs, named `<Function>Record` (or by
    /// its `@resultTypeName` smart tag), as v4 makes it.
    fn record_codec(
        &mut self,
        p: &Proc,
        inflect_name: &str,
        type_name: Option<&str>,
    ) -> Option<Codec> {
        let type_name = type_name
            .map(str::to_string)
            .unwrap_or_else(|| inflect::record_type(inflect_name));
        let owner = format!("the outputs of function {}.{}", p.schema, p.name);
        if !inflect::is_valid_name(&type_name) {
            tracing::warn!("function {}.{} left out: `{type_name}` is not a valid GraphQL name; rename it with a `@resultTypeName` smart comment", p.schema, p.name);
            return None;
        }
        if let Err((name, holder)) =
            names::claim(&mut self.claimed, std::slice::from_ref(&type_name), &owner)
        {
            tracing::warn!("function {}.{} left out: its GraphQL type `{name}` is already taken by {holder}; rename it with a `@resultTypeName` smart comment", p.schema, p.name);
            return None;
        }
        let mut columns = vec![];
        for (i, (name, type_oid)) in p.output_args().into_iter().enumerate() {
            let codec = self.codec(type_oid)?;
            // Postgres names an unnamed output `column<N>`.
            let column = name
                .map(str::to_string)
                .unwrap_or_else(|| format!("column{}", i + 1));
            columns.push(Column {
                name: column.clone(),
                inflect_name: column.clone(),
                order_name: column,
                omit: tags::Omit::default(),
                deprecated: None,
                refresh_token: false,
                field: inflect::record_field(name, i),
                codec,
                not_null: false,
                has_default: false,
                writable: false,
                readable: true,
            });
        }
        let table = self.model.tables.len();
        self.model.tables.push(Table {
            oid: 0,
            schema: p.schema.clone(),
            name: p.name.clone(),
            kind: RECORD_KIND,
            type_name,
            inflect_name: inflect_name.to_string(),
            omit: tags::Omit::default(),
            node_identifier: String::new(),
            columns,
            primary_key: None,
            unique_keys: vec![],
            simple_collections: None,
            tag_keys: vec![],
            view_unique_key: None,
            // A function's record rows offer no aggregates (the plugin aggregates tables and views).
            aggregates: false,
        });
        Some(Codec::Row {
            sql_type: "pg_catalog.record".into(),
            table,
        })
    }

    /// Which table a function is a computed column of: STABLE, first argument that table's row.
    pub(super) fn computed_column_of(&self, f: &Function) -> Option<usize> {
        if f.volatile {
            return None;
        }
        match f.args.first()?.codec {
            Codec::Row { table, .. }
                if !self.model.tables[table].is_record()
                    && inflect::is_computed_column_name(
                        &f.name,
                        &self.model.tables[table].name,
                    ) =>
            {
                Some(table)
            }
            _ => None,
        }
    }

    pub(super) fn arg_type(&mut self, f: &Function, i: usize, codec: &Codec) -> TypeRef {
        let ty = self.gql_input_type(codec);
        let has_default = i >= f.args.len() - f.num_defaults.min(f.args.len());
        if f.strict && !has_default {
            ty.non_null()
        } else {
            ty
        }
    }

    /// The type and arguments of a function's field (the arguments after the first `skip`: a
    /// computed column's row); None when the function cannot be exposed.
    pub(super) fn function_field(
        &mut self,
        fi: usize,
        skip: usize,
    ) -> Result<Option<(TypeRef, Vec<ArgDef>)>, BuildError> {
        let f = self.model.functions[fi].clone();
        let ty = self.function_return_type(fi);
        let mut args = self.function_args(&f, skip);
        // A function's connection pages in the function's own order: no `orderBy` or
        // `condition` (v4 adds those only for `@sortable`/`@filterable` functions).
        if f.returns_set {
            match f.returns {
                Codec::Row { table, .. } if !self.model.tables[table].is_composite() => {
                    args.extend(page_args());
                    args.extend(self.sort_filter_args(&f, table));
                    args.extend(self.function_filter_arg(&f));
                }
                // A set of a function's outputs pages as a set of scalars does (v4).
                Codec::Row { table, .. } if self.model.tables[table].is_record() => {
                    if !self.scalar_connection_types(&f)? {
                        return Ok(None);
                    }
                    args.extend(page_args());
                }
                Codec::Row { .. } | Codec::Jwt { .. } => {}
                _ => {
                    if !self.scalar_connection_types(&f)? {
                        return Ok(None);
                    }
                    args.extend(page_args());
                    args.extend(self.function_filter_arg(&f));
                }
            }
        }
        Ok(Some((ty, args)))
    }

    /// A function's arguments after the first `skip` (a computed column's row) as field
    /// arguments.
    fn function_args(&mut self, f: &Function, skip: usize) -> Vec<ArgDef> {
        f.args
            .iter()
            .enumerate()
            .skip(skip)
            .map(|(i, a)| ArgDef {
                name: a.field.clone(),
                description: None,
                ty: self.arg_type(f, i, &a.codec),
                default: None,
            })
            .collect()
    }

    /// Whether a function gets its usual field (a connection for a set of table rows or of
    /// scalars) and whether a simple collection (`xList`) beside it, by `--simple-collections`
    /// or its `@simpleCollections` smart tag. Single values and sets of composite values are
    /// no collections.
    pub(super) fn function_collections(&self, f: &Function) -> (bool, bool) {
        let paged = f.returns_set
            && match f.returns {
                Codec::Row { table, .. } => {
                    let t = &self.model.tables[table];
                    !t.is_composite() || t.is_record()
                }
                Codec::Jwt { .. } => false,
                _ => true,
            };
        let mode = f
            .simple_collections
            .unwrap_or(self.opts.flags.simple_collections);
        (!paged || mode.connections(), paged && mode.lists())
    }

    /// The type and arguments of a set-returning function's simple collection: a list of
    /// what it returns (v4: `[Post]`), the function's arguments after `skip`, then `first`
    /// and `offset`.
    pub(super) fn function_list_field(&mut self, fi: usize, skip: usize) -> (TypeRef, Vec<ArgDef>) {
        let f = self.model.functions[fi].clone();
        let item = self.gql_type(&f.returns);
        let ty = match f.returns {
            Codec::Row { .. } | Codec::Jwt { .. } => self.set_row(item),
            _ => item,
        }
        .list();
        let mut args = self.function_args(&f, skip);
        args.extend(list_page_args());
        if let Codec::Row { table, .. } = f.returns {
            args.extend(self.sort_filter_args(&f, table));
        }
        args.extend(self.function_filter_arg(&f));
        (ty, args)
    }

    /// `orderBy` (no default: the function's own order) for a `@sortable` function and
    /// `condition` for a `@filterable` one returning rows of `table`, as v4 adds them.
    fn sort_filter_args(&mut self, f: &Function, table: usize) -> Vec<ArgDef> {
        if self.model.tables[table].is_composite() {
            return vec![];
        }
        self.collection_args(table, true)
            .into_iter()
            .filter(|a| {
                (a.name == "orderBy" && f.sortable) || (a.name == "condition" && f.filterable)
            })
            .collect()
    }

    /// A function field's type; nullable, as in v4 (a function may return NULL or fail).
    pub(super) fn function_return_type(&mut self, fi: usize) -> TypeRef {
        let f = self.model.functions[fi].clone();
        match (&f.returns, f.returns_set) {
            (Codec::Row { table, .. }, true) if !self.model.tables[*table].is_composite() => {
                TypeRef::named(inflect::connection_type(
                    &self.model.tables[*table].inflect_name,
                ))
            }
            (Codec::Row { table, .. }, true) if self.model.tables[*table].is_record() => {
                TypeRef::named(inflect::scalar_function_connection(&f.inflect_name))
            }
            (Codec::Row { .. } | Codec::Jwt { .. }, true) => {
                let item = self.gql_type(&f.returns);
                self.set_row(item).list()
            }
            (_, true) => TypeRef::named(inflect::scalar_function_connection(&f.inflect_name)),
            (c, false) => self.gql_type(c),
        }
    }
}
