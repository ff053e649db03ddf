package kprod

// TransactionsV2 reports whether p uses transactions v2 (KIP-890), for tests.
func TransactionsV2(p *Producer) bool { return p.txn != nil && p.txn.TV2() }
