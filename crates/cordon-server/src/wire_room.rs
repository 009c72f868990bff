//! The war-room conversation and the change streams as the API's bodies.

use cordon_api::room::{ChangeOut, MessageOut, PostedOut};
use cordon_service::feed::Change;
use cordon_service::room::{MessageView, Posted};

use crate::wire::{FromService, IntoWire};

impl FromService<MessageView> for MessageOut {
    fn from_service(m: MessageView) -> Self {
        Self {
            id: m.id,
            seq: m.seq,
            incident: m.incident_id,
            from_cordon: m.author.is_none(),
            author: m.author,
            kind: m.kind.as_str().to_owned(),
            body: m.body,
            reply_to: m.reply_to,
            created_at: m.created_at,
        }
    }
}

impl FromService<Posted> for PostedOut {
    fn from_service(p: Posted) -> Self {
        Self {
            message: p.message.into_wire(),
            reply: p.reply.map(IntoWire::into_wire),
        }
    }
}

impl FromService<&Change> for ChangeOut {
    fn from_service(c: &Change) -> Self {
        Self {
            incident: c.incident,
            seq: c.seq,
            kind: c.kind.to_owned(),
        }
    }
}
