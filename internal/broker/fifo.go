package broker

// fifo is a ring of written requests awaiting responses, oldest first. Kafka
// answers a connection's requests in order, so the head is always the request
// the next response belongs to. Its length is bounded by MaxInFlight (each
// entry holds a slot), so it never grows after init in practice.
type fifo struct {
	buf  []*request
	head int
	n    int
}

func (q *fifo) init(size int) { q.buf = make([]*request, max(size, 1)) }

func (q *fifo) len() int { return q.n }

func (q *fifo) push(r *request) {
	if q.n == len(q.buf) {
		grown := make([]*request, 2*len(q.buf))
		for i := range q.n {
			grown[i] = q.at(i)
		}
		q.buf, q.head = grown, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = r
	q.n++
}

// at returns the i-th oldest entry; i must be below len.
func (q *fifo) at(i int) *request { return q.buf[(q.head+i)%len(q.buf)] }

// peek returns the oldest entry or nil.
func (q *fifo) peek() *request {
	if q.n == 0 {
		return nil
	}
	return q.buf[q.head]
}

// pop removes the oldest entry; the queue must not be empty.
func (q *fifo) pop() {
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
}

// drain removes and returns every entry, oldest first.
func (q *fifo) drain() []*request {
	out := make([]*request, 0, q.n)
	for q.n > 0 {
		out = append(out, q.peek())
		q.pop()
	}
	return out
}
