//! Reading a Matrix `/sync` response: the invites addressed to us and the text messages of
//! joined rooms. Pure, so it is tested on recorded JSON; tolerant, so an odd event is
//! skipped rather than failing the batch.

use serde_json::Value;

/// What one `/sync` call returned that a bot acts on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncBatch {
    /// The `since` token for the next call.
    pub next_batch: String,
    /// Rooms we are invited to.
    pub invites: Vec<Invite>,
    /// `m.room.message` events with a text body, from joined rooms, in timeline order,
    /// excluding our own and excluding edits (`m.replace`). In a room we joined during this
    /// batch only the messages after our join are kept, so history typed before the bot
    /// arrived is not replayed as commands.
    pub messages: Vec<RoomMessage>,
}

/// An invitation to a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub room_id: String,
    /// Who invited us, when the invite state says so.
    pub inviter: Option<String>,
}

/// A text message in a joined room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMessage {
    pub room_id: String,
    pub event_id: String,
    pub sender: String,
    /// `m.text`, `m.notice`, `m.emote`.
    pub msgtype: String,
    pub body: String,
    /// The HTML body, when sent with `format: org.matrix.custom.html`.
    pub formatted_body: Option<String>,
}

/// Text message types that are read; others (images, files, encrypted events) are not.
const TEXT_MSGTYPES: [&str; 3] = ["m.text", "m.notice", "m.emote"];

/// Extracts invites and messages for `own_user_id` from a `/sync` response body.
/// Returns `None` only when `next_batch` is missing (not a sync response).
pub fn parse_sync(response: &Value, own_user_id: &str) -> Option<SyncBatch> {
    let next_batch = response.get("next_batch")?.as_str()?.to_owned();
    let rooms = response.get("rooms");
    let section = |name: &str| {
        rooms
            .and_then(|r| r.get(name))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
    };

    let mut invites = Vec::new();
    for (room_id, room) in section("invite") {
        let inviter = events(room, "invite_state")
            .find(|e| {
                str_at(e, &["type"]) == Some("m.room.member")
                    && str_at(e, &["state_key"]) == Some(own_user_id)
                    && str_at(e, &["content", "membership"]) == Some("invite")
            })
            .and_then(|e| str_at(e, &["sender"]))
            .map(str::to_owned);
        invites.push(Invite {
            room_id: room_id.clone(),
            inviter,
        });
    }

    let mut messages = Vec::new();
    for (room_id, room) in section("join") {
        let timeline: Vec<&Value> = events(room, "timeline").collect();
        let start = timeline
            .iter()
            .rposition(|e| is_own_join(e, own_user_id))
            .map_or(0, |i| i + 1);
        for event in &timeline[start..] {
            if let Some(message) = text_message(room_id, event, own_user_id) {
                messages.push(message);
            }
        }
    }

    Some(SyncBatch {
        next_batch,
        invites,
        messages,
    })
}

