//! Auth-log semantics for syslog and journald messages: sshd logons and failures, sudo
//! commands, su, account and group changes, PAM sessions and failures, logind sessions and
//! cron commands. Fills kind, action, outcome, user/target user, source IP/port and command.

use super::super::event::{Event, EventKind, Outcome};
use crate::scan::{find, kv, parse_ip, parse_u16, token};

/// Applies the semantics of `program`'s `message` to `ev`.
pub(crate) fn enrich(ev: &mut Event, program: &str, message: &str) {
    let msg = strip_repeated(message.trim_start());
    match program {
        "sshd" | "sshd-session" | "sshd-auth" => sshd(ev, msg),
        "sudo" => sudo(ev, msg),
        "su" => su(ev, msg),
        "useradd" | "groupadd" | "userdel" | "groupdel" | "usermod" | "groupmod" | "passwd" | "chpasswd"
        | "gpasswd" | "chage" => account(ev, msg),
        "systemd-logind" => logind(ev, msg),
        "CRON" | "cron" | "crond" => cron(ev, msg),
        _ => {}
    }
    if ev.kind == EventKind::Other || ev.kind == EventKind::Ssh {
        pam(ev, msg);
    }
}

/// `message repeated 3 times: [ Failed password for root …]` → the repeated message.
fn strip_repeated(msg: &str) -> &str {
    if let Some(rest) = msg.strip_prefix("message repeated ")
        && let Some(p) = find(rest, "times: [")
    {
        let inner = &rest[p + 8..];
        return inner.strip_suffix(']').unwrap_or(inner).trim();
    }
    msg
}

fn set_user(ev: &mut Event, user: &str) {
    let u = user.trim();
    if !u.is_empty() {
        ev.user = Some(u.to_string());
    }
}

/// `IP port N …` → source address and port; returns what follows.
fn addr_port<'a>(ev: &mut Event, s: &'a str) -> &'a str {
    let (ip, rest) = token(s);
    let ip = ip.trim_end_matches([':', ',']);
    if let Some(ip) = parse_ip(ip) {
        ev.src_ip = Some(ip);
    }
    if let Some(r) = rest.strip_prefix("port ") {
        let (p, rest) = token(r);
        ev.src_port = parse_u16(p.trim_end_matches([':', ',']));
        return rest;
    }
    rest
}

/// `[invalid user ]USER from IP port N …` → user, address; returns what follows.
fn user_from<'a>(ev: &mut Event, s: &'a str) -> &'a str {
    let s = s
        .strip_prefix("invalid user ")
        .or_else(|| s.strip_prefix("illegal user "))
        .or_else(|| s.strip_prefix("authenticating user "))
        .or_else(|| s.strip_prefix("user "))
        .unwrap_or(s);
    match s.rfind(" from ") {
        Some(p) => {
            set_user(ev, &s[..p]);
            addr_port(ev, &s[p + 6..])
        }
        None => "",
    }
}

fn login(ev: &mut Event, outcome: Outcome) {
    ev.kind = EventKind::Authentication;
    ev.action = Some("ssh_login".into());
    ev.outcome = outcome;
}

