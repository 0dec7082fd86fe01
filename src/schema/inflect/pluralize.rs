//! English plural and singular forms exactly as the `pluralize` npm package (v7, the one
//! PostGraphile v4 uses) makes them, so type and field names agree with v4's: the same
//! irregular words, uncountable words and suffix rules, tried in the same order, applied to
//! the whole name (`post_tags` → `post_tag`, `houses` → `house`, `data` → `datum`).

use regex::{Captures, Regex};
use std::sync::OnceLock;

const IRREGULAR: &[(&str, &str)] = &[
    ("i", "we"),
    ("me", "us"),
    ("he", "they"),
    ("she", "they"),
    ("them", "them"),
    ("myself", "ourselves"),
    ("yourself", "yourselves"),
    ("itself", "themselves"),
    ("herself", "themselves"),
    ("himself", "themselves"),
    ("themself", "themselves"),
    ("is", "are"),
    ("was", "were"),
    ("has", "have"),
    ("this", "these"),
    ("that", "those"),
    ("echo", "echoes"),
    ("dingo", "dingoes"),
    ("volcano", "volcanoes"),
    ("tornado", "tornadoes"),
    ("torpedo", "torpedoes"),
    ("genus", "genera"),
    ("viscus", "viscera"),
    ("stigma", "stigmata"),
    ("stoma", "stomata"),
    ("dogma", "dogmata"),
    ("lemma", "lemmata"),
    ("schema", "schemata"),
    ("anathema", "anathemata"),
    ("ox", "oxen"),
    ("axe", "axes"),
    ("die", "dice"),
    ("yes", "yeses"),
    ("foot", "feet"),
    ("eave", "eaves"),
    ("goose", "geese"),
    ("tooth", "teeth"),
    ("quiz", "quizzes"),
    ("human", "humans"),
    ("proof", "proofs"),
    ("carve", "carves"),
    ("valve", "valves"),
    ("looey", "looies"),
    ("thief", "thieves"),
    ("groove", "grooves"),
    ("pickaxe", "pickaxes"),
    ("whiskey", "whiskies"),
];

/// Suffix rules, in the order the package adds them (the last matching one wins).
const PLURAL_RULES: &[(&str, &str)] = &[
    (r"s?$", "s"),
    (r"[^\x00-\x7F]$", "$0"),
    (r"([^aeiou]ese)$", "$1"),
    (r"(ax|test)is$", "$1es"),
    (r"(alias|[^aou]us|tlas|gas|ris)$", "$1es"),
    (r"(e[mn]u)s?$", "$1s"),
    (r"([^l]ias|[aeiou]las|[emjzr]as|[iu]am)$", "$1"),
    (
        r"(alumn|syllab|octop|vir|radi|nucle|fung|cact|stimul|termin|bacill|foc|uter|loc|strat)(?:us|i)$",
        "$1i",
    ),
    (r"(alumn|alg|vertebr)(?:a|ae)$", "$1ae"),
    (r"(seraph|cherub)(?:im)?$", "$1im"),
    (r"(her|at|gr)o$", "$1oes"),
    (
        r"(agend|addend|millenni|dat|extrem|bacteri|desiderat|strat|candelabr|errat|ov|symposi|curricul|automat|quor)(?:a|um)$",
        "$1a",
    ),
    (
        r"(apheli|hyperbat|periheli|asyndet|noumen|phenomen|criteri|organ|prolegomen|hedr|automat)(?:a|on)$",
        "$1a",
    ),
    (r"sis$", "ses"),
    (r"(?:(kni|wi|li)fe|(ar|l|ea|eo|oa|hoo)f)$", "$1$2ves"),
    (r"([^aeiouy]|qu)y$", "$1ies"),
    (r"([^ch][ieo][ln])ey$", "$1ies"),
    (r"(x|ch|ss|sh|zz)$", "$1es"),
    (r"(matr|cod|mur|sil|vert|ind|append)(?:ix|ex)$", "$1ices"),
    (r"(m|l)(?:ice|ouse)$", "$1ice"),
    (r"(pe)(?:rson|ople)$", "$1ople"),
    (r"(child)(?:ren)?$", "$1ren"),
    (r"eaux$", "$0"),
    (r"m[ae]n$", "men"),
    (r"^thou$", "you"),
];

