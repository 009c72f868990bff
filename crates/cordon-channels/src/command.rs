//! The chat command language of the war room (CONTRACT.md, "Chat commands"), parsed once
//! into a typed [`Command`].
//!
//! The parser is pure and total: any input gives `None` (not a command) or a [`Command`];
//! it never panics and never fails wholesale. Keywords are case-insensitive, whitespace
//! between words is free, arguments keep their case. Only the first line of a message is
//! read, so `!ack` followed by a note on the next line is still `!ack`.
//!
//! | line | command |
//! | --- | --- |
//! | `!ic` | [`Command::WhoIsCommander`] |
//! | `!ic page` | [`Command::PageCommander`] |
//! | `!ic responders` | [`Command::ListResponders`] |
//! | `!ic page responders` | [`Command::PageResponders`] |
//! | `!ic who <user-or-role>` | [`Command::WhoIsOnCall`] |
//! | `!ic page <user>` | [`Command::PageUser`] |
//! | `!ack` | [`Command::Ack`] |
//! | `!status`, `!ic status` | [`Command::Status`] |
//! | `!ic link <code>` | [`Command::Link`] |
//! | `!help`, `!ic help` | [`Command::Help`] |
//! | any other `!word …` | [`Command::Unknown`], whose [`Command::reply_in`] explains |
//!
//! The help and the explanations are catalogue messages (`chat.help`, `chat.problem.*`,
//! `chat.usage.*` in `cordon-i18n`), in the language of whoever typed the line;
//! [`Command::reply_text`] and `Display` give the English.
//!
//! The Slack slash form (`/ic page`, or `command=/ic` + `text=page` in a slash-command body)
//! maps to the same commands through [`parse_slash_line`] and [`parse_slash_command`].

use std::fmt;

use cordon_i18n::Lang;

/// Longest first line, in characters, that is read as a command. Longer lines are
/// [`Command::Unknown`] with [`CommandProblem::TooLong`].
pub const MAX_COMMAND_CHARS: usize = 500;

/// A war-room chat command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Command {
    /// `!ic`: who is the incident commander of this room's incident.
    WhoIsCommander,
    /// `!ic page`: page the on-call incident commander (the `incident-commander` policy);
    /// in a room with no incident, declare a sealed security incident first.
    PageCommander,
    /// `!ic responders`: list the responder roles.
    ListResponders,
    /// `!ic page responders`: page the responder roles.
    PageResponders,
    /// `!ic who <user-or-role>`: who is on call for a role (or what a user holds).
    /// `target` is the rest of the line with its whitespace collapsed, case kept.
    WhoIsOnCall { target: String },
    /// `!ic page <user>`: page one person. `user` is one word, case kept (it may be a
    /// platform mention such as `@alice:example.org` or `<@U024BE7LH>`).
    PageUser { user: String },
    /// `!ack`: acknowledge the page that reached the sender.
    Ack,
    /// `!status` (or `!ic status`): the incident's status, open tasks and unmet gates.
    Status,
    /// `!ic link <code>`: link the sender's chat account to the Cordon user who was given the
    /// one-time code. The code is a secret: [`Command::canonical`] and `Debug` never show it,
    /// and a malformed `!ic link` line is [`Command::Unknown`] without the line.
    Link { code: LinkCodeText },
    /// `!help` or `!ic help`.
    Help,
    /// A line that starts like a command but is not one of the set.
    Unknown {
        /// The offending first line, trimmed (at most [`MAX_COMMAND_CHARS`] characters).
        input: String,
        problem: CommandProblem,
    },
}

/// The code typed after `!ic link`, as typed (the service reads it). Hidden from `Debug`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LinkCodeText(String);

impl LinkCodeText {
    pub fn new(code: impl Into<String>) -> Self {
        Self(code.into())
    }

    /// The code as typed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LinkCodeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkCodeText(…)")
    }
}