fn sshd(ev: &mut Event, msg: &str) {
    ev.kind = EventKind::Ssh;
    if let Some(rest) = msg.strip_prefix("Accepted ") {
        let (method, rest) = token(rest);
        if let Some(rest) = rest.strip_prefix("for ") {
            login(ev, Outcome::Success);
            ev.push_attribute("ssh_method", method);
            let tail = user_from(ev, rest);
            if let Some(sig) = tail.strip_prefix("ssh2: ") {
                ev.push_attribute("ssh_signature", sig);
            }
        }
    } else if let Some(rest) = msg.strip_prefix("Failed ") {
        let (method, rest) = token(rest);
        if let Some(rest) = rest.strip_prefix("for ") {
            login(ev, Outcome::Failure);
            ev.push_attribute("ssh_method", method);
            user_from(ev, rest);
        }
    } else if let Some(rest) = msg
        .strip_prefix("Invalid user ")
        .or_else(|| msg.strip_prefix("Illegal user "))
    {
        login(ev, Outcome::Failure);
        ev.push_attribute("ssh_event", "invalid_user");
        match rest.rfind("from ") {
            Some(p) => {
                set_user(ev, &rest[..p]);
                addr_port(ev, &rest[p + 5..]);
            }
            None => set_user(ev, rest),
        }
    } else if let Some(rest) = msg.strip_prefix("error: maximum authentication attempts exceeded for ") {
        login(ev, Outcome::Failure);
        user_from(ev, rest);
    } else if let Some(rest) = msg.strip_prefix("User ") {
        // User bob from 1.2.3.4 not allowed because not listed in AllowUsers
        if find(rest, " not allowed").is_some() {
            login(ev, Outcome::Failure);
            user_from(ev, rest);
        }
    } else if let Some(rest) = msg.strip_prefix("Postponed ") {
        let (_, rest) = token(rest);
        if let Some(rest) = rest.strip_prefix("for ") {
            user_from(ev, rest);
        }
    } else if let Some(rest) = msg
        .strip_prefix("Connection closed by ")
        .or_else(|| msg.strip_prefix("Disconnected from "))
        .or_else(|| msg.strip_prefix("Connection reset by "))
        .or_else(|| msg.strip_prefix("Timeout before authentication for "))
    {
        ev.action = Some("ssh_disconnect".into());
        disconnect_tail(ev, rest);
    } else if let Some(rest) = msg.strip_prefix("Received disconnect from ") {
        ev.action = Some("ssh_disconnect".into());
        let ip = rest.split([' ', ':']).next().unwrap_or("");
        ev.src_ip = parse_ip(ip);
        if let Some(p) = find(rest, " port ") {
            ev.src_port = parse_u16(rest[p + 6..].split([' ', ':']).next().unwrap_or(""));
        }
    } else if let Some(rest) = msg.strip_prefix("Did not receive identification string from ") {
        ev.action = Some("ssh_no_identification".into());
        addr_port(ev, rest);
    } else if let Some(rest) = msg.strip_prefix("Connection from ") {
        ev.action = Some("ssh_connect".into());
        let rest = addr_port(ev, rest);
        if let Some(r) = rest.strip_prefix("on ") {
            let (ip, rest) = token(r);
            ev.dst_ip = parse_ip(ip);
            if let Some(p) = rest.strip_prefix("port ") {
                ev.dst_port = parse_u16(token(p).0);
            }
        }
    } else if let Some(p) = find(msg, "rhost=") {
        // PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root
        if find(msg, "authentication failure").is_some() {
            login(ev, Outcome::Failure);
        }
        ev.src_ip = parse_ip(crate::scan::take_value(&msg[p + 6..]));
        if let Some(u) = kv(msg, "user") {
            set_user(ev, u);
        }
    } else if let Some(p) = find(msg, " from ") {
        // Anything else naming a peer, e.g. "reverse mapping checking … [1.2.3.4] failed".
        let ip = msg[p + 6..].split([' ', ',', ':']).next().unwrap_or("");
        ev.src_ip = parse_ip(ip);
    }
}

/// `[authenticating |invalid ]user USER IP port N` or `IP port N`.
fn disconnect_tail(ev: &mut Event, rest: &str) {
    let rest = rest
        .strip_prefix("authenticating user ")
        .or_else(|| rest.strip_prefix("invalid user "))
        .or_else(|| rest.strip_prefix("user "))
        .map(|r| {
            // the user name is followed by the address
            match r.rfind(" port ").and_then(|p| r[..p].rfind(' ')) {
                Some(sp) => {
                    set_user(ev, &r[..sp]);
                    &r[sp + 1..]
                }
                None => r,
            }
        })
        .unwrap_or(rest);
    addr_port(ev, rest);
}

