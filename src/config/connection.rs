//! Which database to use, as libpq would pick it: `--connection` may be a bare database name
//! (v4's `-c mydb`), a URL or `key=value` pairs, and whatever it leaves out comes from PGHOST,
//! PGPORT, PGDATABASE, PGUSER and PGPASSWORD (tokio-postgres reads none of them itself).

use tokio_postgres::config::Host;

/// libpq's environment variables, in the order they fill a connection in.
const ENV: [(&str, &str); 5] = [
    ("PGHOST", "host"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGDATABASE", "dbname"),
    ("PGPASSWORD", "password"),
];

/// The complete connection string for `given` (`--connection`/`DATABASE_URL`) and the
/// environment `env`; `None` when neither names a database.
pub fn resolve(
    given: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, String> {
    let env = |k: &str| env(k).filter(|v| !v.is_empty());
    let base = match given.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if is_url(s) || s.contains('=') => s.to_string(),
        Some(name) => format!("dbname={}", quote(name)),
        None if ENV.iter().any(|(k, _)| env(k).is_some()) => String::new(),
        None => return Ok(None),
    };
    let config: tokio_postgres::Config = if base.is_empty() {
        tokio_postgres::Config::new()
    } else {
        base.parse().map_err(|e| {
            format!(
                "invalid --connection (a database name, a postgres:// URL or key=value pairs): {e}"
            )
        })?
    };
    let mut missing: Vec<(&str, String)> = vec![];
    if config.get_hosts().is_empty() {
        let port = env("PGPORT").unwrap_or_else(|| "5432".into());
        missing.push(("host", env("PGHOST").unwrap_or_else(|| default_host(&port))));
    }
    if config.get_ports().is_empty() {
        if let Some(port) = env("PGPORT") {
            missing.push(("port", port));
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .or_else(|| env("LOGNAME"))
            .unwrap_or_else(|| "postgres".into());
        missing.push(("user", user));
    }
    if config.get_dbname().is_none() {
        if let Some(db) = env("PGDATABASE") {
            missing.push(("dbname", db));
        }
    }
    if config.get_password().is_none() {
        if let Some(pw) = env("PGPASSWORD") {
            missing.push(("password", pw));
        }
    }
    Ok(Some(append(&base, &missing)))
}

/// libpq's default: the server's Unix socket where Debian and most builds put it, else TCP on
/// localhost.
fn default_host(port: &str) -> String {
    ["/var/run/postgresql", "/tmp"]
        .iter()
        .find(|dir| std::path::Path::new(&format!("{dir}/.s.PGSQL.{port}")).exists())
        .map_or_else(|| "localhost".into(), |dir| dir.to_string())
}

fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// A `key=value` value, quoted as libpq reads it.
fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `base` with the `extra` parameters: more pairs, or query parameters of a URL.
fn append(base: &str, extra: &[(&str, String)]) -> String {
    if is_url(base) {
        let mut out = base.to_string();
        for (i, (k, v)) in extra.iter().enumerate() {
            let sep = if i == 0 && !base.contains('?') {
                '?'
            } else {
                '&'
            };
            out.push_str(&format!("{sep}{k}={}", percent(v)));
        }
        out
    } else {
        let pairs = extra.iter().map(|(k, v)| format!("{k}={}", quote(v)));
        std::iter::once(base.to_string())
            .filter(|b| !b.is_empty())
            .chain(pairs)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn percent(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where a connection string points, for error messages: host, port, database and user, never
/// the password.
pub fn describe(connection: &str) -> String {
    let Ok(c) = connection.parse::<tokio_postgres::Config>() else {
        return "an unreadable connection string".into();
    };
    let hosts: Vec<String> = c
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = c.get_ports().iter().map(u16::to_string).collect();
    let user = c.get_user().unwrap_or("?");
    format!(
        "host {}, port {}, database {}, user {user}",
        if hosts.is_empty() {
            "?".into()
        } else {
            hosts.join(",")
        },
        if ports.is_empty() {
            "5432".into()
        } else {
            ports.join(",")
        },
        c.get_dbname().unwrap_or(user),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    fn config(s: &str) -> tokio_postgres::Config {
        s.parse().unwrap()
    }

    #[test]
    fn nothing_given_is_none() {
        assert_eq!(resolve(None, env(&[("USER", "me")])), Ok(None));
        assert_eq!(resolve(Some(" "), env(&[])), Ok(None));
    }

    #[test]
    fn a_bare_name_is_a_database_filled_in_from_the_environment() {
        let c = resolve(
            Some("pagila"),
            env(&[
                ("PGHOST", "db.example"),
                ("PGPORT", "6543"),
                ("PGUSER", "ann"),
                ("PGPASSWORD", "s3 'cret"),
            ]),
        )
        .unwrap()
        .unwrap();
        let c = config(&c);
        assert_eq!(c.get_dbname(), Some("pagila"));
        assert_eq!(c.get_hosts(), [Host::Tcp("db.example".into())]);
        assert_eq!(c.get_ports(), [6543]);
        assert_eq!(c.get_user(), Some("ann"));
        assert_eq!(c.get_password(), Some(&b"s3 'cret"[..]));
    }

    #[test]
    fn environment_alone_names_a_database() {
        let c = resolve(
            None,
            env(&[
                ("PGDATABASE", "shop"),
                ("PGHOST", "10.0.0.5"),
                ("USER", "me"),
            ]),
        )
        .unwrap()
        .unwrap();
        let c = config(&c);
        assert_eq!(c.get_dbname(), Some("shop"));
        assert_eq!(c.get_user(), Some("me"));
        assert_eq!(c.get_hosts(), [Host::Tcp("10.0.0.5".into())]);
    }

    #[test]
    fn a_url_keeps_what_it_says_and_gets_the_rest() {
        let c = resolve(
            Some("postgres://bob:pw@h1:5433/app?sslmode=disable"),
            env(&[("PGHOST", "other"), ("PGUSER", "eve"), ("PGPASSWORD", "x")]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(c, "postgres://bob:pw@h1:5433/app?sslmode=disable");
        let c = resolve(
            Some("postgres:///app"),
            env(&[("PGHOST", "/run/pg sock"), ("PGUSER", "eve")]),
        )
        .unwrap()
        .unwrap();
        let c = config(&c);
        assert_eq!(c.get_hosts(), [Host::Unix("/run/pg sock".into())]);
        assert_eq!(c.get_user(), Some("eve"));
        assert_eq!(c.get_dbname(), Some("app"));
    }

    #[test]
    fn descriptions_name_everything_but_the_password() {
        let d = describe("postgres://bob:hunter2@h1:5433/app");
        assert_eq!(d, "host h1, port 5433, database app, user bob");
        let d = describe("host=/tmp user=ann password=hunter2");
        assert_eq!(d, "host /tmp, port 5432, database ann, user ann");
        assert!(!describe("nonsense =").contains("hunter2"));
    }

    #[test]
    fn a_bad_string_is_refused_clearly() {
        let e = resolve(Some("host=a port=notaport"), env(&[])).unwrap_err();
        assert!(e.contains("invalid --connection"), "{e}");
    }
}
