package chaos

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TxnHeader is the record header that carries a transactional record's attempt id.
const TxnHeader = "txn"

// readBack reads every partition of topic from offset 0 to its end offset with kgo, an
// independent client, with read_committed or read_uncommitted isolation. Control
// records are fetched (and dropped from the result) so a partition ending in a
// transaction marker is known to be read to its end.
func readBack(ctx context.Context, bootstrap []string, topic string, ends map[int32]int64, committed bool, timeout time.Duration) ([]Read, error) {
	parts := map[int32]kgo.Offset{}
	pending := map[int32]bool{}
	for p, end := range ends {
		parts[p] = kgo.NewOffset().At(0)
		if end > 0 {
			pending[p] = true
		}
	}
	iso := kgo.ReadUncommitted()
	name := "read_uncommitted"
	if committed {
		iso, name = kgo.ReadCommitted(), "read_committed"
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchIsolationLevel(iso), kgo.KeepControlRecords())
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out []Read
	for len(pending) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, fmt.Errorf("chaos: %s read of %s stopped with partitions %v unfinished: %w", name, topic, keys(pending), ctx.Err())
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("%s/%d: %w", t, p, err) })
		if ferr != nil {
			time.Sleep(200 * time.Millisecond) // kgo retries by itself; keep polling
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= ends[r.Partition]-1 {
				delete(pending, r.Partition)
			}
			if r.Attrs.IsControl() {
				return
			}
			rd := Read{Partition: r.Partition, Offset: r.Offset, Value: string(r.Value)}
			for _, h := range r.Headers {
				if h.Key == TxnHeader {
					rd.Txn, _ = strconv.ParseInt(string(h.Value), 10, 64)
				}
			}
			out = append(out, rd)
		})
	}
	return out, nil
}

func keys(m map[int32]bool) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
