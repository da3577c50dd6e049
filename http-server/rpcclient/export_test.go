package rpcclient

import (
	"context"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
)

// SendBatchFor sends reqs in one batch RPC, as a lane does for callers
// (one context per item), and returns each item's error.
func SendBatchFor(c *Client, callers []context.Context, reqs []*rpc.SendRequest) []error {
	return SendBatchWithCredentials(c, callers, reqs, nil)
}

// SendBatchWithCredentials is SendBatchFor with each item's credential.
func SendBatchWithCredentials(c *Client, callers []context.Context, reqs []*rpc.SendRequest, creds []string) []error {
	ctx, cancel := batchContext(callers)
	defer cancel()
	ids := make([]string, len(reqs))
	errs := make([]error, len(reqs))
	for i, o := range c.sendBatch(ctx, reqs, ids, creds) {
		errs[i] = o.err
		if o.err == nil && o.out.Code != 0 {
			errs[i] = businessError(o.out.Code, o.out.Msg)
		}
	}
	return errs
}
