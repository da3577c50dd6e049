// Package pigeonhole is the centre of the message service: the message type,
// the rules for chat ids, send times, cursors and paging, the store contract
// and the one error type every layer speaks. It imports nothing of ours;
// storage engines and wire protocols live in packages around it.
package pigeonhole
