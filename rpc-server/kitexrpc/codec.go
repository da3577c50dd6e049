package kitexrpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cloudwego/gopkg/protocol/thrift"
	"github.com/cloudwego/kitex/pkg/remote"
	"github.com/cloudwego/kitex/pkg/remote/codec"
	"github.com/cloudwego/kitex/pkg/remote/codec/perrors"
)

// boundedCodec is Kitex's default server codec with every request bounded
// to max bytes. The default codec checks the length a Framed or TTHeader
// frame announces; a Buffered request (plain binary Thrift, as the
// original assignment's gateway sends) announces none, and Kitex reads
// all of it, however long its strings claim to be, before decoding it.
// So before the payload of such a request is decoded, its extent is
// measured by skipping over its fields, reading no further than max.
type boundedCodec struct {
	inner interface {
		remote.Codec
		remote.MetaDecoder
	}
	max int
}

var (
	_ remote.Codec       = boundedCodec{}
	_ remote.MetaDecoder = boundedCodec{}
)

func newBoundedCodec(max int) boundedCodec {
	inner := codec.NewDefaultCodecWithSizeLimit(max).(interface {
		remote.Codec
		remote.MetaDecoder
	})
	return boundedCodec{inner: inner, max: max}
}

// Name implements remote.Codec: the inner codec's.
func (c boundedCodec) Name() string { return c.inner.Name() }

// Encode implements remote.Codec with the inner codec: answers are bounded
// by the service (pages, batches), not here.
func (c boundedCodec) Encode(ctx context.Context, msg remote.Message, out remote.ByteBuffer) error {
	return c.inner.Encode(ctx, msg, out)
}

// Decode implements remote.Codec: DecodeMeta, then DecodePayload.
func (c boundedCodec) Decode(ctx context.Context, msg remote.Message, in remote.ByteBuffer) error {
	if err := c.DecodeMeta(ctx, msg, in); err != nil {
		return err
	}
	return c.DecodePayload(ctx, msg, in)
}

// DecodeMeta decodes the frame's head; a request without a length gets
// its extent measured, and is refused past max.
func (c boundedCodec) DecodeMeta(ctx context.Context, msg remote.Message, in remote.ByteBuffer) error {
	if err := c.inner.DecodeMeta(ctx, msg, in); err != nil {
		return err
	}
	if msg.PayloadLen() > 0 {
		return nil // announced, and checked by the inner codec
	}
	return measure(in, c.max)
}

// DecodePayload implements remote.MetaDecoder with the inner codec.
func (c boundedCodec) DecodePayload(ctx context.Context, msg remote.Message, in remote.ByteBuffer) error {
	return c.inner.DecodePayload(ctx, msg, in)
}

// errTooLarge is the error of a request over the bound.
var errTooLarge = errors.New("request larger than the limit")

// measure skips over the binary Thrift message at the start of in without
// consuming it, and fails once it would need more than max bytes.
func measure(in remote.ByteBuffer, max int) error {
	head, err := in.Peek(8)
	if err != nil {
		return err
	}
	if binary.BigEndian.Uint32(head)&0xffff0000 != 0x80010000 {
		return nil // not binary Thrift: the inner codec decides
	}
	view := &boundedView{in: in, max: max}
	// The message head: version, method name, sequence id.
	nameLen := int(binary.BigEndian.Uint32(head[4:]))
	if err := view.Skip(8); err != nil {
		return err
	}
	if nameLen < 0 || view.Skip(nameLen) != nil || view.Skip(4) != nil {
		return tooLarge(max)
	}
	sd := thrift.NewSkipDecoder(view)
	defer sd.Release()
	if _, err := sd.Next(thrift.STRUCT); err != nil {
		if errors.Is(err, errTooLarge) {
			return tooLarge(max)
		}
		return perrors.NewProtocolError(err)
	}
	return nil
}

func tooLarge(max int) error {
	return perrors.NewProtocolErrorWithType(perrors.InvalidData,
		fmt.Sprintf("invalid data: a request without a frame larger than the limit(%d)", max))
}

// boundedView reads a ByteBuffer ahead without consuming it, up to max
// bytes from where it started.
type boundedView struct {
	in  remote.ByteBuffer
	buf []byte // the bytes peeked so far, from the start
	off int
	max int
}

func (v *boundedView) Peek(n int) ([]byte, error) {
	end := v.off + n
	if n < 0 || end > v.max {
		return nil, errTooLarge
	}
	if end > len(v.buf) {
		// Peek whatever has arrived (as Kitex's own skip decoder does): a
		// Peek across buffer nodes copies, so many small ones would copy
		// the same bytes over and over.
		want := min(max(end, v.in.ReadableLen()), v.max)
		b, err := v.in.Peek(want)
		if err != nil {
			return nil, err
		}
		v.buf = b
	}
	return v.buf[v.off:end], nil
}

func (v *boundedView) Next(n int) ([]byte, error) {
	b, err := v.Peek(n)
	if err == nil {
		v.off += n
	}
	return b, err
}

func (v *boundedView) Skip(n int) error {
	_, err := v.Next(n)
	return err
}

func (v *boundedView) ReadBinary(bs []byte) (int, error) {
	b, err := v.Next(len(bs))
	return copy(bs, b), err
}

func (v *boundedView) ReadLen() int { return v.off }

func (v *boundedView) Release(error) error { return nil }