const SINGULAR_RULES: &[(&str, &str)] = &[
    (r"s$", ""),
    (r"(ss)$", "$1"),
    (
        r"(wi|kni|(?:after|half|high|low|mid|non|night|[^A-Za-z0-9_]|^)li)ves$",
        "$1fe",
    ),
    (r"(ar|(?:wo|[ae])l|[eo][ao])ves$", "$1f"),
    (r"ies$", "y"),
    (
        r"\b([pl]|zomb|(?:neck|cross)?t|coll|faer|food|gen|goon|group|lass|talk|goal|cut)ies$",
        "$1ie",
    ),
    (r"\b(mon|smil)ies$", "$1ey"),
    (r"(m|l)ice$", "$1ouse"),
    (r"(seraph|cherub)im$", "$1"),
    (
        r"(x|ch|ss|sh|zz|tto|go|cho|alias|[^aou]us|tlas|gas|(?:her|at|gr)o|ris)(?:es)?$",
        "$1",
    ),
    (
        r"(analy|ba|diagno|parenthe|progno|synop|the|empha|cri)(?:sis|ses)$",
        "$1sis",
    ),
    (r"(movie|twelve|abuse|e[mn]u)s$", "$1"),
    (r"(test)(?:is|es)$", "$1is"),
    (
        r"(alumn|syllab|octop|vir|radi|nucle|fung|cact|stimul|termin|bacill|foc|uter|loc|strat)(?:us|i)$",
        "$1us",
    ),
    (
        r"(agend|addend|millenni|dat|extrem|bacteri|desiderat|strat|candelabr|errat|ov|symposi|curricul|quor)a$",
        "$1um",
    ),
    (
        r"(apheli|hyperbat|periheli|asyndet|noumen|phenomen|criteri|organ|prolegomen|hedr|automat)a$",
        "$1on",
    ),
    (r"(alumn|alg|vertebr)ae$", "$1a"),
    (r"(cod|mur|sil|vert|ind)ices$", "$1ex"),
    (r"(matr|append)ices$", "$1ix"),
    (r"(pe)(rson|ople)$", "$1rson"),
    (r"(child)ren$", "$1"),
    (r"(eau)x?$", "$1"),
    (r"men$", "man"),
];

/// Words with no plural (matched as whole names).
const UNCOUNTABLE: &[&str] = &[
    "adulthood",
    "advice",
    "agenda",
    "aid",
    "alcohol",
    "ammo",
    "anime",
    "athletics",
    "audio",
    "bison",
    "blood",
    "bream",
    "buffalo",
    "butter",
    "carp",
    "cash",
    "chassis",
    "chess",
    "clothing",
    "cod",
    "commerce",
    "cooperation",
    "corps",
    "debris",
    "diabetes",
    "digestion",
    "elk",
    "energy",
    "equipment",
    "excretion",
    "expertise",
    "flounder",
    "fun",
    "gallows",
    "garbage",
    "graffiti",
    "headquarters",
    "health",
    "herpes",
    "highjinks",
    "homework",
    "housework",
    "information",
    "jeans",
    "justice",
    "kudos",
    "labour",
    "literature",
    "machinery",
    "mackerel",
    "mail",
    "media",
    "mews",
    "moose",
    "music",
    "manga",
    "news",
    "pike",
    "plankton",
    "pliers",
    "pollution",
    "premises",
    "rain",
    "research",
    "rice",
    "salmon",
    "scissors",
    "series",
    "sewage",
    "shambles",
    "shrimp",
    "species",
    "staff",
    "swine",
    "tennis",
    "traffic",
    "transporation",
    "trout",
    "tuna",
    "wealth",
    "welfare",
    "whiting",
    "wildebeest",
    "wildlife",
    "you",
];

/// Uncountable suffixes: added as rules of both directions that keep the word, after all
/// the others, so they are tried first.
const UNCOUNTABLE_RULES: &[&str] = &[
    r"[^aeiou]ese$",
    r"deer$",
    r"fish$",
    r"measles$",
    r"o[iu]s$",
    r"pox$",
    r"sheep$",
];

