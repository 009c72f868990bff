//! Examples in `--help`: one table for every subcommand, attached to the command tree before
//! parsing (and before completions are generated), after `kubectl`'s and `gh`'s help pages.
//!
//! They live in one table rather than beside each subcommand so that a test can hold them to
//! two rules: every subcommand has at least one, and every one parses with the real command
//! line (flags, values and arguments that exist). A new subcommand without an example fails
//! `every_subcommand_has_an_example`; add its line here.

use clap::{Command, CommandFactory, FromArgMatches};

use crate::cli::Cli;

/// `(subcommand path, examples)`; each example is a whole command line, one per line.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("serve", "cordon serve --data-dir /var/lib/cordon --listen 0.0.0.0:8077"),
    (
        "incident declare",
        "cordon incident declare --title \"Deploy key pushed to a public repo\" --severity SEV-2\n\
         cordon incident declare --title \"Checkout latency\" --kind operational --severity sev-3 --room '#inc-checkout'\n\
         cordon incident declare --title \"Odd sudo activity\" --quiet",
    ),
    ("incident list", "cordon incident list\ncordon incident list --json"),
    ("incident show", "cordon incident show sapphire-unicorn"),
    (
        "incident update",
        "cordon incident update sapphire-unicorn --severity SEV-1\n\
         cordon incident update sapphire-unicorn --status active --title \"Deploy key used from 203.0.113.7\"",
    ),
    ("incident resolve", "cordon incident resolve sapphire-unicorn"),
    (
        "incident close",
        "cordon incident close sapphire-unicorn\ncordon incident close sapphire-unicorn --not-an-incident",
    ),
    (
        "incident handover",
        "cordon incident handover sapphire-unicorn bob\ncordon incident handover sapphire-unicorn carol --role scribe",
    ),
    (
        "incident member list",
        "cordon incident member list sapphire-unicorn\ncordon incident member list sapphire-unicorn --all",
    ),
    (
        "incident member add",
        "cordon incident member add sapphire-unicorn carol --role legal",
    ),
    (
        "incident member remove",
        "cordon incident member remove sapphire-unicorn carol --role legal",
    ),
    (
        "incident decision record",
        "cordon incident decision record sapphire-unicorn insider_threat_ruled_out --note \"badge logs checked\"\n\
         cordon incident decision record sapphire-unicorn law_enforcement_notified --no",
    ),
    (
        "incident decision list",
        "cordon incident decision list sapphire-unicorn",
    ),
    ("task list", "cordon task list sapphire-unicorn"),
    ("task mine", "cordon task mine"),
    (
        "task set",
        "cordon task set sapphire-unicorn 1 --status in-progress --assignee alice\n\
         cordon task set sapphire-unicorn 10 --status done --override-reason \"monitoring verified by hand\"",
    ),
    (
        "user create",
        "cordon user create olga --email olga@example.com --group security",
    ),
    ("user list", "cordon user list"),
    ("user show", "cordon user show olga"),
    ("user token", "cordon user token olga --label laptop --expires-in P30D"),
    ("user tokens", "cordon user tokens olga"),
    (
        "user revoke-token",
        "cordon user revoke-token olga 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
    ),
    ("user disable", "cordon user disable olga"),
    ("user enable", "cordon user enable olga"),
    (
        "user link-code",
        "cordon user link-code matrix --account @olga:example.org",
    ),
    ("user link", "cordon user link olga slack U024BE7LH"),
    ("user identities", "cordon user identities olga"),
    (
        "user unlink",
        "cordon user unlink olga 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
    ),
    ("user conflicts", "cordon user conflicts"),
    ("user password", "cordon user password olga"),
    ("user totp", "cordon user totp olga"),
    ("session list", "cordon session list\ncordon session list --user olga"),
    ("session revoke", "cordon session revoke 0192f7a4"),
    ("audit verify", "cordon audit verify"),
    (
        "audit log",
        "cordon audit log --limit 20\n\
         cordon audit log --incident sapphire-unicorn --action member\n\
         cordon audit log --actor olga --since 2026-03-01T00:00:00Z --all\n\
         cordon audit log --after 1200",
    ),
    (
        "playbook check",
        "cordon playbook check\ncordon playbook check --strict playbooks/security.toml",
    ),
    (
        "page trigger",
        "cordon page trigger sapphire-unicorn\n\
         cordon page trigger sapphire-unicorn --user bob --reason \"db1 shows the attacker's IP again\"",
    ),
    ("page show", "cordon page show 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"),
    ("page ack", "cordon page ack 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"),
    (
        "page resolve",
        "cordon page resolve 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
    ),
    ("oncall schedule", "cordon oncall schedule primary.json"),
    ("oncall policy", "cordon oncall policy incident-commander.json"),
    ("oncall list", "cordon oncall list"),
    ("oncall who", "cordon oncall who"),
    (
        "timeline ingest",
        "cordon timeline ingest sapphire-unicorn /var/log/auth.log /var/log/nginx/access.log.gz\n\
         cordon timeline ingest sapphire-unicorn secure --format syslog --year 2025 --tz Europe/Berlin",
    ),
    (
        "timeline query",
        "cordon timeline query sapphire-unicorn --ip 203.0.113.7\n\
         cordon timeline query sapphire-unicorn --user deploy --from 2026-03-01T00:00:00Z --limit 50",
    ),
    ("timeline sources", "cordon timeline sources sapphire-unicorn"),
    (
        "timeline export",
        "cordon timeline export sapphire-unicorn --format timesketch-csv -o timeline.csv",
    ),
    (
        "evidence add",
        "cordon evidence add sapphire-unicorn web1-root.img --acquired-by alice --tool dd",
    ),
    ("evidence list", "cordon evidence list sapphire-unicorn"),
    (
        "evidence show",
        "cordon evidence show sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
    ),
    (
        "evidence get",
        "cordon evidence get sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b -o web1-root.img --reason \"analysis\"",
    ),
    (
        "evidence verify",
        "cordon evidence verify sapphire-unicorn\ncordon evidence verify sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
    ),
    (
        "evidence transfer",
        "cordon evidence transfer sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b --to \"Det. Rivera\" --organisation \"County Police\"",
    ),
    (
        "evidence custody",
        "cordon evidence custody sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b --format pdf --tz Europe/Berlin -o custody.pdf",
    ),
    (
        "page list",
        "cordon page list\ncordon page list sapphire-unicorn --status triggered",
    ),
    ("oncall check", "cordon oncall check"),
    (
        "chat say",
        "cordon chat say --room '#sec-war-room' '!status'\ncordon chat say --room '#sec-war-room' '!ic page'",
    ),
    (
        "room say",
        "cordon room say sapphire-unicorn 'web1 is isolated; imaging it now'\ncordon room say sapphire-unicorn '!status'",
    ),
    (
        "room log",
        "cordon room log sapphire-unicorn\ncordon room log sapphire-unicorn --last 20",
    ),
    (
        "chat room",
        "cordon chat room '!abc:corp.example'\ncordon chat room '!abc:corp.example' --team-only true",
    ),
    (
        "user contact add",
        "cordon user contact add alice --kind email --address alice@example.com\n\
         cordon user contact add alice --kind webhook --address https://hooks.example/cordon",
    ),
    ("user contact list", "cordon user contact list alice"),
    (
        "user contact test",
        "cordon user contact test alice --kind webhook --address https://hooks.example/cordon",
    ),
    (
        "user contact rotate-secret",
        "cordon user contact rotate-secret alice --address https://hooks.example/cordon",
    ),
    ("comms templates", "cordon comms templates"),
    (
        "comms template",
        "cordon comms template external --audience external --title \"{{ today }}: Security notice\" --body @external.md.j2",
    ),
    (
        "timeline histogram",
        "cordon timeline histogram sapphire-unicorn --ip 203.0.113.7 --interval 5m",
    ),
    ("timeline facets", "cordon timeline facets sapphire-unicorn --top 5"),
    (
        "comms draft",
        "cordon comms draft sapphire-unicorn --audience internal --to all-staff@example.com\n\
         cordon comms draft sapphire-unicorn --audience customer-security --title \"Security notice\" --body @notice.md",
    ),
    ("comms list", "cordon comms list sapphire-unicorn"),
    (
        "comms show",
        "cordon comms show sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
    ),
    (
        "comms edit",
        "cordon comms edit sapphire-unicorn 0192f7a4\n\
         cordon comms edit sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b --body @notice.md",
    ),
    (
        "comms approve",
        "cordon comms approve sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b\n\
         cordon comms approve sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b --override-reason \"counsel approved the wording\"",
    ),
    (
        "comms send",
        "cordon comms send sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
    ),
    (
        "clock start",
        "cordon clock start sapphire-unicorn --regime gdpr --started-at 2026-03-01T09:30:00Z",
    ),
    ("clock list", "cordon clock list sapphire-unicorn"),
    (
        "clock met",
        "cordon clock met sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b notify_authority",
    ),
    (
        "contact add",
        "cordon contact add sapphire-unicorn --party law-enforcement --name \"FBI field office\" --at 2026-03-02T14:00:00Z",
    ),
    ("contact list", "cordon contact list sapphire-unicorn"),
    (
        "report",
        "cordon report sapphire-unicorn\ncordon report sapphire-unicorn --format pdf --tz Europe/Berlin -o report.pdf",
    ),
    (
        "asset add",
        "cordon asset add sapphire-unicorn web1 --kind host --address 10.0.4.17 --state compromised",
    ),
    ("asset list", "cordon asset list sapphire-unicorn"),
    (
        "asset move",
        "cordon asset move sapphire-unicorn web1 isolated --note \"security group detached\"",
    ),
    ("asset risk", "cordon asset risk sapphire-unicorn"),
    (
        "system add",
        "cordon system add sapphire-unicorn billing --owner dave --asset db1",
    ),
    ("system list", "cordon system list sapphire-unicorn"),
    (
        "credential add",
        "cordon credential add sapphire-unicorn deploy-key --kind ssh-key --on web1 --grants github",
    ),
    (
        "credential list",
        "cordon credential list sapphire-unicorn\ncordon credential list sapphire-unicorn --unrotated",
    ),
    (
        "credential rotate",
        "cordon credential rotate sapphire-unicorn deploy-key",
    ),
    (
        "credential revoke",
        "cordon credential revoke sapphire-unicorn deploy-key",
    ),
    (
        "exposure add",
        "cordon exposure add sapphire-unicorn \"customer emails\" --classification pii --records 1200",
    ),
    ("exposure list", "cordon exposure list sapphire-unicorn"),
    (
        "ioc add",
        "cordon ioc add sapphire-unicorn ip 203.0.113[.]7 --note \"ssh brute force\"",
    ),
    ("ioc list", "cordon ioc list sapphire-unicorn"),
    (
        "ioc promote",
        "cordon ioc promote sapphire-unicorn 0192f7a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b 42 203.0.113.7",
    ),
    ("ioc search", "cordon ioc search sapphire-unicorn"),
    (
        "ioc export",
        "cordon ioc export sapphire-unicorn --format nftables -o block.nft",
    ),
    (
        "completions",
        "cordon completions bash > /etc/bash_completion.d/cordon\n\
         cordon completions zsh > \"${fpath[1]}/_cordon\"\n\
         cordon completions fish > ~/.config/fish/completions/cordon.fish",
    ),
];

