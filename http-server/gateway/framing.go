package gateway

import "bytes"

// Message framing (RFC 9112 §6): how a request's body ends decides where
// the next request on the connection begins, so any doubt about it is a
// way to smuggle a request past whatever sits in front of the gateway.
// Hertz is lenient here: it reads a body as chunked whenever
// Transfer-Encoding is anything but "identity" (even beside a
// Content-Length, or "xchunked"), and the last of several Content-Lengths
// wins. It keeps the request's header block as received, though, so
// checkFraming reads the framing headers from there and the middleware
// refuses the request before any handler runs, closing the connection so
// that nothing after it is read as a request.

// checkFraming returns invalid_argument when the framing headers of a
// request are ambiguous: Transfer-Encoding beside Content-Length, a
// Transfer-Encoding other than exactly "chunked" (or any, before
// HTTP/1.1), or Content-Length values that differ or are not plain
// decimal numbers. rawHeaders is the header block as received (without
// the request line), in which a line beginning with a space or tab
// continues the one before it (obsolete line folding).
func checkFraming(rawHeaders []byte, http11 bool) error {
	var (
		lengths, codings []byte // every value, comma-joined
		sawLength, sawTE bool
		current          []byte // the name of the header the last line belonged to
	)
	for rest := rawHeaders; len(rest) > 0; {
		line, next, _ := bytes.Cut(rest, []byte("\n"))
		rest = next
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			switch {
			case current == nil:
			case bytes.EqualFold(current, []byte("Content-Length")):
				lengths = append(append(lengths, ' '), line...)
			case bytes.EqualFold(current, []byte("Transfer-Encoding")):
				codings = append(append(codings, ' '), line...)
			}
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			current = nil
			continue
		}
		current = name
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			sawLength = true
			lengths = appendListValue(lengths, value)
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			sawTE = true
			codings = appendListValue(codings, value)
		}
	}
	switch {
	case sawTE && sawLength:
		return invalidf("a request must not carry both Transfer-Encoding and Content-Length")
	case sawTE && !http11:
		return invalidf("Transfer-Encoding is only allowed in HTTP/1.1 requests")
	case sawTE && !isExactlyChunked(codings):
		return invalidf("the only Transfer-Encoding accepted is chunked")
	case sawLength && !isOneLength(lengths):
		return invalidf("Content-Length must be one decimal number")
	}
	return nil
}

// appendListValue appends one header line's value to the comma-separated
// list of the values seen before it (RFC 9110 §5.3).
// The first value is used in place, capped so that appending to it copies
// rather than writing over the header block.
func appendListValue(list, value []byte) []byte {
	if list == nil {
		return value[:len(value):len(value)]
	}
	return append(append(list, ','), value...)
}

// isExactlyChunked reports whether the list of transfer codings is the
// single coding "chunked" (case-insensitive, RFC 9112 §7).
func isExactlyChunked(codings []byte) bool {
	return bytes.EqualFold(bytes.Trim(codings, " \t"), []byte("chunked"))
}

// isOneLength reports whether every element of the Content-Length list is
// the same string of decimal digits.
func isOneLength(lengths []byte) bool {
	var first []byte
	for rest, more := lengths, true; more; {
		var element []byte
		element, rest, more = bytes.Cut(rest, []byte(","))
		element = bytes.Trim(element, " \t")
		if len(element) == 0 || len(element) > 18 {
			return false
		}
		for _, b := range element {
			if b < '0' || b > '9' {
				return false
			}
		}
		if first == nil {
			first = element
		} else if !bytes.Equal(element, first) {
			return false
		}
	}
	return true
}