fn sudo(ev: &mut Event, msg: &str) {
    let Some(p) = find(msg, " : ") else { return };
    let user = msg[..p].trim();
    if user.is_empty() || user.contains(' ') {
        return;
    }
    ev.kind = EventKind::Process;
    ev.action = Some("sudo".into());
    set_user(ev, user);
    let rest = &msg[p + 3..];
    if let Some(cont) = rest.strip_prefix("(command continued) ") {
        // sudo splits long command lines over several log lines.
        ev.command_line = Some(cont.to_string());
        ev.push_attribute("continued", "true");
        return;
    }
    let (head, command) = match find(rest, "COMMAND=") {
        Some(c) => (&rest[..c], Some(&rest[c + 8..])),
        None => (rest, None),
    };
    let mut error = None;
    for seg in head.split(';') {
        let seg = seg.trim();
        if seg.is_empty() {
            continue;
        }
        match seg.split_once('=') {
            Some((k, v)) if !k.is_empty() && k.bytes().all(|c| c.is_ascii_uppercase() || c == b'_') => match k {
                "TTY" => ev.push_attribute("tty", v),
                "PWD" => ev.push_attribute("pwd", v),
                "USER" => ev.target_user = Some(v.to_string()),
                "GROUP" => ev.push_attribute("group", v),
                other => ev.push_attribute(other.to_ascii_lowercase(), v),
            },
            _ => error = Some(seg),
        }
    }
    if let Some(c) = command {
        ev.command_line = Some(c.to_string());
    }
    match error {
        Some(e) => {
            ev.outcome = Outcome::Failure;
            ev.push_attribute("error", e);
        }
        None => ev.outcome = Outcome::Success,
    }
}

