//! v4's `--legacy-json-uuid`: the scalars `JSON` and `UUID` (and the types named after them)
//! renamed to v3's `Json` and `Uuid` once the schema is built, everywhere they are referred to.

use super::{inflect, Model, TypeDef, TypeRef};

pub(super) fn json_uuid(model: &mut Model) {
    let old = std::mem::take(&mut model.types);
    for (name, mut def) in old {
        let name = inflect::legacy_json_uuid(&name).unwrap_or(name);
        match &mut def {
            TypeDef::Object(o) => {
                o.name.clone_from(&name);
                for f in &mut o.fields {
                    rename(&mut f.ty);
                    f.args.iter_mut().for_each(|a| rename(&mut a.ty));
                }
            }
            TypeDef::Interface(o) => {
                o.name.clone_from(&name);
                for f in &mut o.fields {
                    rename(&mut f.ty);
                    f.args.iter_mut().for_each(|a| rename(&mut a.ty));
                }
            }
            TypeDef::Input(o) => {
                o.name.clone_from(&name);
                o.fields.iter_mut().for_each(|f| rename(&mut f.ty));
            }
            TypeDef::Enum(o) => o.name.clone_from(&name),
            TypeDef::Scalar(o) => o.name.clone_from(&name),
        }
        model.types.insert(name, def);
    }
}

fn rename(t: &mut TypeRef) {
    match t {
        TypeRef::Named(n) => {
            if let Some(new) = inflect::legacy_json_uuid(n) {
                *n = new;
            }
        }
        TypeRef::NonNull(t) | TypeRef::List(t) => rename(t),
    }
}