/// Why a `!` line is not a valid command; [`CommandProblem::text`] is a sentence for the reply
/// (`Display`: the English one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CommandProblem {
    /// `!foo`: not a command of the set.
    UnknownCommand { name: String },
    /// `!ic foo`: not a subcommand of `!ic`.
    UnknownSubcommand { name: String },
    /// A required argument is missing; `usage` shows the right form.
    MissingArgument { usage: &'static str },
    /// Words after a command that takes none (or more than one user for `!ic page`).
    UnexpectedArgument { usage: &'static str },
    /// The line is longer than [`MAX_COMMAND_CHARS`].
    TooLong,
}

impl CommandProblem {
    /// The sentence that explains the problem, in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        match self {
            Self::UnknownCommand { name } => lang.tf("chat.problem.unknown_command", &[("name", name)]),
            Self::UnknownSubcommand { name } => lang.tf("chat.problem.unknown_subcommand", &[("name", name)]),
            Self::MissingArgument { usage } => {
                lang.tf("chat.problem.missing_argument", &[("usage", &usage_in(usage, lang))])
            }
            Self::UnexpectedArgument { usage } => {
                lang.tf("chat.problem.unexpected_argument", &[("usage", &usage_in(usage, lang))])
            }
            Self::TooLong => lang.tf("chat.problem.too_long", &[("max", &MAX_COMMAND_CHARS.to_string())]),
        }
    }
}

impl fmt::Display for CommandProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

/// A usage line as `lang` writes its placeholders (`<user>`); the command words stay.
fn usage_in(usage: &str, lang: Lang) -> String {
    let key = match usage {
        USAGE_WHO => "chat.usage.who",
        USAGE_PAGE => "chat.usage.page",
        USAGE_LINK => "chat.usage.link",
        other => return other.to_owned(),
    };
    lang.t(key).to_owned()
}

const USAGE_WHO: &str = "!ic who <user-or-role>";
const USAGE_PAGE: &str = "!ic page [responders|<user>]";
const USAGE_ACK: &str = "!ack";
const USAGE_STATUS: &str = "!status";
const USAGE_LINK: &str = "!ic link <code>";

impl Command {
    /// The reply, in `lang`, for commands the parser answers by itself ([`Command::Help`]: the
    /// list of commands; [`Command::Unknown`]: what is wrong, then that list); `None` for
    /// commands that the dispatcher must carry out.
    pub fn reply_in(&self, lang: Lang) -> Option<String> {
        let help = lang.t("chat.help");
        match self {
            Self::Help => Some(help.to_owned()),
            Self::Unknown { problem, .. } => Some(format!("{}\n{help}", problem.text(lang))),
            _ => None,
        }
    }

    /// [`Command::reply_in`] English.
    pub fn reply_text(&self) -> Option<String> {
        self.reply_in(Lang::En)
    }

    /// Whether this command pages someone (and so may declare an incident).
    pub fn pages(&self) -> bool {
        matches!(self, Self::PageCommander | Self::PageResponders | Self::PageUser { .. })
    }

