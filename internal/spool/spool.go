package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SyncPolicy is when appended frames are fsynced.
type SyncPolicy int8

const (
	// SyncInterval fsyncs every Options.SyncInterval: a kill -9 loses nothing, power
	// loss loses at most the last interval's records.
	SyncInterval SyncPolicy = iota
	// SyncAlways fsyncs before Append returns (concurrent appends share one fsync):
	// power loss loses nothing Append returned for, as far as the disk honours fsync.
	SyncAlways
	// SyncNone never fsyncs: Append returns once write(2) put the frame in the page
	// cache. A kill -9 of the process loses nothing; an OS crash or power loss may.
	SyncNone
)

// Options configures a spool.
type Options struct {
	// Dir is the spool directory, created if missing.
	Dir string
	// MaxBytes bounds the segment files' total size; Append blocks while it is reached.
	MaxBytes int64
	// SegmentBytes is the size at which a new segment starts; 0 derives it from MaxBytes.
	SegmentBytes int64
	// Sync and SyncInterval are the fsync policy.
	Sync         SyncPolicy
	SyncInterval time.Duration
}

// Errors of Open and Append.
var (
	// ErrLocked: another spool (in this process or another) holds the directory.
	ErrLocked = errors.New("spool: the directory is in use by another producer")
	// ErrFull: the spool stayed at MaxBytes until the deadline.
	ErrFull = errors.New("spool: full")
	// ErrTooLarge: the record's frame alone exceeds MaxBytes.
	ErrTooLarge = errors.New("spool: record larger than the spool's size limit")
	// ErrClosed: the spool is closing.
	ErrClosed = errors.New("spool: closed")
	// ErrSync: fsync failed after the frame was written: it is in the file and may be
	// delivered, but may not survive power loss. Every later Append fails.
	ErrSync = errors.New("spool: fsync failed")
)

// Recovery says what Open found in the directory.
type Recovery struct {
	// Segments and Records count what is left to deliver.
	Segments, Records int
	// Skipped counts records below the saved acknowledged position: delivered before,
	// not sent again.
	Skipped int
	// TornBytes were dropped from segment tails (a frame cut short or damaged at the end).
	TornBytes int64
	// Corrupt counts damaged regions skipped in the middle of segments, CorruptBytes
	// their size; their records are lost.
	Corrupt      int
	CorruptBytes int64
	// BadFiles are segment files that did not start with Magic, renamed to *.bad.
	BadFiles []string
}

// segment is one segment file. Fields are guarded by Spool.mu.
type segment struct {
	first   uint64 // seq of the file name
	path    string
	f       *os.File // write handle (this process's segments); nil for recovered ones
	size    int64    // bytes of complete frames (and Magic)
	synced  int64    // bytes known fsynced; guarded by syncMu
	records int
	acked   int
	sealed  bool // no more appends
	removed bool
	skips   map[int64]int64 // recovered damage: start -> next good frame
	bits    []uint64        // acknowledged seqs, bit seq-first; also seqs absent from a recovered file
	limit   uint64          // one past the last record's seq
}

type waiter struct {
	seq  uint64
	done any
}

// Spool is an open spool directory. Append is safe for concurrent use; Next is for one
// reader goroutine (the feeder).
type Spool struct {
	o    Options
	lock *os.File

	mu           sync.Mutex // guards everything below
	segs         []*segment // oldest first
	active       *segment   // nil until the next append
	nextSeq      uint64
	bytes        int64
	waiting      []waiter // appended, not yet read by Next, in seq order
	lost         []any    // dones of records found damaged while reading
	freed        chan struct{}
	freedWatched bool
	fedSeq       uint64 // every seq below it has been handed over (Handed)
	fedCh        chan struct{}
	closing      chan struct{}
	isClosing    bool
	err          error // sticky: a failed fsync
	enc          []byte
	readCorrupt  int
	ackedAt      time.Time // last write of the acknowledged position
	ackedSaved   uint64    // the position last written

	avail chan struct{} // capacity 1: Append wakes Next

	syncMu   sync.Mutex // serialises fsyncs (group commit)
	stopSync chan struct{}
	syncDone chan struct{}

	rd reader // Next's goroutine only
}

