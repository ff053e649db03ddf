// Package wire holds kprod's hand-written encoding of the producer's hot
// path: RecordBatch v2 (magic 2, KIP-98) built at append time into recycled
// buffers, Produce requests v3 through v12 that reference finished batches
// without copying them, and bounds-checked decoding of Produce responses and
// of record batches.
//
// Everything else on the wire goes through franz-go's kmsg; only the bytes
// touched once per record or once per batch live here, so they can be
// written without allocating. Decoders never panic and never trust a length
// they have not checked against the bytes that remain.
package wire
