//! The Matrix bot end to end against a real Synapse on loopback: login and whoami, join on
//! invite, `!ic page` from a human read by `next_commands`, the reply seen by the human's
//! `/sync`, and Matrix errors mapped to permanent failures.
//!
//! One Synapse per test binary: everything runs in one test, in steps.

mod support;

use std::time::{Duration, Instant};

use cordon_channels::matrix::{MatrixBot, MatrixClient, RoomMessage};
use cordon_channels::{BotCommand, ChannelError, Command, HttpTransport, OutboundPolicy, Timeouts};
use support::synapse::Synapse;

const BOT_PASSWORD: &str = "bot-pass-1";
const ALICE_PASSWORD: &str = "alice-pass-1";

/// Calls `next_commands` until `want` commands arrived or `limit` passed.
async fn commands(bot: &mut MatrixBot, want: usize, limit: Duration) -> Vec<BotCommand> {
    let started = Instant::now();
    let mut got = Vec::new();
    while got.len() < want && started.elapsed() < limit {
        got.extend(bot.next_commands().await.expect("bot sync"));
    }
    got
}

/// Syncs as `client` until a message from `sender` arrives; returns it.
async fn message_from(client: &MatrixClient, since: &mut String, sender: &str, limit: Duration) -> RoomMessage {
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < limit, "no message from {sender}");
        let batch = client.sync(Some(since), Duration::from_secs(2)).await.expect("sync");
        *since = batch.next_batch;
        if let Some(m) = batch.messages.into_iter().find(|m| m.sender == sender) {
            return m;
        }
    }
}

#[tokio::test]
async fn matrix_bot_end_to_end_against_synapse() {
    let started = Instant::now();
    let synapse = Synapse::start().await;
    tokio::join!(
        synapse.register("irbot", BOT_PASSWORD),
        synapse.register("alice", ALICE_PASSWORD),
    );
    let boot = started.elapsed();
    let hs = synapse.base_url.as_str();
    let http = HttpTransport::new(Timeouts::default(), OutboundPolicy::allowing(["127.0.0.0/8"]).unwrap()).unwrap();

    // Login, whoami, token reuse, a wrong password.
    let bot_client = MatrixClient::login_password(&http, hs, "irbot", BOT_PASSWORD, "Cordon")
        .await
        .expect("bot login");
    assert_eq!(bot_client.user_id(), "@irbot:localhost");
    let me = bot_client.whoami().await.unwrap();
    assert_eq!(me.user_id, "@irbot:localhost");
    assert_eq!(me.device_id.as_deref(), bot_client.device_id());

    let alice = MatrixClient::login_password(&http, hs, "@alice:localhost", ALICE_PASSWORD, "web")
        .await
        .expect("alice login");
    let alice = MatrixClient::with_access_token(&http, hs, alice.access_token())
        .await
        .expect("token login");
    assert_eq!(alice.user_id(), "@alice:localhost");

    let err = MatrixClient::login_password(&http, hs, "alice", "wrong", "x")
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "{err}");
    assert_eq!(err.delivery().unwrap().code.as_deref(), Some("M_FORBIDDEN"));
    let err = MatrixClient::with_access_token(&http, hs, "syt_not_a_token")
        .await
        .unwrap_err();
    assert_eq!(err.delivery().unwrap().code.as_deref(), Some("M_UNKNOWN_TOKEN"));

    // The bot starts: the first call is the initial sync and yields nothing.
    let mut bot = MatrixBot::new(bot_client).with_poll_timeout(Duration::from_secs(2));
    assert!(bot.next_commands().await.unwrap().is_empty());
    assert!(bot.since().is_some());
    let mut alice_since = alice.sync(None, Duration::ZERO).await.unwrap().next_batch;

    // Alice opens a war room, invites the bot, and types before it arrives.
    let room = alice
        .create_room(Some("war room"), &["@irbot:localhost"])
        .await
        .expect("create room");
    alice.send_text(&room, "!status", None).await.unwrap();

    // The bot joins on invite.
    let join_started = Instant::now();
    while !bot.client().joined_rooms().await.unwrap().contains(&room) {
        assert!(join_started.elapsed() < Duration::from_secs(20), "bot did not join");
        assert!(bot.next_commands().await.unwrap().is_empty());
    }

    // Alice pages; the bot reads the commands, not the chatter nor the earlier `!status`.
    alice.send_text(&room, "is anyone there?", None).await.unwrap();
    let page_event = alice.send_text(&room, "!ic page", None).await.unwrap();
    alice.send_text(&room, "!IC   Page   Bob\nplease", None).await.unwrap();
    alice.send_text(&room, "!dance", None).await.unwrap();
    let got = commands(&mut bot, 3, Duration::from_secs(20)).await;
    let summary: Vec<_> = got.iter().map(|c| c.command.clone()).collect();
    assert_eq!(got.len(), 3, "{summary:?}");
    assert_eq!(got[0].room_id, room);
    assert_eq!(got[0].sender, "@alice:localhost");
    assert_eq!(got[0].event_id, page_event);
    assert_eq!(got[0].body, "!ic page");
    assert_eq!(got[0].command, Command::PageCommander);
    assert_eq!(got[1].command, Command::PageUser { user: "Bob".into() });
    assert!(matches!(got[2].command, Command::Unknown { .. }));

    // The bot replies; Alice's /sync sees it. A reply that looks like a command is not read
    // back by the bot.
    let reply = "Paging the on-call incident commander for Sapphire Unicorn.";
    bot.reply(&room, reply).await.expect("reply");
    let seen = message_from(&alice, &mut alice_since, "@irbot:localhost", Duration::from_secs(20)).await;
    assert_eq!((seen.room_id.as_str(), seen.body.as_str()), (room.as_str(), reply));
    assert_eq!(seen.msgtype, "m.text");

    let unknown_reply = got[2].command.reply_text().unwrap();
    bot.reply_formatted(&room, &unknown_reply, "<b>!dance</b> is not a command")
        .await
        .unwrap();
    let seen = message_from(&alice, &mut alice_since, "@irbot:localhost", Duration::from_secs(20)).await;
    assert_eq!(seen.body, unknown_reply);
    assert_eq!(seen.formatted_body.as_deref(), Some("<b>!dance</b> is not a command"));
    bot.reply(&room, "!ic page").await.unwrap();
    alice.send_text(&room, "!ack", None).await.unwrap();
    let got = commands(&mut bot, 1, Duration::from_secs(20)).await;
    let summary: Vec<_> = got.iter().map(|c| (&c.sender, &c.body)).collect();
    assert_eq!(got.len(), 1, "the bot read its own message: {summary:?}");
    assert_eq!(
        (got[0].sender.as_str(), &got[0].command),
        ("@alice:localhost", &Command::Ack)
    );

    // Speaking in a room the bot is not in is a permanent failure.
    let private = alice.create_room(None, &[]).await.unwrap();
    let err = bot.reply(&private, "hello").await.unwrap_err();
    assert!(matches!(err, ChannelError::Permanent(_)), "{err}");
    assert_eq!(err.delivery().unwrap().code.as_deref(), Some("M_FORBIDDEN"));

    eprintln!("synapse boot + 2 users: {boot:?}; whole test: {:?}", started.elapsed());
}
