package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func open(t *testing.T, dir string, o Options) (*Spool, Recovery) {
	t.Helper()
	o.Dir = dir
	if o.MaxBytes == 0 {
		o.MaxBytes = 1 << 30
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = time.Hour
	}
	s, rec, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

func testRecord(i int) *Record {
	r := &Record{Timestamp: int64(1000 + i), Partition: -1, Topic: "t" + fmt.Sprint(i%3),
		Key: []byte(fmt.Sprint("k", i)), Value: bytes.Repeat([]byte{byte(i)}, i%50)}
	switch i % 4 {
	case 1:
		r.Key = nil
	case 2:
		r.Key, r.Value = []byte{}, nil
		r.Partition = int32(i)
	case 3:
		r.Headers = []Header{{Key: "h", Value: []byte("v")}, {Key: "", Value: nil}, {Key: "e", Value: []byte{}}}
	}
	return r
}

func appendN(t *testing.T, s *Spool, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := s.Append(context.Background(), time.Now().Add(time.Minute), testRecord(i), i); err != nil {
			t.Fatal(err)
		}
	}
}

// next reads one record, failing if none is there.
func next(t *testing.T, s *Spool) (Record, any) {
	t.Helper()
	if st := s.Stats(); st.Unread == 0 {
		t.Fatalf("no record to read: %+v", st) // Next would wait
	}
	r, done, err := s.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Handed(r.Seq)
	c := *r
	c.Key, c.Value = bytes.Clone(r.Key), bytes.Clone(r.Value)
	c.Headers = append([]Header(nil), r.Headers...)
	return c, done
}

