package gateway

// methodLabels maps each method the gateway recognises (RFC 9110 §9 and
// PATCH) to its metric label. Any other method is answered 501 before a
// handler runs and counted under "other", so clients cannot grow the
// metrics with method strings of their own.
var methodLabels = map[string]string{
	"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT", "DELETE": "DELETE",
	"CONNECT": "CONNECT", "OPTIONS": "OPTIONS", "TRACE": "TRACE", "PATCH": "PATCH",
}

// otherMethod is the metric label of every method not in methodLabels.
const otherMethod = "other"

// methodLabel returns the metric label of method and whether the gateway
// recognises it. The lookup does not allocate.
func methodLabel(method []byte) (string, bool) {
	if label, ok := methodLabels[string(method)]; ok {
		return label, true
	}
	return otherMethod, false
}