    /// The canonical chat form, e.g. `!ic page alice` (for logs and the audit trail).
    /// For [`Command::Unknown`] it is the offending input.
    pub fn canonical(&self) -> String {
        match self {
            Self::WhoIsCommander => "!ic".to_owned(),
            Self::PageCommander => "!ic page".to_owned(),
            Self::ListResponders => "!ic responders".to_owned(),
            Self::PageResponders => "!ic page responders".to_owned(),
            Self::WhoIsOnCall { target } => format!("!ic who {target}"),
            Self::PageUser { user } => format!("!ic page {user}"),
            Self::Ack => "!ack".to_owned(),
            Self::Status => "!status".to_owned(),
            Self::Link { .. } => "!ic link …".to_owned(),
            Self::Help => "!help".to_owned(),
            Self::Unknown { input, .. } => input.clone(),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Parses one chat message.
///
/// Returns `None` when the first line is not a command: it does not start with `!`
/// (leading whitespace aside), or the `!` is not followed by a word that starts with an
/// ASCII letter (`!!!`, `! 42`). Everything else is a [`Command`], possibly
/// [`Command::Unknown`].
pub fn parse_chat_line(message: &str) -> Option<Command> {
    let line = first_line(message);
    let rest = line.strip_prefix('!')?;
    parse_words(line, rest)
}

/// Parses the Slack slash form written as one line: `/ic page` → [`Command::PageCommander`].
///
/// Returns `None` when the line does not start with `/`.
pub fn parse_slash_line(line: &str) -> Option<Command> {
    let line = first_line(line);
    let rest = line.strip_prefix('/')?;
    let (name, text) = match rest.split_once(char::is_whitespace) {
        Some((name, text)) => (name, text),
        None => (rest, ""),
    };
    Some(parse_slash_command(&format!("/{name}"), text))
}

/// Parses a Slack slash-command invocation: the `command` and `text` fields of its form
/// body. `/ic`, `/ack` and `/status` map to the chat commands of the same name
/// (`/ic` + `page` → [`Command::PageCommander`]). Any other command name (a workspace may
/// register `/cordon`) reads `text` as a chat command with or without its `!`
/// (`/cordon ic page`); an empty `text` is [`Command::Help`].
pub fn parse_slash_command(command: &str, text: &str) -> Command {
    let name = command.trim().trim_start_matches('/');
    let text = first_line(text);
    let line = if ["ic", "ack", "status", "help"]
        .iter()
        .any(|known| name.eq_ignore_ascii_case(known))
    {
        format!("!{name} {text}")
    } else if text.is_empty() {
        return Command::Help;
    } else if text.starts_with('!') {
        text.to_owned()
    } else {
        format!("!{text}")
    };
    parse_chat_line(&line).unwrap_or_else(|| Command::Unknown {
        input: truncate(line.trim()),
        problem: CommandProblem::UnknownCommand { name: truncate(text) },
    })
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or("").trim()
}

fn truncate(s: &str) -> String {
    s.chars().take(MAX_COMMAND_CHARS).collect()
}

/// `line` is the whole trimmed first line (for `Unknown.input`), `rest` what follows `!`.
fn parse_words(line: &str, rest: &str) -> Option<Command> {
    let mut words = rest.split_whitespace();
    let name = words.next()?;
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    // A `!ic link` line holds a secret: whatever is wrong with it, it is not repeated.
    let is_link = name.eq_ignore_ascii_case("ic")
        && rest
            .split_whitespace()
            .nth(1)
            .is_some_and(|w| w.eq_ignore_ascii_case("link"));
    let unknown = |problem| {
        Some(Command::Unknown {
            input: if is_link { "!ic link".to_owned() } else { truncate(line) },
            problem,
        })
    };
    if line.chars().count() > MAX_COMMAND_CHARS {
        return unknown(CommandProblem::TooLong);
    }
    let args: Vec<&str> = words.collect();
    let no_args = |command: Command, usage: &'static str| {
        if args.is_empty() {
            Some(command)
        } else {
            unknown(CommandProblem::UnexpectedArgument { usage })
        }
    };
    let is = |word: &str, keyword: &str| word.eq_ignore_ascii_case(keyword);

    if is(name, "ack") {
        return no_args(Command::Ack, USAGE_ACK);
    }
    if is(name, "status") {
        return no_args(Command::Status, USAGE_STATUS);
    }
    if is(name, "help") {
        return Some(Command::Help);
    }
    if !is(name, "ic") {
        return unknown(CommandProblem::UnknownCommand { name: name.to_owned() });
    }
    let Some((&sub, sub_args)) = args.split_first() else {
        return Some(Command::WhoIsCommander);
    };
    if is(sub, "page") {
        return match sub_args {
            [] => Some(Command::PageCommander),
            [who] if is(who, "responders") => Some(Command::PageResponders),
            [user] => Some(Command::PageUser {
                user: (*user).to_owned(),
            }),
            _ => unknown(CommandProblem::UnexpectedArgument { usage: USAGE_PAGE }),
        };
    }
    if is(sub, "link") {
        return match sub_args {
            [] => unknown(CommandProblem::MissingArgument { usage: USAGE_LINK }),
            [code] => Some(Command::Link {
                code: LinkCodeText::new(*code),
            }),
            // A code shown as `ABCD EFGH JKMN` may be typed with spaces.
            words if words.len() <= 4 => Some(Command::Link {
                code: LinkCodeText::new(words.concat()),
            }),
            _ => unknown(CommandProblem::UnexpectedArgument { usage: USAGE_LINK }),
        };
    }
    if is(sub, "responders") {
        return if sub_args.is_empty() {
            Some(Command::ListResponders)
        } else {
            unknown(CommandProblem::UnexpectedArgument {
                usage: "!ic responders",
            })
        };
    }
    if is(sub, "who") {
        return if sub_args.is_empty() {
            unknown(CommandProblem::MissingArgument { usage: USAGE_WHO })
        } else {
            Some(Command::WhoIsOnCall {
                target: sub_args.join(" "),
            })
        };
    }
    if is(sub, "help") {
        return Some(Command::Help);
    }
    if is(sub, "status") {
        return if sub_args.is_empty() {
            Some(Command::Status)
        } else {
            unknown(CommandProblem::UnexpectedArgument { usage: USAGE_STATUS })
        };
    }
    unknown(CommandProblem::UnknownSubcommand { name: sub.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(line: &str) -> Option<Command> {
        parse_chat_line(line)
    }

    #[test]
    fn the_contract_set() {
        assert_eq!(p("!ic"), Some(Command::WhoIsCommander));
        assert_eq!(p("!ic page"), Some(Command::PageCommander));
        assert_eq!(p("!ic responders"), Some(Command::ListResponders));
        assert_eq!(p("!ic page responders"), Some(Command::PageResponders));
        assert_eq!(
            p("!ic who security_lead"),
            Some(Command::WhoIsOnCall {
                target: "security_lead".into()
            })
        );
        assert_eq!(p("!ic page Alice"), Some(Command::PageUser { user: "Alice".into() }));
        assert_eq!(p("!ack"), Some(Command::Ack));
        assert_eq!(p("!status"), Some(Command::Status));
        assert_eq!(p("!ic status"), Some(Command::Status));
        assert_eq!(p("!help"), Some(Command::Help));
        assert_eq!(p("!ic help"), Some(Command::Help));
    }

    #[test]
    fn keywords_ignore_case_and_whitespace_but_arguments_keep_case() {
        assert_eq!(p("  !IC   PAGE  "), Some(Command::PageCommander));
        assert_eq!(p("!Ic\tPage\u{a0}Responders"), Some(Command::PageResponders));
        assert_eq!(p("! ic page"), Some(Command::PageCommander));
        assert_eq!(p("!ACK"), Some(Command::Ack));
        assert_eq!(
            p("!ic  WHO   Security    Lead "),
            Some(Command::WhoIsOnCall {
                target: "Security Lead".into()
            })
        );
        assert_eq!(
            p("!ic page @Bob:example.org"),
            Some(Command::PageUser {
                user: "@Bob:example.org".into()
            })
        );
    }

    #[test]
    fn only_the_first_line_is_the_command() {
        assert_eq!(p("!ack\nI'm on it"), Some(Command::Ack));
        assert_eq!(p("!ic page\r\n!status"), Some(Command::PageCommander));
        assert_eq!(p("hello\n!ic page"), None);
    }

    #[test]
    fn non_commands_are_none() {
        for line in [
            "",
            "   ",
            "ic page",
            "hello !ic page",
            "!",
            "!!!",
            "! 42",
            "!?",
            "/ic page",
        ] {
            assert_eq!(p(line), None, "{line:?}");
        }
    }

    #[test]
    fn unknown_commands_explain_themselves() {
        let c = p("!foo bar").unwrap();
        assert!(matches!(
            &c,
            Command::Unknown { input, problem: CommandProblem::UnknownCommand { name } }
                if input == "!foo bar" && name == "foo"
        ));
        let reply = c.reply_text().unwrap();
        assert!(reply.contains("`!foo` is not a command"), "{reply}");
        assert!(reply.contains("!ic page"), "{reply}");

        let c = p("!ic pager").unwrap();
        assert!(matches!(
            c,
            Command::Unknown {
                problem: CommandProblem::UnknownSubcommand { .. },
                ..
            }
        ));
        let c = p("!ic who").unwrap();
        assert!(c.reply_text().unwrap().contains("!ic who <user-or-role>"));
        for line in [
            "!ack now",
            "!status please",
            "!ic status please",
            "!ic page a b",
            "!ic responders x",
        ] {
            assert!(
                matches!(
                    p(line),
                    Some(Command::Unknown {
                        problem: CommandProblem::UnexpectedArgument { .. },
                        ..
                    })
                ),
                "{line}"
            );
        }
        let long = format!("!ic who {}", "x".repeat(MAX_COMMAND_CHARS));
        assert!(matches!(
            p(&long),
            Some(Command::Unknown {
                problem: CommandProblem::TooLong,
                ..
            })
        ));
        assert_eq!(Command::Ack.reply_text(), None);
    }

    #[test]
    fn help_and_problems_speak_the_readers_language() {
        // English is what it always was.
        let help = Command::Help.reply_in(Lang::En).unwrap();
        assert!(help.starts_with("Commands:\n  !ic "), "{help}");
        assert_eq!(Command::Help.reply_text(), Some(help));
        // The usage lines the parser names are the catalogue's English.
        for (usage, key) in [
            (USAGE_WHO, "chat.usage.who"),
            (USAGE_PAGE, "chat.usage.page"),
            (USAGE_LINK, "chat.usage.link"),
        ] {
            assert_eq!(Lang::En.t(key), usage);
            assert_ne!(Lang::Ja.t(key), usage, "{key}: its placeholders are Japanese");
        }
        // Japanese: every command word as typed, explanations in Japanese.
        let help = Command::Help.reply_in(Lang::Ja).unwrap();
        assert!(help.starts_with("コマンド一覧"), "{help}");
        for word in [
            "!ic page responders",
            "!ic responders",
            "!ic who",
            "!ic page",
            "!ack",
            "!status",
            "!ic link",
        ] {
            assert!(help.contains(word), "{word}: {help}");
        }
        let reply = p("!foo bar").unwrap().reply_in(Lang::Ja).unwrap();
        assert!(
            reply.starts_with("`!foo` というコマンドはありません。\nコマンド一覧"),
            "{reply}"
        );
        let reply = p("!ic who").unwrap().reply_in(Lang::Ja).unwrap();
        assert!(reply.contains("`!ic who <ユーザーまたは役割>`"), "{reply}");
        let long = format!("!ic who {}", "x".repeat(MAX_COMMAND_CHARS));
        assert!(p(&long).unwrap().reply_in(Lang::Ja).unwrap().contains("500 文字まで"));
        assert_eq!(Command::Ack.reply_in(Lang::Ja), None);
    }

    #[test]
    fn slash_forms_map_to_the_same_commands() {
        assert_eq!(parse_slash_line("/ic page"), Some(Command::PageCommander));
        assert_eq!(parse_slash_line("/IC  Page Responders"), Some(Command::PageResponders));
        assert_eq!(parse_slash_line("/ic"), Some(Command::WhoIsCommander));
        assert_eq!(parse_slash_line("/ack"), Some(Command::Ack));
        assert_eq!(parse_slash_line("!ic page"), None);
        assert_eq!(parse_slash_command("/ic", "page"), Command::PageCommander);
        assert_eq!(parse_slash_command("/ic", ""), Command::WhoIsCommander);
        assert_eq!(parse_slash_command("/status", ""), Command::Status);
        assert_eq!(parse_slash_command("/cordon", "ic page"), Command::PageCommander);
        assert_eq!(parse_slash_command("/cordon", "!ack"), Command::Ack);
        assert_eq!(parse_slash_command("/cordon", ""), Command::Help);
        assert!(matches!(parse_slash_command("/cordon", "42"), Command::Unknown { .. }));
        assert!(matches!(parse_slash_command("/ic", "dance"), Command::Unknown { .. }));
    }

    #[test]
    fn canonical_form_parses_back() {
        for c in [
            Command::WhoIsCommander,
            Command::PageCommander,
            Command::ListResponders,
            Command::PageResponders,
            Command::WhoIsOnCall {
                target: "Security Lead".into(),
            },
            Command::PageUser { user: "alice".into() },
            Command::Ack,
            Command::Status,
            Command::Help,
        ] {
            assert_eq!(p(&c.canonical()), Some(c.clone()));
            assert_eq!(c.to_string(), c.canonical());
        }
        assert!(Command::PageUser { user: "a".into() }.pages());
        assert!(!Command::Status.pages());
    }

    #[test]
    fn link_codes_are_never_shown() {
        let c = p("!ic link ABCD-EFGH-JKMN").unwrap();
        assert_eq!(
            c,
            Command::Link {
                code: LinkCodeText::new("ABCD-EFGH-JKMN")
            }
        );
        assert_eq!(c.canonical(), "!ic link …");
        assert!(!format!("{c:?}").contains("ABCD"), "{c:?}");
        assert_eq!(c.reply_text(), None);
        assert!(!c.pages());
        assert_eq!(
            parse_slash_command("/ic", "link abcd efgh jkmn"),
            Command::Link {
                code: LinkCodeText::new("abcdefghjkmn")
            }
        );
        for line in ["!ic link", "!ic link a b c d e"] {
            let c = p(line).unwrap();
            assert!(
                matches!(&c, Command::Unknown { input, .. } if input == "!ic link"),
                "{c:?}"
            );
            assert!(c.reply_text().unwrap().contains(USAGE_LINK));
        }
        for line in [
            "!ic link SECRET1 SECRET2 SECRET3 SECRET4 SECRET5".to_owned(),
            format!("!ic link SECRET {}", "x".repeat(MAX_COMMAND_CHARS)),
        ] {
            let c = p(&line).unwrap();
            assert!(!format!("{c:?}{}{}", c.canonical(), c.reply_text().unwrap()).contains("SECRET"));
        }
    }

    proptest! {
        #[test]
        fn never_panics(line in any::<String>()) {
            let _ = parse_chat_line(&line);
            let _ = parse_slash_line(&line);
            let _ = parse_slash_command(&line, &line);
        }

        #[test]
        fn never_panics_on_command_like_input(
            line in "[!/ ]{0,2}(ic|IC|ack|status|help|x)?( +(page|who|responders|[a-zA-Z@:<>|é\t]{0,8})){0,4}[ \n]*"
        ) {
            if let Some(c) = parse_chat_line(&line) {
                // A parsed command re-parses to itself from its canonical form (a link code
                // is a secret its canonical form hides).
                if !matches!(c, Command::Unknown { .. } | Command::Link { .. }) {
                    prop_assert_eq!(parse_chat_line(&c.canonical()), Some(c));
                }
            }
            let _ = parse_slash_line(&line);
        }

        #[test]
        fn keywords_are_case_insensitive(
            idx in 0usize..8,
            upper in proptest::collection::vec(any::<bool>(), 32),
            pad in "[ \t]{1,3}",
        ) {
            let lines = ["!ic", "!ic page", "!ic responders", "!ic page responders",
                "!ic who scribe", "!ack", "!status", "!help"];
            let line = lines[idx];
            let mangled: String = line
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, &u)| if u { c.to_ascii_uppercase() } else { c })
                .collect::<String>()
                .replace(' ', &pad);
            let expected = parse_chat_line(line).map(|c| match c {
                Command::WhoIsOnCall { .. } => Command::WhoIsOnCall {
                    target: mangled.rsplit(&pad).next().unwrap_or_default().to_owned(),
                },
                other => other,
            });
            prop_assert_eq!(parse_chat_line(&format!("{pad}{mangled}{pad}")), expected);
        }
    }
}
