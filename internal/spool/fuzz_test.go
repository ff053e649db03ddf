package spool

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzScan feeds arbitrary segment bytes to the recovery scan and the reader: no
// panic, every record returned has a frame whose checksum holds, sequence numbers
// increase, and the reader returns exactly what the scan counted.
func FuzzScan(f *testing.F) {
	var seed []byte
	seed = append(seed, Magic...)
	for i := 0; i < 4; i++ {
		r := testRecord(i)
		r.Seq = uint64(i)
		seed = AppendFrame(seed, r)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-3])
	bad := append([]byte(nil), seed...)
	bad[len(Magic)+20] ^= 1
	f.Add(bad)
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		var seqs []uint64
		res, err := Scan(data, func(off int, r *Record) {
			n, err := DecodeFrame(data[off:], new(Record))
			if err != nil || n != FrameSize(r) {
				t.Fatalf("Scan returned a frame at %d that does not decode: %v (size %d vs %d)", off, err, n, FrameSize(r))
			}
			if len(seqs) > 0 && r.Seq <= seqs[len(seqs)-1] {
				t.Fatalf("seq %d after %d", r.Seq, seqs[len(seqs)-1])
			}
			seqs = append(seqs, r.Seq)
		})
		if err != nil {
			return
		}
		if res.Records != len(seqs) || res.End > len(data) {
			t.Fatalf("result %+v with %d records", res, len(seqs))
		}
		// Through recovery and Next, the same records come back.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segName(0)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, rec, err := Open(Options{Dir: dir, MaxBytes: 1 << 40, Sync: SyncNone})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if rec.Records != len(seqs) {
			t.Fatalf("recovered %d, scanned %d", rec.Records, len(seqs))
		}
		for i := range seqs {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			r, _, err := s.Next(ctx)
			cancel()
			if err != nil || r.Seq != seqs[i] {
				t.Fatalf("record %d: %v seq %v, want %d", i, err, r, seqs[i])
			}
			s.Handed(r.Seq)
		}
		if st := s.Stats(); st.ReadCorrupt != 0 {
			t.Fatalf("%+v", st)
		}
	})
}