struct Rules {
    plural: Vec<(Regex, &'static str)>,
    singular: Vec<(Regex, &'static str)>,
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let compile = |list: &[(&'static str, &'static str)]| -> Vec<(Regex, &'static str)> {
            list.iter()
                .copied()
                .chain(UNCOUNTABLE_RULES.iter().map(|r| (*r, "$0")))
                .map(|(r, to)| (Regex::new(&format!("(?i){r}")).expect("rule"), to))
                .collect()
        };
        Rules {
            plural: compile(PLURAL_RULES),
            singular: compile(SINGULAR_RULES),
        }
    })
}

/// The package's `restoreCase`: `token` in the case of `word`.
fn restore_case(word: &str, token: &str) -> String {
    if word == token {
        return token.to_string();
    }
    if word == word.to_uppercase() {
        return token.to_uppercase();
    }
    if word.chars().next().is_some_and(char::is_uppercase) {
        let mut chars = token.chars();
        return match chars.next() {
            Some(f) => f
                .to_uppercase()
                .chain(chars.flat_map(char::to_lowercase))
                .collect(),
            None => String::new(),
        };
    }
    token.to_lowercase()
}

/// `$0`, `$1`, `$2` of the replacement, from the match (a missing group is empty).
fn interpolate(template: &str, caps: &Captures<'_>) -> String {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek().and_then(|d| d.to_digit(10))) {
            ('$', Some(n)) => {
                chars.next();
                out.push_str(caps.get(n as usize).map_or("", |m| m.as_str()));
            }
            _ => out.push(c),
        }
    }
    out
}

