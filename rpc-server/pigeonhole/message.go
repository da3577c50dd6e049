package pigeonhole

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// Message is one stored message.
type Message struct {
	Chat   ChatID
	Sender string
	Text   string
	// SendTime is microseconds since the Unix epoch, assigned by the store.
	// Within a chat it is unique and strictly increasing in commit order, so
	// it is also the message's position and the pull cursor.
	SendTime int64
	// ClientMsgID is the optional idempotency key chosen by the client,
	// scoped to (Chat, Sender).
	ClientMsgID string
}

// MaxClientMsgIDBytes is the longest client_msg_id, in bytes.
const MaxClientMsgIDBytes = 64

// DefaultMaxTextBytes is the default limit on a message's text.
const DefaultMaxTextBytes = 64 << 10

// NextSendTime is the send-time rule: max(now, previous+1) in microseconds.
// It keeps a chat strictly increasing when many messages share a
// microsecond and when the clock steps backwards.
func NextSendTime(now time.Time, previous int64) int64 {
	t := now.UnixMicro()
	if t <= previous {
		return previous + 1
	}
	return t
}

// validateText checks a message text against the limit (in bytes).
func validateText(text string, maxBytes int) error {
	switch {
	case text == "":
		return Errorf(CodeInvalidArgument, "text is required")
	case len(text) > maxBytes:
		return Errorf(CodeTooLarge, "text is %d bytes, more than the limit of %d", len(text), maxBytes)
	case !utf8.ValidString(text):
		return Errorf(CodeInvalidArgument, "text is not valid UTF-8")
	}
	return nil
}

// validateClientMsgID checks an optional idempotency key: empty, or 1–64
// bytes of valid UTF-8 with no whitespace or control characters.
func validateClientMsgID(id string) error {
	if id == "" {
		return nil
	}
	if len(id) > MaxClientMsgIDBytes {
		return Errorf(CodeInvalidArgument, "client_msg_id is longer than %d bytes", MaxClientMsgIDBytes)
	}
	if !utf8.ValidString(id) {
		return Errorf(CodeInvalidArgument, "client_msg_id is not valid UTF-8")
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsGraphic(r) {
			return Errorf(CodeInvalidArgument, "client_msg_id %s contains %q, which is not allowed", Quote(id), r)
		}
	}
	return nil
}
