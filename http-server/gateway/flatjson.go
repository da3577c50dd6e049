package gateway

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// The JSON bodies of sends and pulls are small flat objects, and proto3
// JSON decoding (protojson, through the messages' reflection) cost 4 µs
// of a pull's ~45 µs in the gateway. The decoders below read the plain
// shape clients send, every key a known field's name once, each string
// without escapes, each integer in plain decimal, each bool a literal,
// and report false for anything else, which protojson then accepts or
// refuses as proto3 JSON does. They take a shortcut and never decide
// differently: FuzzFlatJSON checks every body they accept against
// protojson.

// flatValue is one value of a flat object: a string's bytes between its
// quotes, a number, or a literal.
type flatValue struct {
	kind byte // '"' string, '0' number, 't' true, 'f' false
	raw  []byte
}

// str is v as a string: false unless it is one.
func (v flatValue) str() (string, bool) { return string(v.raw), v.kind == '"' }

// int is v as an integer of bits bits: false unless it is one in range.
func (v flatValue) int(bits int) (int64, bool) {
	if v.kind != '0' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v.raw), 10, bits)
	return n, err == nil
}

// bool is v as a bool: false unless it is a literal.
func (v flatValue) bool() (b, ok bool) { return v.kind == 't', v.kind == 't' || v.kind == 'f' }

// scanFlat calls visit with each key and value of body, a JSON object of
// plain strings, integers and bools, and reports whether body is one and
// every visit returned true.
func scanFlat(body []byte, visit func(key []byte, v flatValue) bool) bool {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return skipSpace(body, i+1) == len(body)
	}
	for {
		key, next, ok := plainString(body, i)
		if !ok {
			return false
		}
		i = skipSpace(body, next)
		if i >= len(body) || body[i] != ':' {
			return false
		}
		i = skipSpace(body, i+1)
		var v flatValue
		if v, i, ok = plainValue(body, i); !ok || !visit(key, v) {
			return false
		}
		i = skipSpace(body, i)
		if i >= len(body) {
			return false
		}
		switch body[i] {
		case ',':
			i = skipSpace(body, i+1)
		case '}':
			return skipSpace(body, i+1) == len(body)
		default:
			return false
		}
	}
}

// skipSpace is the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads the string at b[i] that needs no unescaping: valid
// UTF-8 without backslashes or control characters. It returns its bytes
// and the index after its closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s := b[i+1 : j]
			return s, j + 1, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// plainValue reads the value at b[i]: a plain string, an integer in
// plain decimal (no sign on zero, no leading zeros, no fraction or
// exponent), true or false.
func plainValue(b []byte, i int) (flatValue, int, bool) {
	if i >= len(b) {
		return flatValue{}, 0, false
	}
	switch c := b[i]; {
	case c == '"':
		s, next, ok := plainString(b, i)
		return flatValue{kind: '"', raw: s}, next, ok
	case c == 't' || c == 'f':
		word := "true"
		if c == 'f' {
			word = "false"
		}
		end := i + len(word)
		if end > len(b) || string(b[i:end]) != word {
			return flatValue{}, 0, false
		}
		return flatValue{kind: c}, end, true
	case c == '-' || c >= '0' && c <= '9':
		j := i
		if c == '-' {
			j++
		}
		digits := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		n := j - digits
		if n == 0 || b[digits] == '0' && (n > 1 || c == '-') {
			return flatValue{}, 0, false
		}
		if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
			return flatValue{}, 0, false
		}
		return flatValue{kind: '0', raw: b[i:j]}, j, true
	}
	return flatValue{}, 0, false
}

// decodeFlat runs scanFlat on body with field, which sets the field
// named key from v and returns its bit, or false when key names no field
// or v is not of its type. A field met twice (under either of its names)
// is protojson's to refuse.
func decodeFlat(body []byte, field func(key []byte, v flatValue) (bit uint8, ok bool)) bool {
	var seen uint8
	return scanFlat(body, func(key []byte, v flatValue) bool {
		bit, ok := field(key, v)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// flatSend decodes a send's JSON body of the plain shape (see above).
func flatSend(body []byte) (req pigeonhole.SendRequest, ok bool) {
	ok = decodeFlat(body, func(key []byte, v flatValue) (uint8, bool) {
		var ok bool
		switch string(key) {
		case "chat":
			req.Chat, ok = v.str()
			return 1, ok
		case "text":
			req.Text, ok = v.str()
			return 2, ok
		case "sender":
			req.Sender, ok = v.str()
			return 4, ok
		case "client_msg_id", "clientMsgId":
			req.ClientMsgID, ok = v.str()
			return 8, ok
		}
		return 0, false
	})
	return req, ok
}

// flatPull decodes a pull's JSON body of the plain shape (see above).
func flatPull(body []byte) (req pigeonhole.PullRequest, ok bool) {
	ok = decodeFlat(body, func(key []byte, v flatValue) (uint8, bool) {
		var n int64
		var ok bool
		switch string(key) {
		case "chat":
			req.Chat, ok = v.str()
			return 1, ok
		case "cursor":
			req.Cursor, ok = v.int(64)
			return 2, ok
		case "limit":
			n, ok = v.int(32)
			req.Limit = int32(n)
			return 4, ok
		case "reverse":
			req.Reverse, ok = v.bool()
			return 8, ok
		case "wait_ms", "waitMs":
			n, ok = v.int(32)
			req.Wait = time.Duration(n) * time.Millisecond
			return 16, ok
		}
		return 0, false
	})
	return req, ok
}