// Open locks dir, recovers its segments (dropping torn tails, skipping damaged frames)
// and returns the spool ready for Append and Next.
func Open(o Options) (*Spool, Recovery, error) {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = min(max(o.MaxBytes/8, 64<<10), 64<<20)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, Recovery{}, err
	}
	lock, err := lockDir(filepath.Join(o.Dir, "LOCK"))
	if err != nil {
		return nil, Recovery{}, err
	}
	s := &Spool{o: o, lock: lock, closing: make(chan struct{}), freed: make(chan struct{}), avail: make(chan struct{}, 1)}
	rec, err := s.recover()
	if err != nil {
		lock.Close()
		return nil, Recovery{}, err
	}
	s.fedSeq = s.nextSeq
	if len(s.segs) > 0 {
		s.fedSeq = s.segs[0].first
	}
	if o.Sync == SyncInterval {
		s.stopSync, s.syncDone = make(chan struct{}), make(chan struct{})
		go s.syncLoop()
	}
	return s, rec, nil
}

func segName(seq uint64) string { return fmt.Sprintf("%020d.seg", seq) }

func (s *Spool) recover() (Recovery, error) {
	var rec Recovery
	ents, err := os.ReadDir(s.o.Dir)
	if err != nil {
		return rec, err
	}
	acked := readAcked(s.o.Dir)
	s.ackedSaved = acked
	// New records must number above the position, or the next recovery would skip them
	// (a spool emptied by acknowledgements has no segment left to number from).
	s.nextSeq = acked
	var names []string
	for _, e := range ents {
		n := e.Name()
		if len(n) == 24 && strings.HasSuffix(n, ".seg") {
			if _, err := strconv.ParseUint(n[:20], 10, 64); err == nil {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	for _, n := range names {
		first, _ := strconv.ParseUint(n[:20], 10, 64)
		s.nextSeq = max(s.nextSeq, first)
		path := filepath.Join(s.o.Dir, n)
		data, err := os.ReadFile(path)
		if err != nil {
			return rec, err
		}
		seg := &segment{first: first, path: path, sealed: true}
		var present []uint64
		res, err := Scan(data, func(_ int, r *Record) { present = append(present, r.Seq) })
		if err != nil {
			if len(data) < len(Magic) && Magic[:len(data)] == string(data) {
				os.Remove(path) // created, magic not complete: a crash at creation
				continue
			}
			rec.BadFiles = append(rec.BadFiles, path)
			if err := os.Rename(path, path+".bad"); err != nil {
				return rec, err
			}
			continue
		}
		rec.Corrupt += res.Corrupt
		rec.CorruptBytes += int64(res.CorruptBytes)
		if res.Records == 0 {
			rec.TornBytes += int64(len(data) - len(Magic))
			os.Remove(path)
			continue
		}
		if res.End < len(data) {
			rec.TornBytes += int64(len(data) - res.End)
			if err := truncate(path, int64(res.End), s.o.Sync != SyncNone); err != nil {
				return rec, err
			}
		}
		seg.size, seg.synced, seg.records, seg.limit = int64(res.End), int64(res.End), res.Records, res.LastSeq+1
		// Every seq of the file's range starts acknowledged: absent ones (damaged) and those
		// below the saved position stay so; the records to deliver are cleared.
		for seq := first; seq <= res.LastSeq; seq++ {
			seg.setBit(seq)
		}
		for _, seq := range present {
			if seq < first {
				continue
			}
			if seq < acked {
				seg.acked++
				rec.Skipped++
				continue
			}
			i := seq - first
			seg.bits[i/64] &^= 1 << (i % 64)
		}
		if seg.acked >= seg.records {
			os.Remove(path) // delivered before the crash, all of it
			s.nextSeq = max(s.nextSeq, res.LastSeq+1)
			continue
		}
		if len(res.Skips) > 0 {
			seg.skips = make(map[int64]int64, len(res.Skips))
			for _, sk := range res.Skips {
				seg.skips[int64(sk[0])] = int64(sk[1])
			}
		}
		s.segs = append(s.segs, seg)
		s.bytes += seg.size
		s.nextSeq = max(s.nextSeq, res.LastSeq+1)
		rec.Segments++
		rec.Records += res.Records - seg.acked
	}
	return rec, nil
}

func truncate(path string, size int64, sync bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	if sync {
		return f.Sync()
	}
	return nil
}

// Append writes r as the next frame (r.Seq is assigned) and remembers done for Next.
// It blocks while the spool is full, until a removal frees space, deadline (ErrFull),
// ctx or Close (ErrClosed). Under SyncAlways it returns after fsync.
func (s *Spool) Append(ctx context.Context, deadline time.Time, r *Record, done any) (uint64, error) {
	n := int64(FrameSize(r))
	if n-frameHeader > MaxFrame || n+int64(len(Magic)) > s.o.MaxBytes {
		return 0, fmt.Errorf("%w: its frame is %d bytes", ErrTooLarge, n)
	}
	var timer *time.Timer
	s.mu.Lock()
	for {
		if s.isClosing {
			s.mu.Unlock()
			return 0, ErrClosed
		}
		if s.err != nil {
			s.mu.Unlock()
			return 0, s.err
		}
		need := n
		if s.rollNeeded(n) {
			need += int64(len(Magic))
		}
		if s.bytes+need <= s.o.MaxBytes {
			break
		}
		s.freedWatched = true
		ch := s.freed
		s.mu.Unlock()
		if timer == nil {
			d := time.Until(deadline)
			if d <= 0 {
				return 0, ErrFull
			}
			timer = time.NewTimer(d)
			defer timer.Stop()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-timer.C:
			return 0, ErrFull
		case <-s.closing:
			return 0, ErrClosed
		}
		s.mu.Lock()
	}
	if s.rollNeeded(n) {
		if err := s.roll(); err != nil {
			s.mu.Unlock()
			return 0, err
		}
	}
	seg := s.active
	r.Seq = s.nextSeq
	s.enc = AppendFrame(s.enc[:0], r)
	if _, err := seg.f.WriteAt(s.enc, seg.size); err != nil {
		seg.f.Truncate(seg.size) // best effort: a partial frame would be a torn tail anyway
		s.mu.Unlock()
		return 0, fmt.Errorf("spool: writing %s: %w", seg.path, err)
	}
	if cap(s.enc) > 1<<20 {
		s.enc = nil
	}
	seg.size += n
	seg.records++
	seg.limit = r.Seq + 1
	if i := r.Seq - seg.first; uint64(len(seg.bits))*64 <= i {
		seg.bits = append(seg.bits, 0)
	}
	s.bytes += n
	s.nextSeq++
	s.waiting = append(s.waiting, waiter{r.Seq, done})
	end := seg.size
	s.mu.Unlock()
	select {
	case s.avail <- struct{}{}:
	default:
	}
	if s.o.Sync == SyncAlways {
		if err := s.syncTo(seg, end); err != nil {
			return r.Seq, err
		}
	}
	return r.Seq, nil
}

// rollNeeded says whether the next frame of n bytes starts a new segment.
func (s *Spool) rollNeeded(n int64) bool {
	a := s.active
	return a == nil || (a.records > 0 && a.size+n > s.o.SegmentBytes)
}

// roll seals the active segment and starts a new one named by the next seq.
func (s *Spool) roll() error {
	if a := s.active; a != nil {
		a.sealed = true
		s.active = nil
		if a.acked >= a.records {
			s.remove(a)
		}
	}
	path := filepath.Join(s.o.Dir, segName(s.nextSeq))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if _, err := f.WriteAt([]byte(Magic), 0); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("spool: %w", err)
	}
	if s.o.Sync != SyncNone {
		// The new file's directory entry must survive power loss as well as its frames.
		if err := syncDir(s.o.Dir); err != nil {
			f.Close()
			os.Remove(path)
			return fmt.Errorf("spool: %w", err)
		}
	}
	seg := &segment{first: s.nextSeq, path: path, f: f, size: int64(len(Magic))}
	s.segs = append(s.segs, seg)
	s.active = seg
	s.bytes += seg.size
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// syncTo fsyncs seg up to at least end; an fsync already past end (another append's)
// serves this one too.
func (s *Spool) syncTo(seg *segment, end int64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if seg.synced >= end {
		return nil
	}
	s.mu.Lock()
	target, f, removed := seg.size, seg.f, seg.removed
	s.mu.Unlock()
	if removed || f == nil {
		return nil // acknowledged already: nothing left to keep
	}
	if err := f.Sync(); err != nil {
		s.mu.Lock()
		removed = seg.removed
		if !removed && s.err == nil {
			s.err = fmt.Errorf("%w: %s: %w", ErrSync, seg.path, err)
		}
		err = s.err
		s.mu.Unlock()
		if removed {
			return nil
		}
		return err
	}
	seg.synced = target
	return nil
}

// syncLoop fsyncs every SyncInterval (SyncInterval policy).
func (s *Spool) syncLoop() {
	defer close(s.syncDone)
	t := time.NewTicker(s.o.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.syncAll()
		case <-s.stopSync:
			return
		}
	}
}

// syncAll fsyncs every segment with unsynced bytes.
func (s *Spool) syncAll() {
	s.mu.Lock()
	type job struct {
		seg *segment
		end int64
	}
	var jobs []job
	for _, seg := range s.segs {
		if seg.f != nil && !seg.removed {
			jobs = append(jobs, job{seg, seg.size})
		}
	}
	s.mu.Unlock()
	for _, j := range jobs {
		s.syncTo(j.seg, j.end) // a failure is sticky in s.err: the next Append reports it
	}
}

// Ack marks the record seq delivered (or definitively failed); a segment whose records
// are all acknowledged is deleted, unless it is the active one and still small.
func (s *Spool) Ack(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].first > seq }) - 1
	if i < 0 {
		return
	}
	seg := s.segs[i]
	if !seg.setBit(seq) {
		return // twice: not counted again
	}
	seg.acked++
	defer s.maybePersistAcked()
	if seg.acked < seg.records {
		return
	}
	if seg == s.active {
		// Deleting the active segment each time the feeder catches up would create and
		// delete a file per few batches; a quarter segment of acknowledged bytes may wait.
		if seg.size < s.o.SegmentBytes/4 {
			return
		}
		seg.sealed = true
		s.active = nil
	}
	s.remove(seg)
}

