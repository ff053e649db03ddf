package kprod

// TransactionsV2 reports whether p uses transactions v2 (KIP-890), for tests.
func TransactionsV2(p *Producer) bool { return p.txn != nil && p.txn.TV2() }

// BufferWaiting reports whether a Send is blocked waiting for buffer.memory, for tests
// that must know it is blocked before they act.
func BufferWaiting(p *Producer) bool { return p.acc.Budget.Exhausted() }
