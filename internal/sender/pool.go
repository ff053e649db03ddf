package sender

import (
	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/pool"
)

// conn returns node's Produce connection, or nil while the producer's pool dials it or
// backs off (the pool wakes the sender then). It never blocks.
func (s *Sender) conn(node int32) *broker.Conn {
	return s.cfg.Pool.TryGet(pool.Produce, node)
}