fn replace_word(word: &str, to_other: bool, rules: &[(Regex, &'static str)]) -> String {
    let token = word.to_lowercase();
    // `to_other`: plural when pluralising (a word already in the target form is kept).
    let keep = IRREGULAR
        .iter()
        .any(|(s, p)| if to_other { *p == token } else { *s == token });
    if keep {
        return restore_case(word, &token);
    }
    let replacement = IRREGULAR.iter().find_map(|(s, p)| {
        if to_other {
            (*s == token).then_some(*p)
        } else {
            (*p == token).then_some(*s)
        }
    });
    if let Some(r) = replacement {
        return restore_case(word, r);
    }
    if token.is_empty() || UNCOUNTABLE.contains(&token.as_str()) {
        return word.to_string();
    }
    for (re, to) in rules.iter().rev() {
        if let Some(caps) = re.captures(word) {
            let m = caps.get(0).expect("match");
            let result = interpolate(to, &caps);
            let cased = if m.as_str().is_empty() {
                // An empty match takes the case of the character before it.
                let before = word[..m.start()].chars().next_back().map(String::from);
                restore_case(before.as_deref().unwrap_or(""), &result)
            } else {
                restore_case(m.as_str(), &result)
            };
            return format!("{}{cased}{}", &word[..m.start()], &word[m.end()..]);
        }
    }
    word.to_string()
}

/// `pluralize(word)`
pub fn plural(word: &str) -> String {
    memoized(word, true, || replace_word(word, true, &rules().plural))
}

/// `pluralize.singular(word)`
pub fn singular(word: &str) -> String {
    memoized(word, false, || replace_word(word, false, &rules().singular))
}

/// Answers already computed on this thread: a schema build asks for the same few words (a
/// table's name) many times, and each regex pass costs microseconds (a fifth of the build at a
/// thousand tables). Cleared when it grows past a bound, so it stays small.
fn memoized(word: &str, to_plural: bool, compute: impl FnOnce() -> String) -> String {
    use std::cell::RefCell;
    use std::collections::HashMap;
    const BOUND: usize = 100_000;
    thread_local! {
        static SEEN: RefCell<HashMap<(bool, String), String>> = RefCell::new(HashMap::new());
    }
    let key = (to_plural, word.to_string());
    if let Some(hit) = SEEN.with(|seen| seen.borrow().get(&key).cloned()) {
        return hit;
    }
    let answer = compute();
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() >= BOUND {
            seen.clear();
        }
        seen.insert(key, answer.clone());
    });
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (word, plural, singular) as `pluralize@7.0.0` answers them under Node.
    const REFERENCE: &[(&str, &str, &str)] = &[
        ("posts", "posts", "post"),
        ("post", "posts", "post"),
        ("houses", "houses", "house"),
        ("house", "houses", "house"),
        ("people", "people", "person"),
        ("person", "people", "person"),
        ("statuses", "statuses", "status"),
        ("status", "statuses", "status"),
        ("data", "data", "datum"),
        ("datum", "data", "datum"),
        ("users", "users", "user"),
        ("categories", "categories", "category"),
        ("post_tags", "post_tags", "post_tag"),
        ("boxes", "boxes", "box"),
        ("keys", "keys", "key"),
        ("news", "news", "news"),
        ("daily_news", "daily_news", "daily_new"),
        ("fish", "fish", "fish"),
        ("networks", "networks", "network"),
        ("compound_key", "compound_keys", "compound_key"),
        ("compound_keys", "compound_keys", "compound_key"),
        ("reserved_patch", "reserved_patches", "reserved_patch"),
        ("addresses", "addresses", "address"),
        ("indices", "indices", "index"),
        ("matrices", "matrices", "matrix"),
        ("media", "media", "media"),
        ("analyses", "analyses", "analysis"),
        ("buses", "buses", "bus"),
        ("viruses", "viruses", "virus"),
        ("octopi", "octopi", "octopus"),
        ("children", "children", "child"),
        ("men", "men", "man"),
        ("women", "women", "woman"),
        ("mice", "mice", "mouse"),
        ("geese", "geese", "goose"),
        ("quizzes", "quizzes", "quiz"),
        ("wolves", "wolves", "wolf"),
        ("knives", "knives", "knife"),
        ("lives", "lives", "life"),
        ("heroes", "heroes", "hero"),
        ("potatoes", "potatoes", "potato"),
        ("photos", "photos", "photo"),
        ("series", "series", "series"),
        ("species", "species", "species"),
        ("sheep", "sheep", "sheep"),
        ("cactus", "cacti", "cactus"),
        ("criteria", "criteria", "criterion"),
        ("phenomena", "phenomena", "phenomenon"),
        ("alumni", "alumni", "alumnus"),
        ("table1", "table1S", "table1"),
        ("types", "types", "type"),
        ("movies", "movies", "movie"),
        ("cookies", "cookies", "cooky"),
        ("pies", "pies", "pie"),
        ("ties", "ties", "tie"),
        ("zombies", "zombies", "zombie"),
        ("kitchens", "kitchens", "kitchen"),
        ("widgets", "widgets", "widget"),
        ("a", "as", "a"),
        ("s", "s", ""),
        ("is", "are", "is"),
        ("this", "these", "this"),
        ("oxen", "oxen", "ox"),
        ("feet", "feet", "foot"),
        ("teeth", "teeth", "tooth"),
        ("indexes", "indexes", "index"),
        ("vertices", "vertices", "vertex"),
        ("aliases", "aliases", "alias"),
        ("gases", "gases", "gas"),
        ("atlases", "atlases", "atlas"),
        ("crisis", "crises", "crisis"),
        ("axes", "axes", "axe"),
        ("tests", "tests", "test"),
        ("PostTag", "PostTags", "PostTag"),
        ("Person", "People", "Person"),
        ("UserPerson", "UserPeople", "UserPerson"),
        ("JSON", "JSONS", "JSON"),
        ("leaves", "leaves", "leaf"),
        ("thieves", "thieves", "thief"),
        ("buffalo", "buffalo", "buffalo"),
        ("mail", "mail", "mail"),
        ("emails", "emails", "email"),
        ("queries", "queries", "query"),
        ("query", "queries", "query"),
        ("status_codes", "status_codes", "status_code"),
        ("relay_nodes", "relay_nodes", "relay_node"),
        ("bus", "buses", "bus"),
        ("campus", "campuses", "campus"),
        ("genus", "genera", "genus"),
        ("lasses", "lasses", "lass"),
        ("goalies", "goalies", "goalie"),
        ("monies", "monies", "money"),
        ("smilies", "smilies", "smiley"),
        ("similar_items", "similar_items", "similar_item"),
        ("foo_input", "foo_inputs", "foo_input"),
        ("foo_patch", "foo_patches", "foo_patch"),
    ];

    #[test]
    fn agrees_with_the_npm_package() {
        for (word, p, s) in REFERENCE {
            assert_eq!(plural(word), *p, "plural of {word}");
            assert_eq!(singular(word), *s, "singular of {word}");
        }
    }
}