// remove deletes a fully acknowledged segment. s.mu held.
func (s *Spool) remove(seg *segment) {
	if seg.f != nil {
		seg.f.Close()
	}
	os.Remove(seg.path)
	seg.removed = true
	s.bytes -= seg.size
	s.segs = slices.DeleteFunc(s.segs, func(x *segment) bool { return x == seg })
	if s.freedWatched {
		close(s.freed)
		s.freed = make(chan struct{})
		s.freedWatched = false
	}
}

// Stats is the spool's state.
type Stats struct {
	// Records are spooled and not yet acknowledged; Unread of them not yet handed over.
	Records, Unread int
	// Bytes is the segment files' total size; Segments their number.
	Bytes    int64
	Segments int
	// ReadCorrupt counts damage found while reading (records lost).
	ReadCorrupt int
}

// Stats returns the spool's state.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Bytes: s.bytes, Segments: len(s.segs), ReadCorrupt: s.readCorrupt}
	for _, seg := range s.segs {
		st.Records += seg.records - seg.acked
	}
	if s.nextSeq > s.fedSeq {
		st.Unread = int(s.nextSeq - s.fedSeq) // an upper bound when recovered segments have gaps
	}
	return st
}

// NextSeq is the sequence number the next Append will get: records below it were
// appended before the call.
func (s *Spool) NextSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextSeq
}

