package load

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
)

// chatSet is the chats a run spreads its load over, with the parts of their
// requests built in advance so that a worker only picks and sends. Chats are
// named after the run, so runs against one server never share a chat.
type chatSet struct {
	names       []string // canonical ids, "member-a:member-b"
	members     [][2]string
	sendBodies  [][]byte // one send of a message of the run's text by the first member
	pullPrefix  []string // pull URLs without the cursor
	sendTimes   [][]int64
	runTag      string
	textPadding string
}

// paddingText is what message texts are made of: ASCII, so that a text of
// n bytes is n characters and needs no JSON escaping.
const paddingText = "the quick brown pigeon carries a message over the lazy network; "

// newRunTag returns a short random id for naming a run's chats.
func newRunTag(rng *rand.Rand) string {
	return strconv.FormatUint(rng.Uint64()%(36*36*36*36*36*36), 36)
}

// newChatSet builds n chats for a run tagged tag, whose messages have texts
// of textBytes bytes and whose pulls ask for limit messages.
func newChatSet(c *Client, tag string, n, textBytes, limit int) *chatSet {
	cs := &chatSet{runTag: tag, textPadding: padding(textBytes)}
	for k := range n {
		a := c.creds.member("bench" + tag + "c" + strconv.Itoa(k) + "a")
		b := "bench" + tag + "c" + strconv.Itoa(k) + "b"
		chat := a + ":" + b
		cs.names = append(cs.names, chat)
		cs.members = append(cs.members, [2]string{a, b})
		cs.sendBodies = append(cs.sendBodies, sendBody(chat, cs.textPadding, a))
		cs.pullPrefix = append(cs.pullPrefix, c.PullPrefix(chat, limit))
	}
	cs.sendTimes = make([][]int64, n)
	return cs
}

// len is the number of chats.
func (cs *chatSet) len() int { return len(cs.names) }

// cursor returns the cursor of a pull of chat k at a uniformly random
// message of those prefilled, or 0 (the beginning) when there are none.
func (cs *chatSet) cursor(k int, rng *rand.Rand) int64 {
	times := cs.sendTimes[k]
	if len(times) == 0 {
		return 0
	}
	return times[rng.IntN(len(times))]
}

// pullURL returns the URL of a pull of chat k from cursor.
func (cs *chatSet) pullURL(k int, cursor int64) string {
	return cs.pullPrefix[k] + strconv.FormatInt(cursor, 10)
}

// padding returns n bytes of message text.
func padding(n int) string {
	return strings.Repeat(paddingText, n/len(paddingText)+1)[:n]
}

// sendBody encodes a send request with the original API's three fields.
func sendBody(chat, text, sender string) []byte {
	body, err := json.Marshal(struct {
		Chat   string `json:"chat"`
		Text   string `json:"text"`
		Sender string `json:"sender"`
	}{chat, text, sender})
	if err != nil {
		panic(err) // strings always encode
	}
	return body
}
