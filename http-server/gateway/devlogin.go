package gateway

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
)

// DevLogin mints tokens for anyone who asks, for trying the web client on a
// developer's machine: POST /api/dev-login {"sub":"a1"} answers
// {"token":"…","expires_in":3600}. It must never face other hosts, so the
// gateway's main serves it only on a loopback listener.
type DevLogin struct {
	// Secret is the HS256 secret the servers verify tokens with.
	Secret []byte
	// Issuer and Audience go into the token when the verifiers check them.
	Issuer, Audience string
	// TTL is how long a token is valid (default DefaultDevLoginTTL).
	TTL time.Duration
}

// DefaultDevLoginTTL is how long a development token is valid.
const DefaultDevLoginTTL = time.Hour

// devLogin answers POST /api/dev-login. Each request counts against the
// caller's (the client address's) send rate.
func (g *gateway) devLogin(c context.Context, ctx *app.RequestContext) {
	if !g.limit(c, ctx, g.sends) {
		return
	}
	body, err := readBody(ctx, g.cfg.MaxBodyBytes)
	if err != nil {
		g.fail(c, ctx, err)
		return
	}
	var in struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		g.fail(c, ctx, pigeonhole.Errorf(pigeonhole.CodeInvalidArgument, "the body must be JSON {\"sub\":\"<member id>\"}"))
		return
	}
	if err := pigeonhole.ValidateMemberID(in.Sub); err != nil {
		g.fail(c, ctx, pigeonhole.Errorf(pigeonhole.CodeInvalidArgument, "sub: %s", pigeonhole.ErrorMessage(err)))
		return
	}
	d := g.cfg.DevLogin
	ttl := d.TTL
	if ttl <= 0 {
		ttl = DefaultDevLoginTTL
	}
	token, err := jwtauth.SignHS256(d.Secret, jwtauth.Claims{Subject: in.Sub, Issuer: d.Issuer, Audience: d.Audience, TTL: ttl}, time.Now())
	if err != nil {
		g.fail(c, ctx, pigeonhole.Wrap(pigeonhole.CodeInternal, err, "the token could not be made"))
		return
	}
	out := jsonBody(ctx, consts.StatusOK)
	out.B = append(out.B, `{"token":`...)
	out.B = appendString(out.B, token)
	out.B = append(out.B, `,"expires_in":`...)
	out.B = strconv.AppendInt(out.B, int64(ttl/time.Second), 10)
	out.B = append(out.B, '}')
}