/// The command line with every example attached to its subcommand's `--help`.
pub fn command() -> Command {
    let mut cmd = Cli::command();
    for (path, examples) in EXAMPLES {
        let words: Vec<&str> = path.split(' ').collect();
        cmd = with_example(cmd, &words, examples);
    }
    cmd
}

fn with_example(cmd: Command, path: &[&str], examples: &str) -> Command {
    match path {
        [] => {
            let heading = if examples.lines().count() > 1 {
                "Examples"
            } else {
                "Example"
            };
            let body: Vec<String> = examples.lines().map(|l| format!("  {}", l.trim())).collect();
            cmd.after_help(format!("{heading}:\n{}", body.join("\n")))
        }
        [first, rest @ ..] => cmd.mut_subcommand(*first, |sub| with_example(sub, rest, examples)),
    }
}

/// Parses the process's arguments with the examples in place (clap prints help and errors and
/// exits, as `Cli::parse` does).
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every leaf subcommand's path (`incident member add`).
    fn leaves(cmd: &Command, prefix: &str, out: &mut Vec<String>) {
        let subs: Vec<&Command> = cmd.get_subcommands().filter(|s| s.get_name() != "help").collect();
        if subs.is_empty() {
            out.push(prefix.trim().to_owned());
        }
        for s in subs {
            leaves(s, &format!("{prefix} {}", s.get_name()), out);
        }
    }

    /// An example's words as a shell would split them (double and single quotes), up to a
    /// redirection.
    fn words(line: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut word = String::new();
        let mut quote = None;
        let mut in_word = false;
        for c in line.chars() {
            match (quote, c) {
                (None, '"' | '\'') => {
                    quote = Some(c);
                    in_word = true;
                }
                (Some(q), c) if c == q => quote = None,
                (None, '>') => break,
                (None, c) if c.is_whitespace() => {
                    if in_word {
                        out.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                }
                (_, c) => {
                    word.push(c);
                    in_word = true;
                }
            }
        }
        if in_word {
            out.push(word);
        }
        out
    }

    #[test]
    fn every_subcommand_has_an_example() {
        let mut all = Vec::new();
        leaves(&Cli::command(), "", &mut all);
        let documented: Vec<&str> = EXAMPLES.iter().map(|(p, _)| *p).collect();
        let missing: Vec<&String> = all.iter().filter(|p| !documented.contains(&p.as_str())).collect();
        assert!(
            missing.is_empty(),
            "subcommands without an example in EXAMPLES: {missing:?}"
        );
        let stale: Vec<&&str> = documented.iter().filter(|p| !all.iter().any(|a| a == *p)).collect();
        assert!(
            stale.is_empty(),
            "EXAMPLES names subcommands that do not exist: {stale:?}"
        );
    }

    #[test]
    fn every_example_parses_as_the_subcommand_it_documents() {
        for (path, examples) in EXAMPLES {
            for line in examples.lines() {
                let argv = words(line.trim());
                assert_eq!(argv.first().map(String::as_str), Some("cordon"), "{line}");
                let expected: Vec<&str> = path.split(' ').collect();
                assert_eq!(&argv[1..=expected.len()], expected.as_slice(), "{line}");
                if let Err(e) = command().try_get_matches_from(&argv) {
                    panic!("example `{line}` does not parse:\n{e}");
                }
            }
        }
    }

    #[test]
    fn help_shows_the_examples_and_the_allowed_values() {
        let mut cmd = command();
        let help = cmd
            .find_subcommand_mut("incident")
            .and_then(|c| c.find_subcommand_mut("update"))
            .expect("incident update")
            .render_long_help()
            .to_string();
        assert!(
            help.contains("Examples:\n  cordon incident update sapphire-unicorn --severity SEV-1"),
            "{help}"
        );
        assert!(help.contains("SEV-1") && help.contains("SEV-5"), "{help}");
        assert!(help.contains("not_an_incident"), "{help}");
    }
}