fn events<'v>(room: &'v Value, section: &str) -> impl Iterator<Item = &'v Value> {
    room.get(section)
        .and_then(|s| s.get("events"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn str_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(value, |v, key| v.get(key)).and_then(Value::as_str)
}

/// Our membership becoming `join` (not a profile change while already joined).
fn is_own_join(event: &Value, own_user_id: &str) -> bool {
    str_at(event, &["type"]) == Some("m.room.member")
        && str_at(event, &["state_key"]) == Some(own_user_id)
        && str_at(event, &["content", "membership"]) == Some("join")
        && str_at(event, &["unsigned", "prev_content", "membership"]) != Some("join")
}

fn text_message(room_id: &str, event: &Value, own_user_id: &str) -> Option<RoomMessage> {
    if str_at(event, &["type"]) != Some("m.room.message") {
        return None;
    }
    let sender = str_at(event, &["sender"])?;
    if sender == own_user_id {
        return None;
    }
    let msgtype = str_at(event, &["content", "msgtype"])?;
    if !TEXT_MSGTYPES.contains(&msgtype) {
        return None;
    }
    if str_at(event, &["content", "m.relates_to", "rel_type"]) == Some("m.replace") {
        return None;
    }
    let formatted_body = (str_at(event, &["content", "format"]) == Some("org.matrix.custom.html"))
        .then(|| str_at(event, &["content", "formatted_body"]))
        .flatten()
        .map(str::to_owned);
    Some(RoomMessage {
        room_id: room_id.to_owned(),
        event_id: str_at(event, &["event_id"])?.to_owned(),
        sender: sender.to_owned(),
        msgtype: msgtype.to_owned(),
        body: str_at(event, &["content", "body"])?.to_owned(),
        formatted_body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BOT: &str = "@irbot:localhost";

    fn msg(id: &str, sender: &str, body: &str) -> Value {
        json!({"type":"m.room.message","event_id":id,"sender":sender,
               "content":{"msgtype":"m.text","body":body}})
    }

    #[test]
    fn invites_and_messages() {
        let response = json!({
            "next_batch": "s72595_4483_1934",
            "rooms": {
                "invite": {
                    "!new:localhost": {"invite_state": {"events": [
                        {"type":"m.room.name","sender":"@alice:localhost","state_key":"","content":{"name":"war room"}},
                        {"type":"m.room.member","sender":"@alice:localhost","state_key":BOT,"content":{"membership":"invite"}}
                    ]}}
                },
                "join": {
                    "!war:localhost": {"timeline": {"events": [
                        msg("$1", "@alice:localhost", "!ic page"),
                        msg("$2", BOT, "Paging the incident commander"),
                        {"type":"m.room.message","event_id":"$3","sender":"@bob:localhost",
                         "content":{"msgtype":"m.text","body":"* !ack","m.new_content":{"msgtype":"m.text","body":"!ack"},
                                    "m.relates_to":{"rel_type":"m.replace","event_id":"$1"}}},
                        {"type":"m.room.message","event_id":"$4","sender":"@bob:localhost",
                         "content":{"msgtype":"m.image","body":"cat.png"}},
                        {"type":"m.room.encrypted","event_id":"$5","sender":"@bob:localhost","content":{}},
                        {"type":"m.room.message","event_id":"$6","sender":"@bob:localhost",
                         "content":{"msgtype":"m.text","body":"!status","format":"org.matrix.custom.html",
                                    "formatted_body":"<b>!status</b>"}},
                        {"type":"m.room.message","event_id":"$7","sender":"@bob:localhost","content":{}}
                    ]}}
                }
            }
        });
        let batch = parse_sync(&response, BOT).unwrap();
        assert_eq!(batch.next_batch, "s72595_4483_1934");
        assert_eq!(
            batch.invites,
            [Invite {
                room_id: "!new:localhost".into(),
                inviter: Some("@alice:localhost".into())
            }]
        );
        let ids: Vec<_> = batch.messages.iter().map(|m| m.event_id.as_str()).collect();
        assert_eq!(ids, ["$1", "$6"]);
        assert_eq!(batch.messages[0].room_id, "!war:localhost");
        assert_eq!(batch.messages[0].sender, "@alice:localhost");
        assert_eq!(batch.messages[1].formatted_body.as_deref(), Some("<b>!status</b>"));
    }

    #[test]
    fn history_before_our_join_is_skipped() {
        let join = json!({"type":"m.room.member","event_id":"$j","sender":BOT,"state_key":BOT,
                          "content":{"membership":"join"},
                          "unsigned":{"prev_content":{"membership":"invite"}}});
        let rename = json!({"type":"m.room.member","event_id":"$r","sender":BOT,"state_key":BOT,
                            "content":{"membership":"join","displayname":"Cordon"},
                            "unsigned":{"prev_content":{"membership":"join"}}});
        let response = json!({"next_batch":"n","rooms":{"join":{"!r:localhost":{"timeline":{"events":[
            msg("$old", "@alice:localhost", "!ic page"),
            join,
            msg("$new", "@alice:localhost", "!ack"),
            rename,
            msg("$newer", "@alice:localhost", "!status"),
        ]}}}}});
        let batch = parse_sync(&response, BOT).unwrap();
        let ids: Vec<_> = batch.messages.iter().map(|m| m.event_id.as_str()).collect();
        assert_eq!(ids, ["$new", "$newer"]);
    }

    #[test]
    fn odd_responses_do_not_fail() {
        assert_eq!(parse_sync(&json!({}), BOT), None);
        assert_eq!(
            parse_sync(&json!({"next_batch":"x","rooms":{"join":[],"invite":7}}), BOT),
            Some(SyncBatch {
                next_batch: "x".into(),
                ..Default::default()
            })
        );
        let batch = parse_sync(
            &json!({"next_batch":"x","rooms":{"join":{"!a:b":{"timeline":{"events":[1,"x",null,{}]}}},
                    "invite":{"!c:d":{}}}}),
            BOT,
        )
        .unwrap();
        assert!(batch.messages.is_empty());
        assert_eq!(batch.invites[0].inviter, None);
    }
}
