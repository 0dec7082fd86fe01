//! A response body as a few shared pieces: an introspection answer (tens of megabytes on a
//! large schema, cached per schema) goes out as the cached bytes themselves, not copied into
//! each response.

use bytes::Bytes;

#[derive(Debug, Default)]
pub struct Body {
    pieces: Vec<Bytes>,
    /// The text after the last shared piece, still being written.
    tail: String,
}

impl Body {
    pub fn push_str(&mut self, s: &str) {
        self.tail.push_str(s);
    }

    pub fn push(&mut self, c: char) {
        self.tail.push(c);
    }

    /// Appends `bytes` without copying them.
    pub fn push_shared(&mut self, bytes: &Bytes) {
        if !self.tail.is_empty() {
            self.pieces
                .push(Bytes::from(std::mem::take(&mut self.tail)));
        }
        self.pieces.push(bytes.clone());
    }

    /// The pieces in order, for a streamed HTTP body.
    pub fn into_pieces(mut self) -> Vec<Bytes> {
        if !self.tail.is_empty() {
            self.pieces.push(Bytes::from(self.tail));
        }
        self.pieces
    }

    /// The whole body as one text (WebSocket messages, subscriptions).
    pub fn text(&self) -> String {
        let mut text = String::with_capacity(
            self.pieces.iter().map(Bytes::len).sum::<usize>() + self.tail.len(),
        );
        for p in &self.pieces {
            text.push_str(std::str::from_utf8(p).expect("the body is UTF-8"));
        }
        text.push_str(&self.tail);
        text
    }
}

impl std::fmt::Write for Body {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.tail.push_str(s);
        Ok(())
    }
}