// Handed records that the reader is done with the record seq (handed over for
// delivery, or failed): WaitHanded waits for it.
func (s *Spool) Handed(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handedLocked(seq)
}

func (s *Spool) handedLocked(seq uint64) {
	s.fedSeq = max(s.fedSeq, seq+1)
	if s.fedCh != nil {
		close(s.fedCh)
		s.fedCh = nil
	}
}

// WaitHanded waits until Handed was called for the last record below seq (every
// record appended before NextSeq returned seq), or ctx ends.
func (s *Spool) WaitHanded(ctx context.Context, seq uint64) error {
	for {
		s.mu.Lock()
		if s.fedSeq >= seq {
			s.mu.Unlock()
			return nil
		}
		if s.fedCh == nil {
			s.fedCh = make(chan struct{})
		}
		ch := s.fedCh
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// BeginClose makes blocked and later Appends fail with ErrClosed; Next keeps reading.
func (s *Spool) BeginClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.isClosing {
		s.isClosing = true
		close(s.closing)
	}
}

// GiveBack hands back the done of a record Next returned but the reader did not hand
// over: TakeWaiting returns it.
func (s *Spool) GiveBack(done any) {
	if done == nil {
		return
	}
	s.mu.Lock()
	s.lost = append(s.lost, done)
	s.mu.Unlock()
}

// TakeWaiting returns the dones of records appended but never returned by Next (and
// of records lost to damage found while reading), forgetting them.
func (s *Spool) TakeWaiting() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.lost
	for _, w := range s.waiting {
		if w.done != nil {
			out = append(out, w.done)
		}
	}
	s.waiting, s.lost = nil, nil
	return out
}

// Close stops the sync goroutine, fsyncs (unless SyncNone), deletes fully acknowledged
// segments, closes the files and releases the lock. It returns how many records stay
// in the spool for the next producer. Next must have returned.
func (s *Spool) Close() (int, error) {
	s.BeginClose()
	if s.stopSync != nil {
		close(s.stopSync)
		<-s.syncDone
	}
	var err error
	if s.o.Sync != SyncNone {
		s.syncAll()
	}
	s.mu.Lock()
	s.persistAcked()
	err = s.err
	left := 0
	for _, seg := range slices.Clone(s.segs) {
		if seg.acked >= seg.records {
			s.remove(seg)
			continue
		}
		left += seg.records - seg.acked
		if seg.f != nil {
			seg.f.Close()
			seg.f = nil
		}
	}
	s.active = nil
	s.mu.Unlock()
	s.rd.close()
	s.lock.Close()
	return left, err
}
