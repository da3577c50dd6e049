package gateway

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestCheckFraming(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers string
		http10  bool
		ok      bool
	}{
		{"NoBody", "Host: x\r\n\r\n", false, true},
		{"OneLength", "Host: x\r\nContent-Length: 12\r\n\r\n", false, true},
		{"RepeatedEqualLengths", "Content-Length: 12\r\ncontent-length: 12\r\n\r\n", false, true},
		{"Chunked", "Transfer-Encoding: chunked\r\n\r\n", false, true},
		{"ChunkedAnyCase", "transfer-encoding:  Chunked \r\n\r\n", false, true},
		{"LengthAndChunked", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false, false},
		{"ChunkedAndLength", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", false, false},
		{"XChunked", "Transfer-Encoding: xchunked\r\n\r\n", false, false},
		{"IdentityChunked", "Transfer-Encoding: identity, chunked\r\n\r\n", false, false},
		{"ChunkedIdentity", "Transfer-Encoding: chunked, identity\r\n\r\n", false, false},
		{"ChunkedTwice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", false, false},
		{"Identity", "Transfer-Encoding: identity\r\n\r\n", false, false},
		{"EmptyCoding", "Transfer-Encoding:\r\n\r\n", false, false},
		{"FoldedCoding", "Transfer-Encoding: chunked\r\n , gzip\r\n\r\n", false, false},
		{"ChunkedInHTTP10", "Transfer-Encoding: chunked\r\n\r\n", true, false},
		{"ConflictingLengths", "Content-Length: 5\r\nContent-Length: 50\r\n\r\n", false, false},
		{"LengthList", "Content-Length: 5, 6\r\n\r\n", false, false},
		{"SignedLength", "Content-Length: +5\r\n\r\n", false, false},
		{"EmptyLength", "Content-Length: \r\n\r\n", false, false},
		{"HugeLength", "Content-Length: 99999999999999999999\r\n\r\n", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkFraming([]byte(tc.headers), !tc.http10)
			if got := err == nil; got != tc.ok {
				t.Fatalf("checkFraming(%q): got %v, want ok %v", tc.headers, err, tc.ok)
			}
			if err != nil && pigeonhole.ErrorCode(err) != pigeonhole.CodeInvalidArgument {
				t.Fatalf("code: got %q, want invalid_argument", pigeonhole.ErrorCode(err))
			}
		})
	}
}

// FuzzCheckFraming holds checkFraming to two properties: it never panics,
// and a header block it accepts never carries both framing headers nor a
// Transfer-Encoding value other than chunked.
func FuzzCheckFraming(f *testing.F) {
	for _, s := range []string{
		"Content-Length: 5\r\n\r\n", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
		"Transfer-Encoding: chunked\r\n\tidentity\r\n\r\n", "Content-Length: 1\nContent-Length: 01\n\n", ":\r\n \r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, headers []byte) {
		err := checkFraming(headers, true)
		if err != nil {
			var perr *pigeonhole.Error
			if !errors.As(err, &perr) || perr.Code != pigeonhole.CodeInvalidArgument {
				t.Fatalf("error %v is not invalid_argument", err)
			}
			return
		}
		var length, te bool
		for line := range bytes.Lines(headers) {
			name, value, ok := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(":"))
			if !ok || len(name) == 0 || name[0] == ' ' || name[0] == '\t' {
				continue
			}
			switch {
			case bytes.EqualFold(name, []byte("Content-Length")):
				length = true
			case bytes.EqualFold(name, []byte("Transfer-Encoding")):
				te = true
				if !bytes.EqualFold(bytes.Trim(value, " \t"), []byte("chunked")) {
					t.Fatalf("accepted Transfer-Encoding %q", value)
				}
			}
		}
		if length && te {
			t.Fatalf("accepted both Content-Length and Transfer-Encoding in %q", headers)
		}
	})
}
