//! `--no-ignore-rbac`: what the connecting role (or a role it is a member of) has no grant
//! for is left out, as PostGraphile v4 does: privileges become `@omit` actions, added to
//! those of the smart comments.
//!
//! - A table, view or materialized view with SELECT on neither it nor any of its columns:
//!   `read`, `all` and `many`. No INSERT on it or a column: `create`; likewise UPDATE:
//!   `update`. No DELETE: `delete`.
//! - A column of a table the role may read some of: no SELECT on it (a table grant counts)
//!   leaves out `read`, `filter` and `order`; no INSERT `create`; no UPDATE `update`. The
//!   columns of a table the role may not read at all stay whole (such a table is reached
//!   through SECURITY DEFINER functions, if at all).
//! - A function without EXECUTE is left out.
//!
//! Always (flag or not), what Postgres itself refuses is left out the same way, as v4 does:
//! a view or foreign table `pg_relation_is_updatable` says no INSERT to gets no `create`,
//! and likewise `update` and `delete` (a view with a join or an aggregate, a materialized view).

use crate::catalog::{Attribute, Class, Proc};

use super::tags::Omit;

/// Postgres grants these kinds of relation privileges (composite types have none).
fn table_like(class: &Class) -> bool {
    matches!(class.kind.as_str(), "r" | "v" | "m" | "f" | "p")
}

fn any_select(class: &Class) -> bool {
    class.acl_select || class.attributes.iter().any(|a| a.acl_select)
}

/// The class's `@omit` actions with its missing privileges added.
pub(super) fn table(class: &Class, mut omit: Omit) -> Omit {
    if !table_like(class) {
        return omit;
    }
    if !any_select(class) {
        omit.read = true;
        omit.all = true;
        omit.many = true;
    }
    omit.create |= !class.acl_insert && !class.attributes.iter().any(|a| a.acl_insert);
    omit.update |= !class.acl_update && !class.attributes.iter().any(|a| a.acl_update);
    omit.delete |= !class.acl_delete;
    omit
}

/// The class's `@omit` actions with what Postgres does not allow on it added.
pub(super) fn updatability(class: &Class, mut omit: Omit) -> Omit {
    if !table_like(class) {
        return omit;
    }
    omit.create |= !class.insertable;
    omit.update |= !class.updatable;
    omit.delete |= !class.deletable;
    omit
}

/// The column's `@omit` actions with its missing privileges added.
pub(super) fn column(class: &Class, a: &Attribute, mut omit: Omit) -> Omit {
    if !table_like(class) || !any_select(class) {
        return omit;
    }
    if !a.acl_select {
        omit.read = true;
        omit.filter = true;
        omit.order = true;
    }
    omit.create |= !a.acl_insert;
    omit.update |= !a.acl_update;
    omit
}

/// Whether the column's values may be selected (as far as privileges decide).
pub(super) fn readable(class: &Class, a: &Attribute) -> bool {
    !table_like(class) || !any_select(class) || a.acl_select
}

/// Whether the function may be exposed.
pub(super) fn executable(p: &Proc) -> bool {
    p.acl_execute
}
