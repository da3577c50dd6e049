package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Record is one line of a server's log: both servers write JSON lines
// (log/slog), their frameworks' lines included.
type Record map[string]any

// String is the record's field key as a string ("" when absent or not a
// string).
func (r Record) String(key string) string {
	s, _ := r[key].(string)
	return s
}

// ReadLog returns the lines the last run in the log at path wrote after
// the harness's start banner: each as a Record, and the lines that are not
// a JSON object apart, in order.
func ReadLog(path string) (records []Record, notJSON []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("harness: %w", err)
	}
	log := string(b)
	if i := strings.LastIndex(log, startBanner); i >= 0 {
		log = log[i:]
		if j := strings.IndexByte(log, '\n'); j >= 0 {
			log = log[j+1:]
		} else {
			log = ""
		}
	}
	for line := range strings.Lines(log) {
		var rec Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			notJSON = append(notJSON, strings.TrimSuffix(line, "\n"))
			continue
		}
		records = append(records, rec)
	}
	return records, notJSON, nil
}

// WaitLog waits until the last run of p has logged a record with msg, and
// returns the first such record. It gives up when p exits or ctx ends.
func WaitLog(ctx context.Context, p *Process, msg string) (Record, error) {
	var found Record
	err := poll(ctx, p, func(context.Context) error {
		records, _, err := ReadLog(p.LogPath())
		if err != nil {
			return err
		}
		for _, r := range records {
			if r.String("msg") == msg {
				found = r
				return nil
			}
		}
		return fmt.Errorf("no %q record in the log yet", msg)
	})
	return found, err
}