func sameRecord(t *testing.T, got Record, want *Record) {
	t.Helper()
	w := *want
	w.Seq = got.Seq
	if len(w.Headers) == 0 {
		w.Headers = nil
	}
	if len(got.Headers) == 0 {
		got.Headers = nil
	}
	for i := range got.Headers {
		got.Headers[i].Value = bytes.Clone(got.Headers[i].Value)
	}
	if !reflect.DeepEqual(got, w) || (got.Key == nil) != (w.Key == nil) || (got.Value == nil) != (w.Value == nil) {
		t.Fatalf("got %+v, want %+v", got, w)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, pol := range []SyncPolicy{SyncNone, SyncInterval, SyncAlways} {
		t.Run(fmt.Sprint(pol), func(t *testing.T) {
			dir := t.TempDir()
			s, _ := open(t, dir, Options{Sync: pol, SegmentBytes: 300})
			appendN(t, s, 0, 40)
			for i := 0; i < 40; i++ {
				got, done := next(t, s)
				if got.Seq != uint64(i) || done != i {
					t.Fatalf("record %d: seq %d done %v", i, got.Seq, done)
				}
				sameRecord(t, got, testRecord(i))
			}
			if left, err := s.Close(); left != 40 || err != nil {
				t.Fatalf("Close: %d left, %v", left, err)
			}
			// Reopened, the same records come back in order, without their dones.
			s, rec := open(t, dir, Options{Sync: pol})
			if rec.Records != 40 || rec.TornBytes != 0 || rec.Corrupt != 0 || rec.Segments < 2 {
				t.Fatalf("recovery %+v", rec)
			}
			for i := 0; i < 40; i++ {
				got, done := next(t, s)
				if done != nil {
					t.Fatalf("recovered record %d has done %v", i, done)
				}
				sameRecord(t, got, testRecord(i))
				s.Ack(got.Seq)
			}
			appendN(t, s, 40, 1)
			if got, _ := next(t, s); got.Seq != 40 {
				t.Fatalf("after recovery the next seq is %d, want 40", got.Seq)
			}
			if left, _ := s.Close(); left != 1 {
				t.Fatalf("Close: %d left, want 1", left)
			}
		})
	}
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTornTail cuts the last frame at every byte offset: recovery keeps the frames
// before it and never returns the cut one.
func TestTornTail(t *testing.T) {
	src := t.TempDir()
	s, _ := open(t, src, Options{Sync: SyncNone})
	appendN(t, s, 0, 3)
	s.Close()
	data, err := os.ReadFile(segFiles(t, src)[0])
	if err != nil {
		t.Fatal(err)
	}
	lastLen := FrameSize(testRecord(2))
	lastStart := len(data) - lastLen
	for cut := lastStart; cut < len(data); cut++ {
		dir := t.TempDir()
		path := filepath.Join(dir, segName(0))
		if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		s, rec := open(t, dir, Options{Sync: SyncNone})
		if rec.Records != 2 || rec.TornBytes != int64(cut-lastStart) || rec.Corrupt != 0 {
			t.Fatalf("cut at %d: recovery %+v", cut, rec)
		}
		for i := 0; i < 2; i++ {
			got, _ := next(t, s)
			sameRecord(t, got, testRecord(i))
		}
		if st := s.Stats(); st.Unread != 0 {
			t.Fatalf("cut at %d: %d more records readable", cut, st.Unread)
		}
		s.Close()
		if fi, _ := os.Stat(path); fi.Size() != int64(lastStart) {
			t.Fatalf("cut at %d: file not truncated to %d: %d", cut, lastStart, fi.Size())
		}
	}
}

// TestCorruptMiddle flips a byte in the middle frame: recovery skips it, reports it,
// and delivers the frames around it.
func TestCorruptMiddle(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, Options{Sync: SyncNone})
	appendN(t, s, 0, 3)
	s.Close()
	path := segFiles(t, dir)[0]
	data, _ := os.ReadFile(path)
	mid := len(Magic) + FrameSize(testRecord(0)) + 12 // inside frame 1's body
	data[mid] ^= 0x40
	os.WriteFile(path, data, 0o644)
	s, rec := open(t, dir, Options{Sync: SyncNone})
	defer s.Close()
	if rec.Records != 2 || rec.Corrupt != 1 || rec.CorruptBytes != int64(FrameSize(testRecord(1))) || rec.TornBytes != 0 {
		t.Fatalf("recovery %+v", rec)
	}
	for _, i := range []int{0, 2} {
		got, _ := next(t, s)
		sameRecord(t, got, testRecord(i))
	}
	if st := s.Stats(); st.Unread != 0 {
		t.Fatalf("%+v", st)
	}
}

// TestRecoveryAcks: fully acknowledged segments are deleted; the others come back in
// spool order after a reopen, including their acknowledged records (at-least-once).
func TestRecoveryAcks(t *testing.T) {
	dir := t.TempDir()
	seg := int64(len(Magic) + 3*FrameSize(testRecord(0)))
	s, _ := open(t, dir, Options{Sync: SyncNone, SegmentBytes: seg})
	for i := 0; i < 12; i++ {
		if _, err := s.Append(context.Background(), time.Now().Add(time.Minute), &Record{Partition: -1, Topic: "t", Key: []byte("k0")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// 4 segments of 3. Acknowledge all of segment 1 and record 7 of segment 2, out of order.
	for i := 0; i < 12; i++ {
		next(t, s)
	}
	for _, seq := range []uint64{5, 3, 7, 4} {
		s.Ack(seq)
	}
	if n := len(segFiles(t, dir)); n != 3 {
		t.Fatalf("%d segment files, want 3", n)
	}
	s.Close()
	s, rec := open(t, dir, Options{Sync: SyncNone})
	defer s.Close()
	if rec.Records != 9 || rec.Segments != 3 {
		t.Fatalf("recovery %+v", rec)
	}
	for _, want := range []uint64{0, 1, 2, 6, 7, 8, 9, 10, 11} {
		if got, _ := next(t, s); got.Seq != want {
			t.Fatalf("seq %d, want %d", got.Seq, want)
		}
	}
}

// TestFull: a full spool blocks Append until an acknowledgement frees a segment, and
// fails with ErrFull at the deadline.
func TestFull(t *testing.T) {
	dir := t.TempDir()
	fs := int64(FrameSize(testRecord(0)))
	seg := int64(len(Magic)) + 2*fs
	s, _ := open(t, dir, Options{Sync: SyncNone, SegmentBytes: seg, MaxBytes: 2 * seg})
	defer s.Close()
	for i := 0; i < 4; i++ {
		if _, err := s.Append(context.Background(), time.Now(), testRecord(0), nil); err != nil {
			t.Fatal(i, err)
		}
	}
	if _, err := s.Append(context.Background(), time.Now(), testRecord(0), nil); !errors.Is(err, ErrFull) {
		t.Fatalf("full spool: %v", err)
	}
	if _, err := s.Append(context.Background(), time.Now(), &Record{Topic: "t", Value: make([]byte, 2*seg)}, nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	res := make(chan error, 1)
	go func() {
		_, err := s.Append(context.Background(), time.Now().Add(time.Hour), testRecord(0), "late")
		res <- err
	}()
	// Wait until the append is blocked on space (observable: it watches for a removal).
	for {
		s.mu.Lock()
		w := s.freedWatched
		s.mu.Unlock()
		if w {
			break
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-res:
		t.Fatalf("append returned while full: %v", err)
	default:
	}
	next(t, s)
	s.Ack(0)
	next(t, s)
	s.Ack(1) // segment 0 is complete: deleted, space for the blocked append
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), time.Now(), testRecord(0), nil); err != nil {
		t.Fatal(err) // the last free frame
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := s.Append(ctx, time.Now().Add(time.Hour), testRecord(0), nil)
		res <- err
	}()
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled append: %v", err)
	}
	go func() {
		_, err := s.Append(context.Background(), time.Now().Add(time.Hour), testRecord(0), nil)
		res <- err
	}()
	s.BeginClose()
	if err := <-res; !errors.Is(err, ErrClosed) {
		t.Fatalf("append at close: %v", err)
	}
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, Options{})
	if _, _, err := Open(Options{Dir: dir, MaxBytes: 1 << 20}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	s.Close()
	s2, _ := open(t, dir, Options{})
	s2.Close()
}

// TestWaitHanded: WaitHanded returns once Next read every record appended before.
func TestWaitHanded(t *testing.T) {
	s, _ := open(t, t.TempDir(), Options{Sync: SyncAlways})
	defer s.Close()
	appendN(t, s, 0, 3)
	target := s.NextSeq()
	res := make(chan error, 1)
	go func() { res <- s.WaitHanded(context.Background(), target) }()
	for i := 0; i < 3; i++ {
		next(t, s)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if w := s.TakeWaiting(); len(w) != 0 {
		t.Fatalf("waiting %v", w)
	}
	appendN(t, s, 3, 2)
	if w := s.TakeWaiting(); !reflect.DeepEqual(w, []any{3, 4}) {
		t.Fatalf("waiting %v", w)
	}
}

// TestAckedPosition: the saved acknowledged position makes recovery skip the records
// below it, and only those, whatever order the acknowledgements came in.
func TestAckedPosition(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, Options{Sync: SyncNone})
	appendN(t, s, 0, 10)
	for range 10 {
		next(t, s)
	}
	for _, seq := range []uint64{3, 1, 0, 2, 4, 7} {
		s.Ack(seq)
	}
	s.Ack(7) // twice: counted once
	if left, _ := s.Close(); left != 4 {
		t.Fatalf("Close: %d left, want 4", left)
	}
	s, rec := open(t, dir, Options{Sync: SyncNone})
	if rec.Records != 5 || rec.Skipped != 5 {
		t.Fatalf("recovery %+v: want 5 records (5 to 9; 7 again), 5 skipped", rec)
	}
	for _, want := range []int{5, 6, 7, 8, 9} {
		got, _ := next(t, s)
		sameRecord(t, got, testRecord(want))
	}
	if st := s.Stats(); st.Unread != 0 {
		t.Fatalf("%+v", st)
	}
	// A damaged position file is ignored: everything comes back.
	s.Close()
	os.WriteFile(filepath.Join(dir, ackedFile), []byte("garbage"), 0o644)
	s, rec = open(t, dir, Options{Sync: SyncNone})
	defer s.Close()
	if rec.Records != 10 {
		t.Fatalf("with a damaged position: %+v", rec)
	}
}

// TestAckedPositionEmptySpool: after a spool emptied by acknowledgements, new records
// number above the saved position and come back after a crash.
func TestAckedPositionEmptySpool(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, Options{Sync: SyncNone, SegmentBytes: 1})
	appendN(t, s, 0, 3)
	for range 3 {
		r, _ := next(t, s)
		s.Ack(r.Seq)
	}
	if left, _ := s.Close(); left != 0 || len(segFiles(t, dir)) != 0 {
		t.Fatalf("%d left, files %v", left, segFiles(t, dir))
	}
	s, _ = open(t, dir, Options{Sync: SyncNone})
	appendN(t, s, 3, 3)
	s.Close()
	s, rec := open(t, dir, Options{Sync: SyncNone})
	defer s.Close()
	if rec.Records != 3 || rec.Skipped != 0 {
		t.Fatalf("recovery %+v", rec)
	}
	for i := 3; i < 6; i++ {
		got, _ := next(t, s)
		sameRecord(t, got, testRecord(i))
	}
}