fn su(ev: &mut Event, msg: &str) {
    let (failed, body) = match msg
        .strip_prefix("FAILED SU ")
        .or_else(|| msg.strip_prefix("FAILED su "))
    {
        Some(b) => (true, b),
        None => (false, msg.strip_prefix("Successful su ").unwrap_or(msg)),
    };
    if let Some(rest) = body.strip_prefix("(to ") {
        // (to root) alice on pts/0
        if let Some((target, rest)) = rest.split_once(") ") {
            ev.target_user = Some(target.to_string());
            let (user, _) = token(rest);
            set_user(ev, user);
        }
    } else if let Some(rest) = body.strip_prefix("for ") {
        // for root by alice
        if let Some((target, user)) = rest.split_once(" by ") {
            ev.target_user = Some(target.trim().to_string());
            set_user(ev, user);
        }
    } else if let Some(rest) = msg.strip_prefix("+ ").or_else(|| msg.strip_prefix("- ")) {
        // + pts/0 alice:root
        let (_, who) = token(rest);
        if let Some((user, target)) = who.split_once(':') {
            set_user(ev, user);
            ev.target_user = Some(target.trim().to_string());
        }
        ev.kind = EventKind::Authentication;
        ev.action = Some("su".into());
        ev.outcome = if msg.starts_with('+') {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        return;
    } else {
        return;
    }
    ev.kind = EventKind::Authentication;
    ev.action = Some("su".into());
    ev.outcome = if failed { Outcome::Failure } else { Outcome::Success };
}

fn account(ev: &mut Event, msg: &str) {
    let action = if let Some(rest) = msg.strip_prefix("new user: ") {
        if let Some(n) = kv(rest, "name") {
            set_user(ev, n);
        }
        for (k, name) in [("UID", "uid"), ("GID", "gid"), ("home", "home"), ("shell", "shell")] {
            if let Some(v) = kv(rest, k) {
                ev.push_attribute(name, v);
            }
        }
        "user_add"
    } else if let Some(rest) = msg
        .strip_prefix("new group: ")
        .or_else(|| find(msg, "group added to ").and_then(|p| msg[p..].split_once(": ").map(|(_, r)| r)))
    {
        if let Some(n) = kv(rest, "name") {
            ev.push_attribute("group", n);
        }
        if let Some(g) = kv(rest, "GID") {
            ev.push_attribute("gid", g);
        }
        "group_add"
    } else if let Some(rest) = msg.strip_prefix("delete user '") {
        set_user(ev, rest.split('\'').next().unwrap_or(""));
        "user_delete"
    } else if let Some(rest) = msg.strip_prefix("add '") {
        // add 'bob' to group 'sudo' / add 'bob' to shadow group 'sudo'
        let mut parts = rest.split('\'');
        set_user(ev, parts.next().unwrap_or(""));
        if let Some(g) = parts.nth(1) {
            ev.push_attribute("group", g);
        }
        "group_member_add"
    } else if let Some(rest) = msg.strip_prefix("change user '") {
        set_user(ev, rest.split('\'').next().unwrap_or(""));
        "user_modify"
    } else if let Some(rest) = msg.strip_prefix("password for '") {
        set_user(ev, rest.split('\'').next().unwrap_or(""));
        "password_change"
    } else {
        return;
    };
    ev.kind = EventKind::Authentication;
    ev.action = Some(action.into());
    ev.outcome = Outcome::Success;
}

fn logind(ev: &mut Event, msg: &str) {
    if let Some(rest) = msg.strip_prefix("New session ")
        && let Some(p) = find(rest, " of user ")
    {
        set_user(ev, rest[p + 9..].trim_end_matches('.'));
        ev.kind = EventKind::Authentication;
        ev.action = Some("session_open".into());
        ev.outcome = Outcome::Success;
    }
}

fn cron(ev: &mut Event, msg: &str) {
    // (root) CMD (command)
    if let Some(rest) = msg.strip_prefix('(')
        && let Some((user, rest)) = rest.split_once(") ")
        && let Some(cmd) = rest.strip_prefix("CMD (")
    {
        set_user(ev, user);
        ev.command_line = Some(cmd.strip_suffix(')').unwrap_or(cmd).to_string());
        ev.kind = EventKind::Process;
        ev.action = Some("cron_command".into());
    }
}

/// `pam_xxx(service:type): …` messages of any program.
fn pam(ev: &mut Event, msg: &str) {
    let Some(p) = find(msg, "pam_") else { return };
    let Some(close) = find(&msg[p..], "): ") else {
        return;
    };
    let text = &msg[p + close + 3..];
    if let Some(rest) = text.strip_prefix("session opened for user ") {
        // user root(uid=0) by vagrant(uid=1000)  |  user alice by (uid=0)
        let (target, by) = match rest.split_once(" by ") {
            Some((t, b)) => (t, Some(b)),
            None => (rest, None),
        };
        let target = strip_uid(target);
        let actor = by.map(strip_uid).filter(|a| !a.is_empty());
        match actor {
            Some(a) if a != target => {
                set_user(ev, a);
                ev.target_user = Some(target.to_string());
            }
            _ => set_user(ev, target),
        }
        ev.kind = EventKind::Authentication;
        ev.action = Some("session_open".into());
        ev.outcome = Outcome::Success;
    } else if let Some(rest) = text.strip_prefix("session closed for user ") {
        set_user(ev, strip_uid(rest));
        ev.kind = EventKind::Authentication;
        ev.action = Some("session_close".into());
    } else if text.starts_with("authentication failure") {
        if let Some(u) = kv(text, "user").filter(|u| !u.is_empty()) {
            set_user(ev, u);
        } else if let Some(u) = kv(text, "ruser").filter(|u| !u.is_empty()) {
            set_user(ev, u);
        }
        if let Some(l) = kv(text, "logname").filter(|l| !l.is_empty()) {
            ev.push_attribute("login_user", l);
        }
        if let Some(h) = kv(text, "rhost").and_then(parse_ip) {
            ev.src_ip = Some(h);
        }
        ev.kind = EventKind::Authentication;
        ev.action = Some("auth_failure".into());
        ev.outcome = Outcome::Failure;
    } else if let Some(rest) = text.strip_prefix("password changed for ") {
        set_user(ev, rest);
        ev.kind = EventKind::Authentication;
        ev.action = Some("password_change".into());
        ev.outcome = Outcome::Success;
    }
}

/// `alice(uid=1000)` → `alice`; `(uid=0)` → ``.
fn strip_uid(s: &str) -> &str {
    let s = s.trim();
    match s.find('(') {
        Some(p) => s[..p].trim(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use crate::{EventKind, Format, Outcome, ParseOptions, parse_all};

    fn one(line: &str) -> crate::Event {
        let out = parse_all(
            format!("{line}\n").as_bytes(),
            &ParseOptions::new("t").year(2017).format(Format::Syslog),
        );
        assert_eq!(out.events.len(), 1, "{:?}", out.diagnostics);
        out.events.into_iter().next().unwrap()
    }

    #[test]
    fn sshd_logins() {
        let e = one(
            "Feb 21 21:54:44 localhost sshd[3402]: Accepted publickey for vagrant from 10.0.2.2 port 63673 ssh2: RSA 39:33:99:e9",
        );
        assert_eq!((e.kind, e.outcome), (EventKind::Authentication, Outcome::Success));
        assert_eq!(e.user.as_deref(), Some("vagrant"));
        assert_eq!(e.src_ip.unwrap().to_string(), "10.0.2.2");
        assert_eq!(e.src_port, Some(63673));
        assert_eq!(e.attribute("ssh_signature"), Some("RSA 39:33:99:e9"));
        let e = one(
            "Feb 20 08:35:22 slave22 sshd[5774]: Failed password for invalid user admin from 116.31.116.24 port 29160 ssh2",
        );
        assert_eq!((e.outcome, e.user.as_deref()), (Outcome::Failure, Some("admin")));
        let e = one("Feb 21 21:56:12 localhost sshd[3430]: Invalid user test from 10.0.2.2");
        assert_eq!((e.outcome, e.user.as_deref()), (Outcome::Failure, Some("test")));
        assert_eq!(e.src_ip.unwrap().to_string(), "10.0.2.2");
        let e = one(
            "Feb 20 08:35:22 h sshd[1]: message repeated 2 times: [ Failed password for root from 1.2.3.4 port 22 ssh2]",
        );
        assert_eq!((e.outcome, e.user.as_deref()), (Outcome::Failure, Some("root")));
        let e =
            one("Feb 20 08:35:22 h sshd[1]: Connection closed by authenticating user root 1.2.3.4 port 5022 [preauth]");
        assert_eq!(
            (e.kind, e.user.as_deref(), e.src_port),
            (EventKind::Ssh, Some("root"), Some(5022))
        );
        let e = one(
            "Feb 22 16:45:26 slave22 sshd[2738]: PAM 4 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=202.109.143.106  user=root",
        );
        assert_eq!((e.outcome, e.user.as_deref()), (Outcome::Failure, Some("root")));
        assert_eq!(e.src_ip.unwrap().to_string(), "202.109.143.106");
    }

    #[test]
    fn sudo_lines() {
        let e = one(
            "Feb 24 00:13:02 precise32 sudo:      tsg : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls",
        );
        assert_eq!((e.kind, e.outcome), (EventKind::Process, Outcome::Failure));
        assert_eq!(
            (e.user.as_deref(), e.target_user.as_deref()),
            (Some("tsg"), Some("root"))
        );
        assert_eq!(e.command_line.as_deref(), Some("/bin/ls"));
        assert_eq!(e.attribute("error"), Some("user NOT in sudoers"));
        assert_eq!(e.attribute("tty"), Some("pts/1"));
        let e = one(
            "Feb  9 21:19:40 precise32 sudo:  vagrant : TTY=pts/0 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/sh -c echo X; LANG=en_US.UTF-8 /usr/bin/python",
        );
        assert_eq!(
            e.command_line.as_deref(),
            Some("/bin/sh -c echo X; LANG=en_US.UTF-8 /usr/bin/python")
        );
        assert_eq!(e.attribute("pwd"), Some("/home/vagrant"));
        let e = one(
            "Feb  9 21:19:40 precise32 sudo: pam_unix(sudo:session): session opened for user root by vagrant(uid=1000)",
        );
        assert_eq!(
            (e.user.as_deref(), e.target_user.as_deref()),
            (Some("vagrant"), Some("root"))
        );
    }

    #[test]
    fn accounts_and_su() {
        let e = one(
            "Feb 22 11:47:05 localhost useradd[6995]: new user: name=apache, UID=48, GID=48, home=/usr/share/httpd, shell=/sbin/nologin",
        );
        assert_eq!(
            (e.action.as_deref(), e.user.as_deref()),
            (Some("user_add"), Some("apache"))
        );
        assert_eq!(e.attribute("shell"), Some("/sbin/nologin"));
        let e = one("Feb 22 11:47:05 localhost groupadd[6991]: new group: name=apache, GID=48");
        assert_eq!(e.action.as_deref(), Some("group_add"));
        let e = one("Feb 22 11:47:05 h su[1]: (to root) alice on pts/0");
        assert_eq!(
            (e.user.as_deref(), e.target_user.as_deref()),
            (Some("alice"), Some("root"))
        );
        let e = one("Feb 22 11:47:05 h CRON[1]: (root) CMD (cd / && run-parts --report /etc/cron.hourly)");
        assert_eq!(
            e.command_line.as_deref(),
            Some("cd / && run-parts --report /etc/cron.hourly")
        );
    }
}
